"""Evaluate a deterministic policy on the re-orientation task, per the profile's success rule."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from orient_jax.profiles.spec import TaskSpec
from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig

MAX_CPU_BATCH = 1024  # larger MJX batches can deadlock XLA on CPU


@functools.lru_cache(maxsize=16)
def _episode_runner(apply_fn: Callable, spec: TaskSpec, env_config: RotationEnvConfig):
    """One jitted batch of full episodes per (policy function, profile, env config):
    evaluating new params of the same policy function reuses the compiled program."""
    env = RotationEnv(spec, env_config)
    steps = env.spec.episode_steps

    @jax.jit
    def run(params, keys):
        state = jax.vmap(env.reset)(keys)

        def body(state, _):
            return jax.vmap(env.step)(state, apply_fn(params, state.obs)), None

        state, _ = jax.lax.scan(body, state, None, length=steps)
        tilt = jnp.degrees(jnp.arccos(jnp.clip(state.metrics["cos_tilt"], -1.0, 1.0)))
        return state.info["success"], state.info["success_time"], tilt

    return run


def evaluate_rotation(
    policy: Callable,
    spec: TaskSpec,
    env_config: RotationEnvConfig,
    episodes: int,
    seed: int = 12345,
    batch: int = MAX_CPU_BATCH,
    params: Any = None,
) -> dict:
    """Run ``episodes`` episodes of the task ``spec`` from uniformly random starts; each
    lasts its episode length with noise, disturbances and domain randomization as configured.

    ``policy`` maps raw observations [B, 23] to actions [B, 3]. Pass ``params`` to use
    ``policy(params, obs)`` instead: then repeated evaluations compile once.

    Returns success_rate, episodes, and times to upright (seconds from the reset to
    the start of the successful hold) over the successful episodes.
    """
    if episodes <= 0:
        raise ValueError(f"episodes must be positive, got {episodes}")
    if params is None:  # a closure over its params: compiled for this call only
        run, params = _episode_runner.__wrapped__(lambda _, obs: policy(obs), spec, env_config), ()
    else:
        run = _episode_runner(policy, spec, env_config)

    keys = jax.random.split(jax.random.PRNGKey(seed), episodes)
    chunks = [run(params, keys[i : i + batch]) for i in range(0, episodes, batch)]
    success, times, tilt = (np.concatenate([np.asarray(c[j]) for c in chunks]) for j in range(3))
    ok_times = times[success]
    return {
        "task": spec.name,
        "episodes": int(episodes),
        "success_rate": float(success.mean()),
        "median_time_to_upright_s": float(np.median(ok_times)) if ok_times.size else None,
        "p90_time_to_upright_s": float(np.percentile(ok_times, 90)) if ok_times.size else None,
        "median_final_tilt_deg": float(np.median(tilt)),
        "noise_deg": env_config.noise_deg if not env_config.noise_model else None,
        "noise_model": env_config.noise_model or None,
        "disturbances": env_config.disturbances,
        "domain_randomization": env_config.domain_randomization,
        "seed": seed,
    }
