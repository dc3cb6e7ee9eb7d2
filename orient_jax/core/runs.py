"""Run directories: resolved config, provenance, metrics JSONL and plots."""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import importlib
import importlib.metadata
import json
import math
import os
import platform
import signal
import subprocess
import sys
from pathlib import Path

import jax

from orient_jax.core import dataclass_config, launch

PACKAGES = (
    "jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "brax", "mujoco", "mujoco-mjx", "numpy", "jax2onnx",
)  # fmt: skip


LOCK_FILE = "run.lock"
_held: dict[Path, object] = {}  # run directories this process holds, with their open lock files


class RunInUse(ValueError):
    """Another process is writing to the run directory."""


def lock_run(run_dir: str | Path) -> None:
    """One writer per run directory: an exclusive ``flock`` on ``RUN/run.lock``, held until
    this process exits. The OS drops it on any exit, SIGKILL included, so a stale lock
    file never blocks anyone. Re-entrant within a process (a resume after a stop in the
    same process); a second process gets ``RunInUse`` naming the holder's PID at once."""
    key = Path(run_dir).resolve()
    if key in _held:
        return
    lock = open(key / LOCK_FILE, "a+")  # noqa: SIM115  (held open for the life of the process)
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.seek(0)
        holder = lock.read().strip()
        lock.close()
        who = f"process {holder}" if holder else "another process"
        raise RunInUse(
            f"{run_dir} is in use by {who} (a run writing to it now); wait for it to finish or stop it, "
            "or give another --run"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    _held[key] = lock


def new_run_dir(root: str | Path, name: str) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(root) / f"{name}-{stamp}"
    path.mkdir(parents=True, exist_ok=False)
    return path


def read_run_config(run_dir: str | Path, cls: type, kind: str):
    """The (experiment, preset) a run directory was started with, from its config.json."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {run_dir} a {kind} run directory?")
    data = json.loads(path.read_text())
    return dataclass_config.from_dict(cls, data["experiment"]), data["preset"]


def config_record(exp, preset: str) -> dict:
    """What a run's config.json holds: the preset it started from, the resolved experiment, and
    the experiment's class (``module:name``), through which an older saved experiment is read
    so that a field added since, at its default, is no difference."""
    kind = f"{type(exp).__module__}:{type(exp).__qualname__}"
    return {"preset": preset, "experiment": dataclass_config.to_dict(exp), "type": kind}


def same_experiment(saved: dict, config: dict) -> bool:
    """Whether a saved config record holds ``config``'s experiment, reading the saved one
    through ``config``'s experiment class where it names one (see ``config_record``)."""
    return read_through(saved.get("experiment"), experiment_class(config)) == config.get("experiment")


def experiment_class(config: dict) -> type | None:
    """The class a config record names (``config_record``'s ``type``), or None."""
    module, _, name = str(config.get("type") or "").partition(":")
    try:
        return getattr(importlib.import_module(module), name) if name else None
    except (ImportError, AttributeError):
        return None


def read_through(experiment, cls: type | None):
    """A saved experiment as ``cls`` reads it today, so that a field added since, at its
    default, is no difference; unchanged where there is no class or it does not read."""
    if cls is None or not isinstance(experiment, dict):
        return experiment
    try:
        return dataclass_config.to_dict(dataclass_config.from_dict(cls, experiment))
    except (TypeError, ValueError):
        return experiment  # unreadable today: it differs


def refuse_other_config(run_dir: Path, config: dict, cls: type) -> None:
    """A run directory is resumed only with the experiment it was started with. The saved
    experiment is read through ``cls`` first, so a field added since (at its default)
    is no difference."""
    existing = Path(run_dir) / "config.json"
    if not existing.exists():
        return
    if read_through(json.loads(existing.read_text())["experiment"], cls) != config["experiment"]:
        raise ValueError(
            f"{run_dir} holds a run with a different config; resume it without overrides, or start a new run"
        )


def prepare_run(run_dir: Path, exp, preset: str, inputs: dict[str, dict] | None = None) -> dict:
    """Check that ``run_dir`` holds no other experiment, then write its config.json and
    meta.json. Returns the config record (what every checkpoint saves with it)."""
    config = config_record(exp, preset)
    if is_writer():  # with several processes, process 0 writes the run directory
        refuse_other_config(run_dir, config, type(exp))
        write_metadata(run_dir, config, exp.seed, inputs)
    return config


SEED_MAX = 2**32 - 1  # a seed becomes a uint32 PRNG key (jax.random.PRNGKey)


def check_seed(exp) -> None:
    """Refuse a seed that cannot be a PRNG key: a whole number in [0, 2^32 - 1]."""
    seed = getattr(exp, "seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed must be a whole number in [0, {SEED_MAX}], got {seed!r}")


def is_writer() -> bool:
    """Whether this process writes run directories: the only process, or process 0 of several."""
    return jax.process_index() == 0


def barrier(name: str) -> None:
    """Wait here for every process of a multi-process run (nothing in a single process)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(f"orient_jax.{name}")


def resolve_experiment(run: Path | None, preset: str, overrides: list[str], cls: type, kind: str, get_preset):
    """The (experiment, preset) a train command works on: ``run``'s saved ones when it has a
    config.json (plus ``overrides``, which ``refuse_other_config`` then rejects if they
    change it), otherwise ``get_preset(preset)`` plus ``overrides``. Reads, never writes;
    a bad preset or override raises ValueError. With several processes
    (``orient_jax.core.launch``) every process must name the same ``run``."""
    if jax.process_count() > 1 and run is None:
        raise ValueError(
            f"a run of {jax.process_count()} processes needs --run DIR, the same folder on every process "
            "(on several machines, a shared filesystem)"
        )
    if run is not None and (run / "config.json").exists():
        exp, preset = read_run_config(run, cls, kind)
    else:
        exp = get_preset(preset)
    return dataclass_config.apply_overrides(exp, overrides), preset


def claim_run_dir(run: Path | None, runs_root: Path, preset: str) -> Path:
    """``run``, or a new directory under ``runs_root`` named after the preset, made and
    locked by process 0 (``RunInUse``, a ValueError, when another process writes to it).
    Every process waits here until all have read the folder; from then on process 0
    writes it."""
    run_dir = run or new_run_dir(runs_root, preset)
    if is_writer():
        run_dir.mkdir(parents=True, exist_ok=True)
        lock_run(run_dir)
    barrier("claim_run_dir")
    return run_dir


def git_sha() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, cwd=Path(__file__).parent,
        ).stdout.strip()  # fmt: skip
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def file_record(path: str | Path) -> dict:
    """A run's input file as provenance: its path and sha256 (None when it is missing)."""
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return {"path": str(path), "sha256": digest}


def write_metadata(run_dir: Path, config: dict, seed: int, inputs: dict[str, dict] | None = None) -> None:
    """Write config.json and meta.json (provenance). Overwrites meta on resume, never config.
    ``inputs`` names the files the run read, as ``file_record``s (e.g. a dataset's manifest,
    which holds every shard's sha256), so a re-run can tell whether it reads the same data."""
    write_atomically(run_dir / "config.json", json.dumps(config, indent=2) + "\n")
    meta = {
        "seed": seed,
        "git_sha": git_sha(),
        "argv": sys.argv,
        "python": platform.python_version(),
        "packages": package_versions(),
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "process_count": jax.process_count(),
        "runtime": launch.current().record(),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "inputs": inputs or {},
    }
    write_atomically(run_dir / "meta.json", json.dumps(meta, indent=2) + "\n")


def write_atomically(path: Path, text: str) -> None:
    """A reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def non_finite(row: dict) -> list[str]:
    """The keys of ``row`` whose value is, or holds, a non-finite float."""

    def bad(v) -> bool:
        if isinstance(v, float):
            return not math.isfinite(v)
        return isinstance(v, (list, tuple)) and any(bad(x) for x in v)

    return [k for k, v in row.items() if bad(v)]


class MetricsLog:
    """Append-only JSONL, one object per update, keyed by ``update``."""

    def __init__(self, path: Path):
        self.path = path

    def truncate_after(self, update: int) -> None:
        """Drop rows newer than a restored checkpoint, so a resumed run has no duplicates."""
        if not self.path.exists():
            return
        rows = [r for r in self.read() if r["update"] <= update]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def write(self, row: dict) -> None:
        """A non-finite number is refused (ValueError): it is not JSON, and ``loop.run``
        stops a run on one before it gets here. None is how a row says "no value"."""
        text = json.dumps(row, allow_nan=False)
        with self.path.open("a") as f:
            f.write(text + "\n")

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        rows = []
        for line in self.path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
        return rows


def restore(run_dir: Path, ckpt, state, config: dict):
    """Restore the latest checkpoint of ``run_dir`` into ``state`` (a fresh state of the
    same structure), refusing one made with a different experiment config. Returns
    (state, restored step or None). A step that does not restore is moved aside and the
    one before it tried (``Checkpoints.restore_latest_good``)."""
    latest = ckpt.latest_step()
    saved = ckpt.saved_config(latest) if latest is not None else None
    if saved is not None and not same_experiment(saved, config):
        # Checked before any array is read: a checkpoint of another config is not broken, and
        # is never moved aside (its run's config.json was edited, or another run's is here).
        ours = read_through(saved.get("experiment"), experiment_class(config))
        keys = differing_keys(ours or {}, config.get("experiment") or {})
        raise ValueError(
            f"{run_dir}: its checkpoint {latest} was made with another config (differs in {', '.join(keys)}); "
            "the checkpoint is left as it is: undo the change to resume, or start a new run"
        )
    found = ckpt.restore_latest_good(state)
    if found is None:
        return state, None
    state, saved, start = found
    if not same_experiment(saved, config):
        raise ValueError(f"{run_dir} was started with a different config; start a new run instead")
    return state, start


def differing_keys(a: dict, b: dict) -> list[str]:
    """The dotted keys whose values differ between two nested dicts."""
    return [key for key, _, _ in dataclass_config.differences(a, b)]


def plot_curves(rows: list[dict], keys: tuple[str, ...], png: Path, x_key: str = "env_steps") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = tuple(k for k in keys if any(k in r for r in rows))
    if not rows or not keys:
        return
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        pts = [(r[x_key], r[key]) for r in rows if r.get(key) is not None]  # None: no value that update
        ax.plot([p[0] for p in pts], [p[1] for p in pts])
        ax.set_xlabel(x_key.replace("_", " "))
        ax.set_title(key.replace("_", " "))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Treat SIGTERM (a scheduler pre-empting the job) like Ctrl-C: checkpoint, then stop."""

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def signals_held():
    """Hold SIGINT and SIGTERM for the block: the list it yields collects the signals that
    came, and the caller acts on them once the block is done (work that cannot be stopped
    halfway, e.g. a jitted update that consumes its donated state)."""
    held: list[int] = []

    def hold(signum, frame):
        held.append(signum)

    try:
        previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield held
        return
    try:
        yield held
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
