"""How an entry point starts a process and JAX: process-wide settings, the compile cache,
several processes, and the backend.

* **Process-wide settings** (``configure_process``), made by the entry point before any
  module imports JAX: every ``python -m experiments.NAME`` makes them when the
  ``experiments`` package is imported, and the tests' conftest makes them too. The
  library itself sets nothing when imported.

Every train script calls ``add_arguments`` on its parser and ``start`` before it touches
JAX, then prints ``Runtime.line()`` as its first log line:

* **Compile cache.** JAX's persistent compilation cache is on, in
  ``$ORIENT_JAX_CACHE`` or else ``$XDG_CACHE_HOME/orient-jax/jax`` (``~/.cache/...``),
  so a second run of the same program loads its executables instead of compiling them.
  ``--no-compile-cache`` turns it off for one run.
* **Several processes** (several machines, or several on one). Either name the job on
  every process, ``--coordinator HOST:PORT --num-processes N --process-id I`` (process
  0 listens on PORT), or pass ``--distributed`` and let JAX detect a cluster manager
  (Slurm, Open MPI, a TPU pod). On the CPU the processes reduce over Gloo. The mesh
  then spans every process's devices (``orient_jax.core.sharding``); process 0 writes
  the run directory and every process writes its shards of each checkpoint.
* **The backend.** A preset made for an accelerator stops with a clear error on the
  CPU unless ``--allow-cpu`` is given: a GPU preset on a CPU takes days, silently.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from pathlib import Path

CACHE_ENV = "ORIENT_JAX_CACHE"
# XLA's CPU backend can deadlock (idle cores, never returns) on MJX programs; each flag
# below removed one such deadlock here. Eigen's multi-threaded path: large MJX batches. The
# concurrency-optimized scheduler: the init of rotation PPO vmapped over 2 seeds of 256
# envs hung every time (docs/benchmarks.md, "Many seeds in one program"), and runs in 3 s
# without it, at no cost to one seed's update. They only touch CPU compilation, so they are
# safe on every backend; XLA reads them when JAX starts.
CPU_XLA_FLAGS = ("--xla_cpu_multi_thread_eigen=false", "--xla_cpu_enable_concurrency_optimized_scheduler=false")
_ADDRESS = re.compile(r"^\[?[A-Za-z0-9_.:-]+\]?:(\d{1,5})$")


started_at: float | None = None  # time.perf_counter() when the entry point configured the process


def configure_process() -> None:
    """The process-wide settings of an entry point; call it before anything imports JAX.

    * ``XLA_FLAGS`` gains each of ``CPU_XLA_FLAGS`` unless JAX is already imported (too
      late to matter) or the variable already sets that flag (the user's choice stands);
    * start-up stays quiet: MJX's note that the optional Warp backend is absent is
      dropped from stdout (``orient_jax._quiet``), so ``--json`` output stays one object.

    It also notes when the process started, for the wall time a run records
    (``process_wall_s``). Idempotent."""
    import sys
    import time

    global started_at
    if started_at is None:
        started_at = time.perf_counter()

    from orient_jax import _quiet

    if "jax" not in sys.modules:
        os.environ["XLA_FLAGS"] = with_cpu_flags(os.environ.get("XLA_FLAGS", ""))
    _quiet.install()


def with_cpu_flags(flags: str) -> str:
    """``flags`` (an ``XLA_FLAGS`` value) with each of ``CPU_XLA_FLAGS`` that it does not set
    already: for a subprocess given its own ``XLA_FLAGS``."""
    missing = [f for f in CPU_XLA_FLAGS if f.split("=")[0] not in flags]
    return " ".join([flags, *missing]).strip()


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "orient-jax" / "jax"


def add_arguments(parser: argparse.ArgumentParser, processes: bool = True) -> None:
    """The runtime flags; ``processes=False`` for a trainer that runs in one process only."""
    title = "runtime (compile cache, backend" + (", several processes)" if processes else ")")
    group = parser.add_argument_group(title)
    cache = default_cache_dir()
    group.add_argument("--no-compile-cache", action="store_true", help=f"do not use JAX's compile cache ({cache})")
    group.add_argument("--allow-cpu", action="store_true", help="run a GPU preset on the CPU anyway")
    if not processes:
        parser.set_defaults(coordinator=None, num_processes=None, process_id=None, distributed=False)
        return
    group.add_argument("--coordinator", metavar="HOST:PORT", help="process 0's address; the same on every process")
    group.add_argument("--num-processes", type=int, metavar="N", help="processes in the job (with --coordinator)")
    group.add_argument("--process-id", type=int, metavar="I", help="this process, 0..N-1 (with --coordinator)")
    group.add_argument(
        "--distributed", action="store_true", help="several processes, found by JAX's cluster auto-detection"
    )


@dataclasses.dataclass(frozen=True)
class Runtime:
    backend: str
    devices: int
    local_devices: int
    device_kind: str
    process_index: int
    process_count: int
    compile_cache: str | None

    @property
    def is_writer(self) -> bool:
        """Whether this process writes the run directory (metrics, plots, the policy)."""
        return self.process_index == 0

    def line(self) -> str:
        """The first log line of every run."""
        cache = self.compile_cache or "off"
        procs = f"; process {self.process_index} of {self.process_count}" if self.process_count > 1 else ""
        return (
            f"backend: {self.backend} ({self.devices} x {self.device_kind}, {self.local_devices} local{procs}); "
            f"compile cache: {cache}"
        )

    def record(self) -> dict:
        """What meta.json holds of it."""
        return dataclasses.asdict(self)


def parse_process_args(args: argparse.Namespace) -> dict | None:
    """The arguments of ``jax.distributed.initialize`` (None: one process). Raises
    ValueError on an incomplete or malformed set."""
    named = {"--coordinator": args.coordinator, "--num-processes": args.num_processes, "--process-id": args.process_id}
    given = [k for k, v in named.items() if v is not None]
    if not given:
        return {} if args.distributed else None
    if args.distributed:
        raise ValueError("give either --distributed (auto-detection) or --coordinator/--num-processes/--process-id")
    if len(given) != len(named):
        missing = ", ".join(k for k in named if k not in given)
        raise ValueError(f"several processes need --coordinator, --num-processes and --process-id; missing {missing}")
    match = _ADDRESS.match(args.coordinator)
    if not match or not 0 < int(match.group(1)) < 65536:
        raise ValueError(f"--coordinator must be HOST:PORT with a port in 1..65535, got {args.coordinator!r}")
    if args.num_processes < 1:
        raise ValueError(f"--num-processes must be >= 1, got {args.num_processes}")
    if not 0 <= args.process_id < args.num_processes:
        raise ValueError(f"--process-id must be in 0..{args.num_processes - 1}, got {args.process_id}")
    return {
        "coordinator_address": args.coordinator,
        "num_processes": args.num_processes,
        "process_id": args.process_id,
    }


def start(args: argparse.Namespace) -> Runtime:
    """Configure JAX from the runtime arguments and return what it runs on. Call it before
    any JAX computation (initializing several processes must come first). Raises
    ValueError on bad arguments or a coordinator that cannot be reached."""
    import jax

    processes = parse_process_args(args)
    cache = None
    if not args.no_compile_cache:
        cache = default_cache_dir()
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ValueError(f"cannot make the compile cache folder {cache} ({e}); pass --no-compile-cache") from None
        jax.config.update("jax_compilation_cache_dir", str(cache))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    else:
        jax.config.update("jax_enable_compilation_cache", False)
    if processes is not None:
        # Gloo carries the CPU backend's cross-process collectives; GPUs use NCCL regardless.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        try:
            jax.distributed.initialize(**processes)
        except (RuntimeError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ValueError(f"could not start {processes.get('num_processes', 'the')} processes: {first}") from None
    global _started
    _started = describe(str(cache) if cache else None)
    return _started


_started: Runtime | None = None  # what ``start`` set up, for meta.json


def describe(compile_cache: str | None) -> Runtime:
    import jax

    devices = jax.devices()
    return Runtime(
        backend=jax.default_backend(),
        devices=len(devices),
        local_devices=jax.local_device_count(),
        device_kind=devices[0].device_kind,
        process_index=jax.process_index(),
        process_count=jax.process_count(),
        compile_cache=compile_cache,
    )


def current() -> Runtime:
    """The runtime ``start`` set up; without it (a library call), JAX's as it is now."""
    if _started is not None:
        return _started
    import jax

    return describe(jax.config.jax_compilation_cache_dir if jax.config.jax_enable_compilation_cache else None)


def check_backend(runtime: Runtime, preset: str, accelerator_presets, allow_cpu: bool) -> None:
    """Refuse an accelerator preset on the CPU backend (ValueError), unless ``allow_cpu``."""
    if preset in accelerator_presets and runtime.backend == "cpu" and not allow_cpu:
        raise ValueError(
            f"preset {preset!r} is sized for a GPU, but JAX runs on the CPU here (no CUDA jaxlib, or no GPU "
            "visible: see 'Which JAX you get' in the README); pass --allow-cpu to run it anyway"
        )
