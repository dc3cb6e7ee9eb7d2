"""Invariants of the MJX re-orientation env. One jitted batch of reset/step is shared."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from orient_jax import profiles, quat
from orient_jax.envs import noise as noise_lib
from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig
from orient_jax.tasks.rotation.scene import build_mjcf

pytestmark = pytest.mark.integration

CUBE = profiles.get("cube")

B = 64


def step_n(step, state, action, n):
    for _ in range(n):
        state = step(state, action)
    return state


def set_orientation(state, q_xyzw):
    """Replace the true orientation (and the observation memory) of every env."""
    q = jnp.broadcast_to(jnp.asarray(q_xyzw, jnp.float32), (B, 4))
    data = state.pipeline_state
    data = data.replace(qpos=data.qpos.at[:, 3:7].set(quat.to_wxyz(q)))
    info = {**state.info, "quat_obs": quat.canonical(q)}
    return state.replace(pipeline_state=data, info=info)


@pytest.fixture(scope="module")
def rolled(env_fns):
    env, reset, step = env_fns
    state = reset(jax.random.split(jax.random.PRNGKey(0), B))
    actions = jax.random.uniform(jax.random.PRNGKey(1), (B, 3), minval=-1, maxval=1)
    after = step_n(step, state, actions, 20)
    return state, after, actions


def test_mjcf_matches_spec():
    xml = build_mjcf(CUBE)
    assert 'gravity="0 -9.81 0"' in xml  # Y-up world
    env = RotationEnv(CUBE, RotationEnvConfig())
    m = env.mj_model
    assert m.opt.timestep == pytest.approx(CUBE.physics.timestep)
    assert m.body_mass[1] == pytest.approx(CUBE.physics.box_mass)
    np.testing.assert_allclose(m.body_inertia[1], CUBE.physics.inertia, rtol=1e-6)
    np.testing.assert_allclose(m.geom_size[m.geom("box").id], CUBE.physics.box_size / 2)


def test_quaternions_stay_unit_and_finite(rolled):
    _, after, _ = rolled
    q = after.pipeline_state.qpos[:, 3:7]
    np.testing.assert_allclose(jnp.linalg.norm(q, axis=-1), 1.0, atol=1e-4)
    assert bool(jnp.all(jnp.isfinite(after.obs)))
    np.testing.assert_allclose(jnp.linalg.norm(after.obs[:, 0:4], axis=-1), 1.0, atol=1e-4)


def test_resets_cover_so3(env_fns):
    env, _, _ = env_fns
    state = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(7), 4096))
    q = quat.from_wxyz(state.pipeline_state.qpos[:, 3:7])
    up = np.asarray(quat.rotate(q, jnp.array([0.0, 1.0, 0.0])))
    # Uniform on SO(3) => body up axis uniform on the sphere.
    hist, _ = np.histogram(up[:, 1], bins=8, range=(-1, 1))
    np.testing.assert_allclose(hist / len(up), 1 / 8, atol=0.025)
    np.testing.assert_allclose(up.mean(0), 0.0, atol=0.05)
    assert len(np.unique(np.round(np.asarray(q), 4), axis=0)) == 4096


def test_observation_layout_matches_spec(rolled):
    state, after, actions = rolled
    o = CUBE.observation
    obs = after.obs
    q = obs[:, o.slot("quat")]
    assert bool(jnp.all(q[:, 3] >= 0))
    # Without noise the observed orientation is the true one.
    q_true = quat.from_wxyz(after.pipeline_state.qpos[:, 3:7])
    np.testing.assert_allclose(quat.geodesic_angle(q, q_true), 0.0, atol=2e-3)
    y = jnp.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(obs[:, o.slot("up_world")], quat.rotate(q, y), atol=1e-5)
    np.testing.assert_allclose(obs[:, o.slot("world_up_in_body")], quat.rotate(quat.conjugate(q), y), atol=1e-5)
    prev = obs[:, o.slot("prev_quat")]
    assert bool(jnp.all(jnp.sum(prev * q, -1) >= 0))  # same hemisphere
    np.testing.assert_allclose(obs[:, o.slot("action_prev")], actions, atol=1e-6)
    np.testing.assert_allclose(obs[:, o.slot("action_prev2")], actions, atol=1e-6)
    assert bool(jnp.all(jnp.abs(obs[:, o.slot("angular_velocity")]) <= 1.0))
    # Right after a reset: no motion, no actions, prev == current.
    np.testing.assert_array_equal(state.obs[:, o.slot("prev_quat")], state.obs[:, o.slot("quat")])
    np.testing.assert_allclose(state.obs[:, 14:17], 0.0, atol=1e-6)
    np.testing.assert_array_equal(state.obs[:, 17:23], 0.0)


def test_angular_velocity_slot_is_body_rate(env_fns):
    env, _, _ = env_fns
    q0 = quat.random_uniform(jax.random.PRNGKey(3))
    omega = jnp.array([0.3, -0.5, 0.2]) * 20.0 * 0.5  # rad/s, body frame
    q1 = quat.multiply(q0, quat.from_rotvec(omega * CUBE.physics.control_dt))
    obs = env.observer.observe(q1, q0, jnp.zeros((2, 3)))
    np.testing.assert_allclose(obs[14:17] * CUBE.observation.angular_velocity_scale, omega, rtol=1e-3)


def test_box_settles_on_floor(env_fns):
    _, reset, step = env_fns
    state = reset(jax.random.split(jax.random.PRNGKey(2), B))
    state = step_n(step, state, jnp.zeros((B, 3)), 90)  # 1.5 s
    y = state.pipeline_state.qpos[:, 1]
    np.testing.assert_allclose(y, CUBE.physics.box_size / 2, atol=2e-3)
    assert float(jnp.abs(state.pipeline_state.qvel).max()) < 0.05


def test_body_torque_spins_about_body_axis_with_ramp(env_fns):
    env, reset, step = env_fns
    state = reset(jax.random.split(jax.random.PRNGKey(4), B))  # in the air: 0.35 m up
    state = step(state, jnp.tile(jnp.array([1.0, 0.0, 0.0]), (B, 1)))
    omega_body = state.pipeline_state.qvel[:, 3:6]  # free joint: body-frame angular velocity
    assert bool(jnp.all(omega_body[:, 0] > 0.1))
    np.testing.assert_allclose(omega_body[:, 1:], 0.0, atol=1e-3)
    # Ramp: after 4 physics steps at factor 0.5 the torque is 1 - 0.5^4 of the target.
    expected = CUBE.actuation.max_torque * (1 - (1 - CUBE.actuation.torque_ramp) ** CUBE.physics.substeps)
    np.testing.assert_allclose(state.info["torque"][:, 0], expected, rtol=1e-5)


def test_success_latches_after_holding_upright(env_fns):
    _, reset, step = env_fns
    state = set_orientation(reset(jax.random.split(jax.random.PRNGKey(5), B)), [0.0, 0.0, 0.0, 1.0])
    zero = jnp.zeros((B, 3))
    state = step_n(step, state, zero, CUBE.hold_steps + 40)
    assert bool(jnp.all(state.info["success"]))
    assert bool(jnp.all(state.info["success_time"] >= 0))
    assert float(state.metrics["cos_tilt"].min()) > math.cos(math.radians(10))
    # Upside down and left alone: never a success.
    state = set_orientation(reset(jax.random.split(jax.random.PRNGKey(6), B)), [1.0, 0.0, 0.0, 0.0])
    state = step_n(step, state, zero, CUBE.hold_steps + 40)
    assert not bool(jnp.any(state.info["success"]))


def test_noise_rotates_observation_by_sigma(noisy_env_fns):
    _, reset, _ = noisy_env_fns
    state = reset(jax.random.split(jax.random.PRNGKey(8), B))
    q_true = quat.from_wxyz(state.pipeline_state.qpos[:, 3:7])
    angle = np.degrees(np.asarray(quat.geodesic_angle(state.obs[:, :4], q_true)))
    np.testing.assert_allclose(angle, 5.0, atol=0.05)


def test_domain_randomization_in_ranges(noisy_env_fns):
    env, reset, _ = noisy_env_fns
    state = reset(jax.random.split(jax.random.PRNGKey(9), B))
    for name, values in state.info["params"].items():
        lo, hi = getattr(env.config, name)
        assert float(values.min()) >= lo and float(values.max()) <= hi
        assert float(values.std()) > 0


def test_noise_model_json(tmp_path):
    path = tmp_path / "noise.json"
    noise_lib.save(path, [0.0, 1.0, 2.0, 10.0], source="test")
    model = noise_lib.load(path)
    keys = jax.random.split(jax.random.PRNGKey(0), 4000)
    q = jax.vmap(model.sample)(keys)
    angles = np.degrees(np.asarray(quat.geodesic_angle(q, jnp.array([0.0, 0.0, 0.0, 1.0]))))
    assert angles.max() <= 10.01 and np.median(angles) == pytest.approx(1.5, abs=0.1)
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "angle_quantiles", "quantiles_deg": [3, 1]}')
    with pytest.raises(ValueError, match="non-decreasing"):
        noise_lib.load(bad)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        noise_lib.load(bad)
    with pytest.raises(FileNotFoundError, match="not found"):
        RotationEnv(CUBE, RotationEnvConfig(noise_model=str(tmp_path / "missing.json")))


def test_bad_env_config_fails_clearly():
    with pytest.raises(ValueError, match="mass_scale"):
        RotationEnvConfig(mass_scale=(1.2, 0.8))
    with pytest.raises(ValueError, match="noise_deg"):
        RotationEnvConfig(noise_deg=-1)
