"""Quaternion math in the spec's convention: (x, y, z, w), rotating body -> world.

All functions take arrays whose last axis is 4 (quaternions) or 3 (vectors) and
broadcast over leading axes. MuJoCo's (w, x, y, z) order is converted only here.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def from_wxyz(q: Array) -> Array:
    return jnp.concatenate([q[..., 1:4], q[..., :1]], axis=-1)


def to_wxyz(q: Array) -> Array:
    return jnp.concatenate([q[..., 3:4], q[..., :3]], axis=-1)


def normalize(q: Array, eps: float = 1e-12) -> Array:
    return q / jnp.maximum(jnp.linalg.norm(q, axis=-1, keepdims=True), eps)


def conjugate(q: Array) -> Array:
    return jnp.concatenate([-q[..., :3], q[..., 3:]], axis=-1)


def multiply(a: Array, b: Array) -> Array:
    """Hamilton product a * b (apply b first, then a)."""
    av, aw = a[..., :3], a[..., 3:]
    bv, bw = b[..., :3], b[..., 3:]
    v = aw * bv + bw * av + jnp.cross(av, bv)
    w = aw * bw - jnp.sum(av * bv, axis=-1, keepdims=True)
    return jnp.concatenate([v, w], axis=-1)


def rotate(q: Array, v: Array) -> Array:
    """Rotate vectors v [...,3] by unit quaternions q [...,4]."""
    qv, qw = q[..., :3], q[..., 3:]
    t = 2.0 * jnp.cross(qv, v)
    return v + qw * t + jnp.cross(qv, t)


def to_matrix(q: Array) -> Array:
    """Rotation matrix [...,3,3] of unit quaternions; columns are the body axes in world."""
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    rows = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    return jnp.stack([jnp.stack(r, axis=-1) for r in rows], axis=-2)


def canonical(q: Array) -> Array:
    """Pick the sign with w >= 0 (q and -q are the same rotation)."""
    return jnp.where(q[..., 3:] < 0.0, -q, q)


def align_sign(q: Array, reference: Array) -> Array:
    """Flip q to the hemisphere of ``reference`` (non-negative dot product)."""
    dot = jnp.sum(q * reference, axis=-1, keepdims=True)
    return jnp.where(dot < 0.0, -q, q)


def from_axis_angle(axis: Array, angle: Array) -> Array:
    """axis [...,3] (unit), angle [...] in radians."""
    half = 0.5 * angle[..., None]
    return jnp.concatenate([axis * jnp.sin(half), jnp.cos(half)], axis=-1)


def from_rotvec(v: Array, eps: float = 1e-9) -> Array:
    angle = jnp.linalg.norm(v, axis=-1)
    axis = v / jnp.maximum(angle, eps)[..., None]
    return from_axis_angle(axis, angle)


def to_rotvec(q: Array, eps: float = 1e-9) -> Array:
    """Rotation vector (axis * angle, angle in [0, pi]) of a unit quaternion."""
    q = canonical(q)
    s = jnp.linalg.norm(q[..., :3], axis=-1)
    angle = 2.0 * jnp.arctan2(s, q[..., 3])
    # angle / sin(angle / 2) -> 2 as s -> 0; use the series there to stay finite.
    scale = jnp.where(s > eps, angle / jnp.maximum(s, eps), 2.0 + s * s / 3.0)
    return q[..., :3] * scale[..., None]


def geodesic_angle(a: Array, b: Array) -> Array:
    """Angle in radians of the rotation taking a to b; q and -q count as equal."""
    dot = jnp.abs(jnp.sum(normalize(a) * normalize(b), axis=-1))
    return 2.0 * jnp.arccos(jnp.clip(dot, 0.0, 1.0))


def random_uniform(key: Array, shape: tuple[int, ...] = ()) -> Array:
    """Uniform rotations on SO(3): a 4D standard normal projected onto S^3 is uniform
    on the sphere, and the double cover maps that to the Haar measure on SO(3)."""
    return normalize(jax.random.normal(key, (*shape, 4)))


def random_axis(key: Array, shape: tuple[int, ...] = ()) -> Array:
    return normalize(jax.random.normal(key, (*shape, 3)))
