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
    # atan2 of the relative rotation's sine and cosine parts, not arccos of a dot product:
    # arccos is flat near 1, so in float32 it cannot resolve angles below ~0.05 degrees.
    rel = multiply(conjugate(normalize(a)), normalize(b))
    return 2.0 * jnp.arctan2(jnp.linalg.norm(rel[..., :3], axis=-1), jnp.abs(rel[..., 3]))


def random_uniform(key: Array, shape: tuple[int, ...] = ()) -> Array:
    """Uniform rotations on SO(3): a 4D standard normal projected onto S^3 is uniform
    on the sphere, and the double cover maps that to the Haar measure on SO(3)."""
    return normalize(jax.random.normal(key, (*shape, 4)))


def random_axis(key: Array, shape: tuple[int, ...] = ()) -> Array:
    return normalize(jax.random.normal(key, (*shape, 3)))


def from_matrix(m: Array) -> Array:
    """Unit quaternion (w >= 0) of rotation matrices ``[..., 3, 3]``.

    Shepperd's method without branches: each of the four classic formulas divides by
    one quaternion component, so all four are computed and the one whose divisor is
    largest (best conditioned) is selected with a one-hot mask. It uses only
    arithmetic, ``argmax`` and comparisons, so it also exports to ONNX.
    """
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    # Candidate k equals 4 * q_k * q (for the true unit quaternion q), in (x, y, z, w).
    cand_w = jnp.stack([m21 - m12, m02 - m20, m10 - m01, 1 + m00 + m11 + m22], axis=-1)
    cand_x = jnp.stack([1 + m00 - m11 - m22, m01 + m10, m02 + m20, m21 - m12], axis=-1)
    cand_y = jnp.stack([m01 + m10, 1 - m00 + m11 - m22, m12 + m21, m02 - m20], axis=-1)
    cand_z = jnp.stack([m02 + m20, m12 + m21, 1 - m00 - m11 + m22], axis=-1)
    cand_z = jnp.concatenate([cand_z, (m10 - m01)[..., None]], axis=-1)
    candidates = jnp.stack([cand_x, cand_y, cand_z, cand_w], axis=-2)  # [..., 4, 4]
    pivots = jnp.stack([cand_x[..., 0], cand_y[..., 1], cand_z[..., 2], cand_w[..., 3]], axis=-1)
    pick = jax.nn.one_hot(jnp.argmax(pivots, axis=-1), 4, dtype=m.dtype)
    q = jnp.sum(pick[..., None] * candidates, axis=-2)
    return canonical(normalize(q))
