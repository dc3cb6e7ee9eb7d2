"""Humanoid physics steps/s per MJX implementation (``jax`` | ``warp``) beside native MuJoCo,
and how far each lands from native MuJoCo over a short horizon.

    python -m experiments.physics_impl --impl jax warp --physics gymnasium floor4 \\
        --batches 4096 8192 16384 32768 --out runs/benchmark/physics_impl.jsonl

Each row is one JSON line, appended to ``--out`` as soon as it is measured (a run cut
short keeps what it measured):

* ``physics``: raw ``mjx.step`` under ``jax.vmap`` and ``lax.scan`` (no env wrapper, no
  policy) on the named model (``orient_jax.tasks.humanoid.env.mjx_model``), uniform random
  controls, compile apart, best of three;
* ``native``: ``mujoco.rollout`` over one thread per core on Gymnasium's own model (PGS,
  RK4), the physics Gymnasium steps;
* ``parity``: one start state (Gymnasium's reset noise), the same controls, N physics
  steps in native MuJoCo on the same model and in MJX under each implementation; the
  largest ``qpos`` gap at each checkpoint step.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from orient_jax.tasks.humanoid.env import IMPLS


def _emit(out: Path | None, row: dict) -> None:
    line = json.dumps(row)
    print(line, flush=True)
    if out is not None:
        with out.open("a") as f:
            f.write(line + "\n")


def _batched_data(m, d0, batch: int, seed: int):
    """``batch`` copies of ``d0`` with Gymnasium's reset noise on qpos and qvel."""
    import jax
    import jax.numpy as jnp

    def init(key):
        k1, k2 = jax.random.split(key)
        qpos = jnp.asarray(m.qpos0) + jax.random.uniform(k1, (m.nq,), minval=-0.01, maxval=0.01)
        qvel = jax.random.uniform(k2, (m.nv,), minval=-0.01, maxval=0.01)
        return d0.replace(qpos=qpos, qvel=qvel)

    return jax.jit(jax.vmap(init))(jax.random.split(jax.random.PRNGKey(seed), batch))


def physics_rate(physics: str, impl: str, batch: int, steps: int, repeats: int = 3) -> dict:
    import jax
    from mujoco import mjx

    from orient_jax.tasks.humanoid.env import ACTION_LIMIT, mjx_model, put_physics

    m = mjx_model(physics)
    mx, d0 = put_physics(m, impl, worlds=batch)
    data = _batched_data(m, d0, batch, seed=0)

    @jax.jit
    def rollout(data, key):
        def body(d, k):
            ctrl = jax.random.uniform(k, (batch, m.nu), minval=-ACTION_LIMIT, maxval=ACTION_LIMIT)
            return jax.vmap(mjx.step, in_axes=(None, 0))(mx, d.replace(ctrl=ctrl)), None

        return jax.lax.scan(body, data, jax.random.split(key, steps))[0]

    t0 = time.perf_counter()
    data = jax.block_until_ready(rollout(data, jax.random.PRNGKey(1)))
    compile_s = time.perf_counter() - t0
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        data = jax.block_until_ready(rollout(data, jax.random.PRNGKey(2 + i)))
        times.append(time.perf_counter() - t0)
    finite = bool(jax.numpy.isfinite(data.qpos).all())
    return {"kind": "physics", "physics": physics, "impl": impl, "batch": batch, "steps": steps,
            "compile_s": round(compile_s, 2), "physics_steps_per_s": batch * steps / min(times),
            "finite": finite, "device": jax.devices()[0].device_kind}  # fmt: skip


def native_rate(batch: int, steps: int, nthread: int | None = None, repeats: int = 2) -> dict:
    import mujoco
    import numpy as np
    from mujoco import rollout as mj_rollout

    from orient_jax.tasks.humanoid.env import ACTION_LIMIT, gymnasium_model

    m = gymnasium_model()
    nthread = nthread or os.cpu_count() or 1
    datas = [mujoco.MjData(m) for _ in range(nthread)]
    d = mujoco.MjData(m)
    state = np.empty(mujoco.mj_stateSize(m, mujoco.mjtState.mjSTATE_FULLPHYSICS))
    mujoco.mj_getState(m, d, state, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    init = np.tile(state, (batch, 1))
    ctrl = np.random.default_rng(0).uniform(-ACTION_LIMIT, ACTION_LIMIT, (batch, steps, m.nu))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        mj_rollout.rollout([m] * batch, datas, init, ctrl, nstep=steps)
        times.append(time.perf_counter() - t0)
    return {"kind": "native", "physics": "gymnasium (PGS, RK4)", "batch": batch, "steps": steps,
            "threads": nthread, "physics_steps_per_s": batch * steps / min(times)}  # fmt: skip


def parity(physics: str, impls: list[str], steps: int, checkpoints=(10, 50, 100, 300)) -> dict:
    """Largest |qpos| gap to native MuJoCo on the same model, from one noisy start."""
    import jax
    import mujoco
    import numpy as np
    from mujoco import mjx

    from orient_jax.tasks.humanoid.env import ACTION_LIMIT, mjx_model, put_physics

    m = mjx_model(physics)
    rng = np.random.default_rng(0)
    qpos = m.qpos0 + rng.uniform(-0.01, 0.01, m.nq)
    qvel = rng.uniform(-0.01, 0.01, m.nv)
    ctrl = rng.uniform(-ACTION_LIMIT, ACTION_LIMIT, (steps, m.nu))
    d = mujoco.MjData(m)
    d.qpos[:], d.qvel[:] = qpos, qvel
    native = []
    for t in range(steps):
        d.ctrl[:] = ctrl[t]
        mujoco.mj_step(m, d)
        native.append(d.qpos.copy())
    native = np.stack(native)
    row = {"kind": "parity", "physics": physics, "steps": steps}
    for impl in impls:
        mx, dx = put_physics(m, impl)
        dx = dx.replace(qpos=qpos, qvel=qvel)

        @jax.jit
        def roll(mx, dx):
            def body(dx, u):
                dx = mjx.step(mx, dx.replace(ctrl=u))
                return dx, dx.qpos

            return jax.lax.scan(body, dx, ctrl)[1]

        gap = np.abs(np.asarray(roll(mx, dx)) - native).max(axis=1)
        row[impl] = {str(c): float(gap[c - 1]) for c in checkpoints if c <= steps}
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", nargs="+", choices=IMPLS, default=["jax"])
    parser.add_argument("--physics", nargs="+", default=["gymnasium", "floor4"])
    parser.add_argument("--batches", nargs="*", type=int, default=[4096, 8192, 16384, 32768])
    parser.add_argument("--steps", type=int, default=100, help="physics steps per timed call")
    parser.add_argument("--native-batch", type=int, default=0, help="native MuJoCo rollout rows (0: skip)")
    parser.add_argument("--parity-steps", type=int, default=0, help="physics steps of the parity check (0: skip)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    from orient_jax.tasks.humanoid.env import PHYSICS, check_impl

    try:
        for p in args.physics:
            if p not in PHYSICS:
                raise ValueError(f"--physics must be among {PHYSICS}, got {p!r}")
        for impl in args.impl:
            check_impl(impl)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
    import jax

    _emit(args.out, {"kind": "host", "jax": jax.__version__, "backend": jax.default_backend(),
                     "devices": [d.device_kind for d in jax.devices()], "cpu_count": os.cpu_count()})  # fmt: skip
    for impl in args.impl:  # one implementation's compiles together (warp caches its kernels)
        for physics in args.physics:
            for batch in args.batches:
                try:
                    _emit(args.out, physics_rate(physics, impl, batch, args.steps))
                except Exception as e:  # noqa: BLE001 - one failed size must not lose the others
                    _emit(args.out, {"kind": "physics", "physics": physics, "impl": impl, "batch": batch,
                                     "error": f"{type(e).__name__}: {str(e)[:300]}"})  # fmt: skip
    if args.native_batch:
        _emit(args.out, native_rate(args.native_batch, args.steps))
    if args.parity_steps:
        for physics in args.physics:
            _emit(args.out, parity(physics, args.impl, args.parity_steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
