"""The `original` profile: the original page's observation builder and action mapping,
against hand-computed values and (when ORIGINAL_RUNTIME_DIR names a checkout) against the
original's own simulation.js; the env on the page's physics, with a stand-in mesh."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from orient_jax import profiles, quat
from orient_jax.envs.noise import constant
from orient_jax.tasks.rotation import mesh as mesh_lib
from orient_jax.tasks.rotation.observers import PageObserver, pack, page_parts, swizzle, z_axis

ORIGINAL = profiles.get("original")
ROOT = Path(__file__).resolve().parents[1]
RUNTIME = os.environ.get("ORIGINAL_RUNTIME_DIR")
NO_RUNTIME = f"ORIGINAL_RUNTIME_DIR is not set: {mesh_lib.HOW_TO_GET}"


# --- the page's arithmetic, by hand ------------------------------------------------------------


@pytest.mark.unit
def test_swizzle_and_z_axis_by_hand():
    s = math.sqrt(1 - 0.1**2 - 0.2**2 - 0.3**2)
    raw = jnp.array([0.1, 0.2, 0.3, s])
    train = np.asarray(swizzle(raw))
    np.testing.assert_allclose(train, [0.1, 0.3, -0.2, s], rtol=1e-6)  # (x, z, -y, w)
    x, y, z, w = 0.1, 0.3, -0.2, s
    np.testing.assert_allclose(
        np.asarray(z_axis(jnp.asarray(train))),
        [2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)],
        rtol=1e-6,
    )
    # Upright in the page's world (body +Y up) is the training frame's z axis pointing up.
    np.testing.assert_allclose(np.asarray(z_axis(swizzle(jnp.array([0.0, 0.0, 0.0, 1.0])))), [0, 0, 1], atol=1e-7)


@pytest.mark.unit
def test_page_observation_slots_by_hand():
    raw = jnp.array([0.0, 0.6, 0.0, 0.8])  # 73.7 deg about cannon +Y
    last = jnp.array([0.0, 0.5, 0.0, math.sqrt(0.75)])
    two_back = jnp.array([0.1, 0.2, 0.3, 0.9])
    actions = jnp.array([[0.1, 0.2, 0.3], [-0.4, -0.5, -0.6]])
    obs = np.asarray(pack(ORIGINAL.observation, page_parts(raw, last, two_back, actions)))
    np.testing.assert_allclose(obs[0:4], [0.0, 0.0, -0.6, 0.8], atol=1e-7)  # swizzled
    # Rotation about training -z by 73.7 deg leaves the z axis up: (0, 0, 1), twice.
    np.testing.assert_allclose(obs[4:7], [0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(obs[7:10], obs[4:7])
    np.testing.assert_allclose(obs[10:14], [0.1, 0.2, 0.3, 0.9], rtol=1e-6)  # as given: not swizzled again
    np.testing.assert_allclose(obs[14:17], [0.0, 0.0, -0.1], atol=1e-6)  # raw xyz difference (0, 0.1, 0), swizzled
    np.testing.assert_allclose(obs[17:23], [0.1, 0.2, 0.3, -0.4, -0.5, -0.6], rtol=1e-6)  # t-2 first


@pytest.mark.unit
def test_the_page_holds_predictions_between_runs_of_the_pose_model():
    observer = PageObserver(ORIGINAL, constant(0.0))
    truth = quat.canonical(quat.random_uniform(jax.random.PRNGKey(0), (12,)))
    predicted = quat.random_uniform(jax.random.PRNGKey(1), (12,))
    actions = jax.random.uniform(jax.random.PRNGKey(2), (12, 3), minval=-1, maxval=1)
    memory, rows = observer.initial_memory(), []
    for k in range(12):
        if k:
            memory = observer.advance(memory, actions[k - 1])
        obs, memory = observer.observe(memory, truth[k], predicted[k])
        rows.append(np.asarray(obs))
    rows = np.array(rows)
    # Frames 1-4: the ground truth (no prediction yet); frame 5: the first prediction, held to 9; 10: the next.
    for k in range(4):
        np.testing.assert_allclose(rows[k, :4], np.asarray(swizzle(truth[k])), atol=1e-6)
    for k in range(4, 9):
        np.testing.assert_allclose(rows[k, :4], np.asarray(swizzle(predicted[4])), atol=1e-6)
    np.testing.assert_allclose(rows[9, :4], np.asarray(swizzle(predicted[9])), atol=1e-6)
    # The velocity slot is zero at page load and while a prediction is held.
    assert not rows[0, 14:17].any() and not rows[5:9, 14:17].any() and rows[4, 14:17].any()
    # "prev_quat" is two steps back ([0, 0, 0, 1] for the first two), actions t-2 then t-1.
    np.testing.assert_allclose(rows[0, 10:14], [0, 0, 0, 1])
    np.testing.assert_allclose(rows[1, 10:14], [0, 0, 0, 1])
    np.testing.assert_allclose(rows[3, 10:14], np.asarray(swizzle(truth[1])), atol=1e-6)
    np.testing.assert_allclose(rows[3, 17:23], np.concatenate([actions[1], actions[2]]), atol=1e-6)


@pytest.mark.e2e
@pytest.mark.skipif(not RUNTIME, reason=NO_RUNTIME)
def test_the_observations_are_the_original_simulation_js_own(tmp_path):
    """The original, unchanged simulation.js (Node, a stand-in physics reporting given
    orientations) and PageObserver on the same 23 steps agree to float32 rounding."""
    n = 23
    truth = np.asarray(quat.canonical(quat.random_uniform(jax.random.PRNGKey(3), (n,))))
    predicted = np.asarray(quat.random_uniform(jax.random.PRNGKey(4), (n,)))  # either sign
    actions = np.asarray(jax.random.uniform(jax.random.PRNGKey(5), (n, 3), minval=-1, maxval=1))
    script = {"truth": truth.tolist(), "predicted": predicted.tolist(), "actions": actions.tolist()}
    node = shutil.which("node")
    proc = subprocess.run([node, str(ROOT / "original/trace.mjs"), "--runtime-dir", RUNTIME], input=json.dumps(script),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout)
    observer = PageObserver(ORIGINAL, constant(0.0))
    memory, ours = observer.initial_memory(), []
    for k in range(n):
        if k:
            memory = observer.advance(memory, jnp.asarray(actions[k - 1]))
        obs, memory = observer.observe(memory, jnp.asarray(truth[k]), jnp.asarray(predicted[k]))
        ours.append(np.asarray(obs))
    np.testing.assert_allclose(np.array(theirs["observations"]), np.array(ours), atol=2e-6)
    order, signs = zip(*ORIGINAL.runtime.action_map)
    np.testing.assert_allclose(np.array(theirs["torque_axes"]), actions[:, list(order)] * np.array(signs), atol=1e-7)


# --- the env on the page's physics, with the project's stand-in mesh ------------------------------


@pytest.fixture(scope="module")
def stand_in_env():
    from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig

    config = RotationEnvConfig(noise_deg=0.0, disturbances=False, domain_randomization=False)
    env = RotationEnv(ORIGINAL, config, mesh=mesh_lib.stand_in_mesh())
    return env, jax.jit(jax.vmap(env.reset)), jax.jit(jax.vmap(env.step))


@pytest.mark.integration
def test_the_env_builds_the_pages_world(stand_in_env):
    env, reset, step = stand_in_env
    m = env.mj_model
    assert m.body_mass[1] == pytest.approx(0.05)
    # Compiled with the world AABB inertia at the identity, in a frame that is not the
    # body's (else MuJoCo's mass matrix would keep no off-diagonal entries).
    from orient_jax.tasks.rotation.scene import aabb_corners, world_aabb_inertia

    corners = aabb_corners(ORIGINAL, mesh_lib.stand_in_mesh()[0])
    np.testing.assert_allclose(
        m.body_inertia[1], world_aabb_inertia(corners, jnp.array([0.0, 0, 0, 1]), 0.05), rtol=1e-5
    )
    assert np.abs(m.body_iquat[1] - [1, 0, 0, 0]).max() > 0.1
    names = [m.geom(i).name for i in range(m.ngeom)]
    assert not any(n.startswith("wall") for n in names)  # the mesh never touches cannon-es's box walls
    from orient_jax.tasks.rotation.scene import MESH_CONTACT_POINTS, contact_points

    points = contact_points(mesh_lib.stand_in_mesh()[0])
    assert sum(n.startswith("contact_") for n in names) == len(points) <= MESH_CONTACT_POINTS
    state = reset(jax.random.split(jax.random.PRNGKey(0), 256))
    # physics.js:123-131: axis-angle starts, not uniform on SO(3): the rotation angle is
    # uniform on [0, pi] (mean pi/2), where Haar's mean is pi/2 + 2/pi.
    q = quat.from_wxyz(state.pipeline_state.qpos[:, 3:7])
    angle = np.asarray(quat.geodesic_angle(q, jnp.array([0.0, 0.0, 0.0, 1.0])))
    assert abs(angle.mean() - math.pi / 2) < 0.1
    np.testing.assert_allclose(state.pipeline_state.qpos[:, 1], 1.5)
    for _ in range(240):  # 4 s, no torque: it falls and comes to rest on its hull
        state = step(state, jnp.zeros((256, 3)))
    y = np.asarray(state.pipeline_state.qpos[:, 1])
    # On its hull: between its nearest face (0.5) and its farthest vertex (1.63) above the floor.
    assert np.isfinite(y).all() and (y > 0.45).all() and (y < 1.65).all() and np.median(y) < 1.0
    # Landed: at most a slow rock (its world-fixed inertia, ~0.05 kg m^2, swings slowly).
    assert np.median(np.linalg.norm(np.asarray(state.pipeline_state.qvel[:, :3]), axis=1)) < 0.15


@pytest.mark.integration
def test_the_env_maps_actions_as_the_page_does(stand_in_env):
    """physics.js:318-320: the page turns the policy's (a0, a1, a2) into the body torque axes
    (a0, -a2, a1). One step of the env from rest, in the air: its applied body-frame torque
    is that, ramped (1 - 0.5^4 of the target after 4 physics steps at ramp 0.5), and the
    object starts to turn along it."""
    env, reset, step = stand_in_env
    state = reset(jax.random.split(jax.random.PRNGKey(5), 256))  # the batch the world test compiles
    units = np.eye(3, dtype=np.float32)  # a0, a1, a2 alone
    random = np.asarray(jax.random.uniform(jax.random.PRNGKey(6), (253, 3), minval=-1, maxval=1))
    actions = np.concatenate([units, random])
    after = step(state, jnp.asarray(actions))
    torque = np.asarray(after.info["torque"])
    ramped = 0.5 * (1 - 0.5**4)  # max_torque, then the ramp
    np.testing.assert_allclose(torque[:3] / ramped, [[1, 0, 0], [0, 0, 1], [0, -1, 0]], atol=1e-6)
    a0, a1, a2 = actions.T
    np.testing.assert_allclose(torque / ramped, np.stack([a0, -a2, a1], axis=1), atol=1e-6)
    omega = np.asarray(after.pipeline_state.qvel[:, 3:6])  # body frame, from rest
    assert (np.asarray(after.pipeline_state.qpos[:, 1]) > 1.4).all()  # still falling: no contact torque
    assert (np.sum(omega * torque, axis=1) > 0).all()


@pytest.mark.unit
def test_the_world_aabb_inertia_by_hand():
    from orient_jax.tasks.rotation.scene import aabb_corners, world_aabb_inertia

    # A 2 x 1 x 0.5 box off-centre: Box.calculateInertia of half extents (1, 0.5, 0.25).
    vertices = np.array([[-0.5, 0.0, 0.1], [1.5, 1.0, 0.6], [0.2, 0.3, 0.4]])
    corners = aabb_corners(ORIGINAL, vertices)
    assert corners.shape == (8, 3) and np.ptp(corners, axis=0).tolist() == [2.0, 1.0, 0.5]
    m = 0.05
    expected = m / 12 * np.array([1.0**2 + 0.5**2, 2.0**2 + 0.5**2, 2.0**2 + 1.0**2])
    np.testing.assert_allclose(world_aabb_inertia(corners, jnp.array([0.0, 0, 0, 1]), m), expected, rtol=1e-6)
    # Turned 90 deg about Y the world box is 0.5 x 1 x 2: the moments of x and z swap.
    q = quat.from_axis_angle(jnp.array([0.0, 1.0, 0.0]), jnp.asarray(math.pi / 2))
    np.testing.assert_allclose(world_aabb_inertia(corners, q, m), expected[::-1], rtol=1e-5)
    # Turned 45 deg about Y the world box grows in x and z: (2 + 0.5) / sqrt(2) on each.
    q = quat.from_axis_angle(jnp.array([0.0, 1.0, 0.0]), jnp.asarray(math.pi / 4))
    s = 2.5 / math.sqrt(2)
    np.testing.assert_allclose(
        world_aabb_inertia(corners, q, m), m / 12 * np.array([1 + s * s, 2 * s * s, s * s + 1]), rtol=1e-5
    )


def cannon_free_flight(q, moments, actions, env):
    """cannon-es's free flight as the page runs it, written out in numpy (float64): per
    physics step the ramp and clamp, the body-frame torque turned to the world, damping
    first, then w += dt W tau with the world-fixed W, then the first-order quaternion step
    and normalization (World.internalStep, Body.integrate, Quaternion.integrate)."""
    spec, dt = env.spec, env.spec.physics.timestep
    rot0 = np.asarray(quat.to_matrix(q), np.float64)
    inv_world = rot0 @ np.diag(1 / np.asarray(moments, np.float64)) @ rot0.T
    q, w, applied = np.asarray(q, np.float64), np.zeros(3), np.zeros(3)
    out = []
    for a in actions:
        target = np.array([a[i] * sign for i, sign in spec.runtime.action_map]) * spec.actuation.max_torque
        for _ in range(spec.physics.substeps):
            applied = np.clip(applied + spec.actuation.torque_ramp * (target - applied), -0.5, 0.5)
            torque = np.asarray(quat.to_matrix(q), np.float64) @ applied
            w = w * (1 - spec.physics.angular_damping) ** dt + dt * inv_world @ torque
            x, y, z, qw = q
            q = q + 0.5 * dt * np.array([w[0] * qw + w[1] * z - w[2] * y, w[1] * qw + w[2] * x - w[0] * z,
                                         w[2] * qw + w[0] * y - w[1] * x, -w @ q[:3]])  # fmt: skip
            q = q / np.linalg.norm(q)
        out.append(w.copy())
    return np.array(out)


@pytest.mark.integration
def test_free_flight_follows_the_pages_world_fixed_inertia(stand_in_env):
    """Before it lands, the object turns under torque exactly as cannon-es turns the page's:
    with the inertia frozen in the world at the drop (not the 1e-4 the page sets), no
    gyroscopic term, and the full 3 x 3 inertia (MuJoCo keeps the off-diagonal entries)."""
    env, reset, step = stand_in_env
    q0 = quat.normalize(jnp.array([[0.3, -0.5, 0.2, 0.7], [0.9, 0.1, -0.3, 0.2]]))
    state = jax.jit(jax.vmap(env.reset_at))(jax.random.split(jax.random.PRNGKey(0), 2), q0)
    actions = np.array(jax.random.uniform(jax.random.PRNGKey(1), (12, 3), minval=-1.0, maxval=1.0))
    got = []
    for a in actions:  # 12 steps: 0.2 s, a 0.2 m fall, far from the floor
        state = step(state, jnp.tile(jnp.asarray(a), (2, 1)))
        q = quat.from_wxyz(state.pipeline_state.qpos[:, 3:7])
        got.append(np.asarray(jax.vmap(quat.rotate)(q, state.pipeline_state.qvel[:, 3:6])))
    got = np.stack(got, axis=1)
    assert (np.asarray(state.pipeline_state.qpos[:, 1]) > 1.2).all()
    for i in range(2):
        moments = state.info["inertia_moments"][i]
        expected = cannon_free_flight(q0[i], moments, actions, env)
        assert np.abs(expected).max() > 0.2  # it really turns (rad/s)
        np.testing.assert_allclose(got[i], expected, atol=2e-3 * np.abs(expected).max())
    # The moments are the drop orientation's, not the 1e-4 the page sets by hand.
    assert (np.asarray(state.info["inertia_moments"]) > 10 * 1e-4).all()


@pytest.mark.unit
def test_transfer_metrics_by_hand():
    from orient_jax.tasks.rotation import transfer

    dt = ORIGINAL.physics.control_dt
    t = np.arange(1, 41) * dt
    fall = 1.5 - 0.5 * 9.81 * t**2
    y = np.where(np.arange(40) < 20, fall, fall[19])  # lands after step 20 and stays
    position = np.zeros((1, 40, 3))
    position[0, :, 1] = y
    assert transfer.first_contact(position, dt=dt)[0] == 19
    q = np.tile([0.0, 0.0, 0.0, 1.0], (1, 40, 1))
    turned = q.copy()
    turned[0, 25:] = [math.sin(math.radians(5)), 0.0, 0.0, math.cos(math.radians(5))]  # 10 deg about x, after contact
    np.testing.assert_allclose(transfer.angle_deg(q, -turned)[0, [0, 30]], [0.0, 10.0], atol=1e-6)
    np.testing.assert_allclose(transfer.tilt_deg(turned)[0, 30], 10.0, atol=1e-6)
    w = np.zeros((1, 40, 3))
    a = {"quaternion": q, "position": position, "angular_velocity": w}
    b = {"quaternion": turned, "position": position, "angular_velocity": w}
    r = transfer.compare(a, b, dt, after_s=(0.25,))
    assert r["free_flight_orientation_error_max_deg"] == 0.0 and r["first_contact_step_difference_max"] == 0
    assert r["orientation_error_after_contact"]["0.25s"]["median_deg"] == pytest.approx(10.0, abs=1e-6)
    assert r["runtime_final_tilt_median_deg"] == 0.0 and r["mjx_final_tilt_median_deg"] == pytest.approx(10.0)


@pytest.mark.e2e
@pytest.mark.skipif(not RUNTIME, reason=NO_RUNTIME)
def test_free_flight_agrees_with_the_original_physics_js():
    """The original's own physics.js (Node) and the env, driven alike: equal until contact."""
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.original_transfer", "--runtime-dir", RUNTIME, "--episodes", "3",
         "--steps", "30", "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    driven = json.loads(proc.stdout)["driven"]  # stdout is the document alone
    assert driven["free_flight_steps_median"] >= 10
    assert driven["free_flight_orientation_error_max_deg"] < 0.01
    assert driven["free_flight_angular_velocity_error_max"] < 1e-3


@pytest.mark.unit
def test_a_missing_runtime_folder_is_named():
    with pytest.raises(mesh_lib.MeshError, match="give its folder"):
        mesh_lib.runtime_mesh(ORIGINAL.runtime.mesh, "")
    with pytest.raises(mesh_lib.MeshError, match=r"/nowhere/static/models/engine.glb is missing"):
        mesh_lib.runtime_mesh(ORIGINAL.runtime.mesh, "/nowhere")


# --- Blender renders of the runtime's mesh (here the stand-in) ---------------------------------------


@pytest.fixture(scope="module")
def stand_in_renders(render_python, tmp_path_factory):
    from tests.render_helpers import render_tiny

    root = tmp_path_factory.mktemp("original")
    runtime = mesh_lib.stand_in_runtime(root / "runtime", ORIGINAL.runtime.mesh)
    out = root / "renders"
    render_tiny(render_python, out, "--preset", "original-tiny", "--task", "original", "--runtime-dir", str(runtime),
                "--workers", "1")  # fmt: skip
    return out, runtime


@pytest.mark.integration
def test_blender_renders_the_runtime_mesh_through_the_pages_camera(stand_in_renders):
    import hashlib

    from orient_jax.vision import dataset

    out, runtime = stand_in_renders
    data = dataset.load(out, ORIGINAL)
    m = data.manifest
    assert m["task"] == "original" and data.images.shape == (16, 224, 224, 3)
    assert m["asset"]["kind"] == "runtime_mesh" and m["asset"]["mesh"] == "static/models/engine.glb"
    assert m["asset"]["sha256"] == hashlib.sha256((runtime / ORIGINAL.runtime.mesh).read_bytes()).hexdigest()
    assert m["label_check"]["failures"] == 0 and m["label_check"]["bbox_checks"] == 16
    distance = np.linalg.norm(data.params["cam_position"] - data.params["cam_target"], axis=1)
    np.testing.assert_allclose(distance, 3.5, rtol=0.05)  # the page's camera, jittered
    assert data.params["light_position"].shape == (16, 2, 3)  # the page's two point lights
    assert (data.images[:, :3, :3].reshape(16, -1).mean(1) > 220).all()  # white background


@pytest.mark.integration
def test_the_mesh_label_check_catches_wrong_labels(stand_in_renders):
    from orient_jax.vision import dataset
    from render import label_check

    data = dataset.load(stand_in_renders[0], ORIGINAL)
    asset = data.manifest["asset"]
    assert label_check.check_labels(data.images, data.quats, data.params, asset).ok
    turned = np.asarray(
        quat.multiply(jnp.asarray(data.quats), quat.from_axis_angle(jnp.array([0.0, 1.0, 0.0]), jnp.array(0.5)))
    )
    swizzled = data.quats[:, [0, 2, 1, 3]] * np.array([1, -1, 1, 1], np.float32)  # a wrong frame change
    for wrong in (turned, swizzled):
        report = label_check.check_labels(data.images, wrong, data.params, asset)
        assert len(report.failures) >= 12, report.summary()
