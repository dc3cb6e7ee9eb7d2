import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from orient_jax import quat

pytestmark = pytest.mark.unit


def q_axis_angle(axis, deg):
    return quat.from_axis_angle(jnp.asarray(axis, jnp.float32), jnp.asarray(math.radians(deg)))


def test_rotation_about_x_takes_y_to_z():
    q = q_axis_angle([1, 0, 0], 90)
    np.testing.assert_allclose(quat.rotate(q, jnp.array([0.0, 1.0, 0.0])), [0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(quat.to_matrix(q) @ jnp.array([0.0, 1.0, 0.0]), [0, 0, 1], atol=1e-6)


def test_matrix_matches_rotate_and_is_orthonormal():
    q = quat.random_uniform(jax.random.PRNGKey(0), (50,))
    v = jax.random.normal(jax.random.PRNGKey(1), (50, 3))
    r = quat.to_matrix(q)
    np.testing.assert_allclose(jnp.einsum("bij,bj->bi", r, v), quat.rotate(q, v), atol=1e-5)
    np.testing.assert_allclose(jnp.einsum("bij,bkj->bik", r, r), np.broadcast_to(np.eye(3), (50, 3, 3)), atol=1e-5)
    np.testing.assert_allclose(jnp.linalg.det(r), 1.0, atol=1e-5)


def test_multiply_composes_rotations():
    a, b = quat.random_uniform(jax.random.PRNGKey(2), (2, 10))
    v = jnp.ones((10, 3))
    np.testing.assert_allclose(quat.rotate(quat.multiply(a, b), v), quat.rotate(a, quat.rotate(b, v)), atol=1e-5)


def test_wxyz_round_trip():
    q = jnp.array([0.1, 0.2, 0.3, 0.9])
    np.testing.assert_allclose(quat.to_wxyz(q), [0.9, 0.1, 0.2, 0.3], rtol=1e-7)
    np.testing.assert_array_equal(quat.from_wxyz(quat.to_wxyz(q)), q)


@pytest.mark.parametrize(
    ("axis", "deg_a", "deg_b", "expected"),
    [([1, 0, 0], 0, 90, 90), ([0, 1, 0], 30, 75, 45), ([0, 0, 1], -170, 170, 20), ([1, 1, 0], 0, 180, 180)],
)
def test_geodesic_angle_hand_cases(axis, deg_a, deg_b, expected):
    axis = np.asarray(axis, np.float32) / np.linalg.norm(axis)
    got = quat.geodesic_angle(q_axis_angle(axis, deg_a), q_axis_angle(axis, deg_b))
    assert math.degrees(float(got)) == pytest.approx(expected, abs=1e-3)


def test_q_and_minus_q_are_the_same_orientation():
    q = quat.random_uniform(jax.random.PRNGKey(3), (100,))
    np.testing.assert_allclose(quat.geodesic_angle(q, -q), 0.0, atol=1e-3)
    np.testing.assert_allclose(quat.to_matrix(q), quat.to_matrix(-q), atol=1e-6)
    assert bool(jnp.all(quat.canonical(-q)[:, 3] >= 0))


def test_rotvec_round_trip():
    # Angles below pi: the rotation vector of a rotation is unique there.
    axis = quat.random_axis(jax.random.PRNGKey(4), (100,))
    v = axis * jax.random.uniform(jax.random.PRNGKey(5), (100, 1), maxval=3.0)
    q = quat.from_rotvec(v)
    np.testing.assert_allclose(quat.to_rotvec(q), v, atol=1e-4)
    np.testing.assert_allclose(quat.to_rotvec(jnp.array([0.0, 0.0, 0.0, 1.0])), 0.0, atol=1e-7)


def test_random_uniform_is_uniform_on_so3():
    # For Haar-uniform rotations, the rotated Y axis is uniform on the sphere: each
    # component is uniform on [-1, 1] (Archimedes), mean 0 and variance 1/3.
    q = quat.random_uniform(jax.random.PRNGKey(5), (20000,))
    up = np.asarray(quat.rotate(q, jnp.array([0.0, 1.0, 0.0])))
    np.testing.assert_allclose(up.mean(0), 0.0, atol=0.02)
    np.testing.assert_allclose(up.var(0), 1 / 3, atol=0.01)
    hist, _ = np.histogram(up[:, 1], bins=10, range=(-1, 1))
    np.testing.assert_allclose(hist / len(up), 0.1, atol=0.01)
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-6)
