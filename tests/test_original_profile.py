"""The `original` profile: the original page's observation builder and action mapping,
against hand-computed values and (when ORIGINAL_RUNTIME_DIR names a checkout) against the
original's own simulation.js; the env on the page's physics, with a stand-in mesh."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from orient_jax import profiles, quat
from orient_jax.envs.noise import constant
from orient_jax.tasks.rotation import mesh as mesh_lib
from orient_jax.tasks.rotation.observers import PageObserver, page_observation, swizzle, z_axis

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
    obs = np.asarray(page_observation(raw, last, two_back, actions))
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


@pytest.mark.unit
def test_the_action_map_is_the_pages():
    """physics.js:318-320: body torque axes (a0, -a2, a1)."""
    order, signs = zip(*ORIGINAL.runtime.action_map)
    a = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(a[list(order)] * np.array(signs), [0.1, -0.3, 0.2])


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
    np.testing.assert_allclose(m.body_inertia[1], 1e-4, rtol=1e-6)  # forced, as physics.js:144
    names = [m.geom(i).name for i in range(m.ngeom)]
    assert not any(n.startswith("wall") for n in names)  # the mesh never touches cannon-es's box walls
    from orient_jax.tasks.rotation.env import MESH_CONTACT_POINTS, contact_points

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
    assert np.isfinite(y).all() and (y > 0.45).all() and (y < 1.25).all()  # resting on its hull (0.5 to 1.2)
    assert np.median(np.linalg.norm(np.asarray(state.pipeline_state.qvel[:, :3]), axis=1)) < 0.05


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
