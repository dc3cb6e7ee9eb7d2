"""A fixed-size replay buffer that lives in device memory, as a pytree.

Transitions are written in a ring: once full, the oldest are overwritten. ``add``
takes a batch with a validity mask, so vmapped envs that have nothing to add this
step (masked rows) leave the buffer untouched; everything stays jittable.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct


@struct.dataclass
class ReplayBuffer:
    data: Any  # pytree, every leaf [capacity, ...]
    position: jax.Array  # [] int32, next slot to write
    size: jax.Array  # [] int32, filled slots

    @classmethod
    def create(cls, capacity: int, example: Any) -> ReplayBuffer:
        """``example``: one transition (a pytree without the batch axis)."""
        data = jax.tree.map(lambda x: jnp.zeros((capacity, *jnp.shape(x)), jnp.asarray(x).dtype), example)
        return cls(data, jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))

    @property
    def capacity(self) -> int:
        return jax.tree.leaves(self.data)[0].shape[0]

    def add(self, batch: Any, valid: jax.Array | None = None) -> ReplayBuffer:
        """Append the rows of ``batch`` (leaves [n, ...]) whose ``valid`` flag is set, in order."""
        n = jax.tree.leaves(batch)[0].shape[0]
        valid = jnp.ones((n,), bool) if valid is None else valid.astype(bool)
        offset = jnp.cumsum(valid) - 1
        slots = jnp.where(valid, (self.position + offset) % self.capacity, self.capacity)  # out of range: dropped
        data = jax.tree.map(lambda buf, x: buf.at[slots].set(x, mode="drop"), self.data, batch)
        count = valid.sum(dtype=jnp.int32)
        return ReplayBuffer(
            data, (self.position + count) % self.capacity, jnp.minimum(self.size + count, self.capacity)
        )

    def sample_indices(self, key: jax.Array, batch_size: int) -> jax.Array:
        """Uniform over the filled slots (with replacement). Call only once ``size > 0``."""
        return jax.random.randint(key, (batch_size,), 0, jnp.maximum(self.size, 1))

    def sample(self, key: jax.Array, batch_size: int) -> Any:
        idx = self.sample_indices(key, batch_size)
        return jax.tree.map(lambda buf: buf[idx], self.data)

    def written_after(self, idx: jax.Array) -> jax.Array:
        """How many rows were written after slot ``idx`` (so ``idx + k`` is newer data for k up to it)."""
        return (self.position - 1 - idx) % self.capacity
