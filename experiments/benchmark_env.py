"""Env-only throughput of the MJX re-orientation env: control steps/s at several batch sizes.

    python -m experiments.benchmark_env --batches 256 1024 --steps 64

Random actions, auto-reset on, noise/disturbances/randomization on: the training
configuration without the policy. Each batch size compiles once, warms up once, then
is timed over --repeats runs; the best run is reported (and the median).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import jax

from orient_jax.envs.rotation import RotationEnv
from orient_jax.envs.wrappers import wrap_for_training
from orient_jax.spec import TASK


def measure(batch: int, steps: int, repeats: int) -> dict:
    env = wrap_for_training(RotationEnv(), TASK.episode_steps)

    @jax.jit
    def rollout(state, key):
        def body(state, key):
            action = jax.random.uniform(key, (batch, env.action_size), minval=-1.0, maxval=1.0)
            return env.step(state, action), None

        return jax.lax.scan(body, state, jax.random.split(key, steps))[0]

    state = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(0), batch))
    t0 = time.perf_counter()
    state = jax.block_until_ready(rollout(state, jax.random.PRNGKey(1)))
    compile_s = time.perf_counter() - t0
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        state = jax.block_until_ready(rollout(state, jax.random.PRNGKey(2 + i)))
        times.append(time.perf_counter() - t0)
    best, median = min(times), statistics.median(times)
    return {
        "batch": batch,
        "steps": steps,
        "compile_s": round(compile_s, 2),
        "control_steps_per_s": round(batch * steps / best),
        "control_steps_per_s_median": round(batch * steps / median),
        "physics_steps_per_s": round(batch * steps * TASK.physics.substeps / best),
        "device": str(jax.devices()[0]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    for batch in args.batches:
        print(json.dumps(measure(batch, args.steps, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
