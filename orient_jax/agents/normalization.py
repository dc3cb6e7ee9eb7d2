"""Running observation statistics (mean and variance), merged batch by batch."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct


@struct.dataclass
class RunningStats:
    mean: jax.Array  # [obs]
    var: jax.Array  # [obs]
    count: jax.Array  # [] float32

    @classmethod
    def create(cls, size: int) -> RunningStats:
        return cls(jnp.zeros(size), jnp.ones(size), jnp.zeros(()))

    def update(self, batch: jax.Array) -> RunningStats:
        """Merge a batch [..., obs] into the statistics (Chan et al. parallel update)."""
        batch = batch.reshape(-1, batch.shape[-1])
        n = batch.shape[0]
        b_mean = batch.mean(axis=0)
        b_var = batch.var(axis=0)
        total = self.count + n
        delta = b_mean - self.mean
        mean = self.mean + delta * n / total
        m2 = self.var * self.count + b_var * n + delta**2 * self.count * n / total
        return RunningStats(mean, m2 / total, total)

    def normalize(self, x: jax.Array, clip: float = 10.0) -> jax.Array:
        return jnp.clip((x - self.mean) / jnp.sqrt(self.var + 1e-8), -clip, clip)
