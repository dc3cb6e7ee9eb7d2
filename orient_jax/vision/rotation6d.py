"""The continuous 6D rotation representation (Zhou et al., CVPR 2019).

A rotation matrix is represented by its first two columns. Any 6-vector maps back to a
rotation by Gram-Schmidt, a continuous map, so a network regressing it never meets the
discontinuity that quaternions (q and -q) or Euler angles have.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def to_matrix(six: Array, eps: float = 1e-8) -> Array:
    """``[..., 6]`` (two stacked 3-vectors a, b) -> rotation matrices ``[..., 3, 3]``.

    Columns: e1 = a/|a|, e2 = the part of b orthogonal to e1, normalized, e3 = e1 x e2.
    """
    a, b = six[..., :3], six[..., 3:]
    e1 = a / jnp.sqrt(jnp.sum(a * a, axis=-1, keepdims=True) + eps)
    b = b - jnp.sum(e1 * b, axis=-1, keepdims=True) * e1
    e2 = b / jnp.sqrt(jnp.sum(b * b, axis=-1, keepdims=True) + eps)
    e3 = jnp.cross(e1, e2)
    return jnp.stack([e1, e2, e3], axis=-1)


def from_matrix(m: Array) -> Array:
    """Rotation matrices ``[..., 3, 3]`` -> their 6D representation (first two columns)."""
    return jnp.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)
