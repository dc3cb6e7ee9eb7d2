"""A probe env with a known answer, for checking that an agent really learns.

Each episode is one step: the observation is a random target in [-0.8, 0.8]^3 and
the reward is 1 - |action - target|^2, so the optimal deterministic action equals the
observation. Pure JAX, compiles in a second, and shares the Brax Env API.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from brax.envs import base

TARGET_RANGE = 0.8


class TargetProbeEnv(base.Env):
    size = 3

    @property
    def observation_size(self) -> int:
        return self.size

    @property
    def action_size(self) -> int:
        return self.size

    @property
    def backend(self) -> str:
        return "jax"

    def reset(self, rng: jax.Array) -> base.State:
        key_target, key_next = jax.random.split(rng)
        target = jax.random.uniform(key_target, (self.size,), minval=-TARGET_RANGE, maxval=TARGET_RANGE)
        zero = jnp.zeros(())
        return base.State(None, target, zero, zero, {"success": zero}, {"rng": key_next})

    def step(self, state: base.State, action: jax.Array) -> base.State:
        error = jnp.sum((jnp.clip(action, -1.0, 1.0) - state.obs) ** 2)
        return state.replace(
            reward=1.0 - error,
            done=jnp.ones(()),
            metrics={"success": (error < 0.01).astype(jnp.float32)},
        )
