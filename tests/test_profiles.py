"""Task profiles: the contract as named values. ``cube`` is today's task, byte for byte;
``test_box`` (a few constants changed, registered by the tests: tests/profile_test_box.py)
flows through every consumer that takes a profile."""

import dataclasses
import math
import re
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from orient_jax import profiles
from orient_jax.profiles import spec
from orient_jax.profiles.spec import task_json

CUBE = profiles.get("cube")
TEST_BOX = profiles.get("test_box")
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.unit
def test_task_json_is_the_cube_profile_byte_for_byte(root):
    """web/public/models/task.json is cube's: regenerate with `make spec`."""
    assert (root / "web/public/models/task.json").read_text() == task_json(CUBE)


@pytest.mark.unit
def test_profiles_are_chosen_by_name():
    assert sorted(profiles.PROFILES) == ["cube", "original"]  # the product's; test_box is the tests' own
    assert profiles.names() == ["cube", "original", "test_box"]  # registered by conftest
    assert profiles.get("cube").name == "cube" and profiles.get("test_box").name == "test_box"
    with pytest.raises(ValueError, match="unknown task profile 'nope'; choose one of cube, original, test_box"):
        profiles.get("nope")


@pytest.mark.unit
def test_profile_modules_extend_the_registry(monkeypatch, tmp_path):
    """``$ORIENT_JAX_PROFILE_MODULES`` names modules that define PROFILE; a bad one says what is wrong."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "lab_box.py").write_text(
        "import dataclasses\nfrom orient_jax import profiles\n"
        "PROFILE = dataclasses.replace(profiles.get('cube'), name='lab_box')\n"
    )
    (tmp_path / "no_profile.py").write_text("X = 1\n")
    (tmp_path / "not_a_spec.py").write_text("PROFILE = {'name': 'dict_box'}\n")
    (tmp_path / "taken.py").write_text("from orient_jax import profiles\nPROFILE = profiles.get('original')\n")
    monkeypatch.setenv(profiles.MODULES_ENV, "")
    assert profiles.names() == ["cube", "original"]
    monkeypatch.setenv(profiles.MODULES_ENV, " lab_box , tests.profile_test_box")
    assert profiles.names() == ["cube", "lab_box", "original", "test_box"]
    assert profiles.get("lab_box").physics == profiles.get("cube").physics
    for value, message in [
        ("no_such_module", "names 'no_such_module', which cannot be imported"),
        ("no_profile", "names 'no_profile', which defines no PROFILE"),
        ("not_a_spec", "names 'not_a_spec', whose PROFILE is a dict, not a TaskSpec"),
        ("taken", "names 'taken', whose profile 'original' is taken"),
        ("lab_box,lab_box", "names 'lab_box', whose profile 'lab_box' is taken"),
    ]:
        monkeypatch.setenv(profiles.MODULES_ENV, value)
        with pytest.raises(ValueError, match=f"{profiles.MODULES_ENV} {message}"):
            profiles.get("cube")


@pytest.mark.unit
def test_physics_is_consistent():
    p = CUBE.physics
    assert p.timestep == pytest.approx(1 / 240)
    assert p.substeps == 4 and p.control_dt == pytest.approx(1 / 60)
    # Solid cube: I = m (s^2 + s^2) / 12.
    assert p.inertia == pytest.approx(p.box_mass * 2 * p.box_size**2 / 12)
    # The damping factor reproduces cannon-es: after one second, 1 - d of the velocity remains.
    for d in (p.angular_damping, p.linear_damping, 0.5):
        assert p.damping_factor(d) ** round(1 / p.timestep) == pytest.approx(1 - d, rel=1e-9)
    # Tipping the box over an edge must be possible at full torque.
    for profile in (CUBE, TEST_BOX):
        q = profile.physics
        assert profile.actuation.max_torque > q.box_mass * q.gravity * q.box_size / 2


@pytest.mark.unit
def test_derived_steps():
    assert (CUBE.episode_steps, CUBE.hold_steps, CUBE.success_deadline_steps) == (300, 30, 300)
    assert (TEST_BOX.episode_steps, TEST_BOX.hold_steps, TEST_BOX.success_deadline_steps) == (120, 30, 120)


@pytest.mark.unit
def test_observation_slots_tile_23():
    o = CUBE.observation
    assert o.size == 23
    covered = []
    for s in o.slots:
        covered.extend(range(s.start, s.start + s.size))
        assert s.meaning
    assert covered == list(range(23))
    assert o.slot("quat") == slice(0, 4) and o.slot("action_prev2") == slice(20, 23)
    with pytest.raises(KeyError):
        o.slot("nope")


@pytest.mark.unit
def test_onnx_names_follow_the_browser_contract():
    assert (CUBE.onnx.pose_input, CUBE.onnx.pose_output) == ("input", "output")
    assert (CUBE.onnx.policy_input, CUBE.onnx.policy_output) == ("input", "actions")
    a = CUBE.artifacts
    assert (a.export_dir, a.pose_file, a.policy_file, a.task_file, a.object_file) == (
        "web/public/models", "pose.onnx", "policy.onnx", "task.json", "object.glb"
    )  # fmt: skip


@pytest.mark.unit
@pytest.mark.parametrize("profile", [CUBE, TEST_BOX], ids=lambda p: p.name)
def test_camera_frames_the_box(profile):
    c = profile.camera
    half_fov = math.radians(c.fov_deg / 2)
    radius = profile.physics.box_size * math.sqrt(3) / 2
    assert math.asin(radius / c.distance) < half_fov  # the whole box is in view
    assert math.dist(c.offset, (0, 0, 0)) == pytest.approx(c.distance)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: dataclasses.replace(CUBE.physics, timestep=-0.01), "timestep must be positive"),
        (lambda: dataclasses.replace(CUBE.physics, angular_damping=1.5), "angular_damping"),
        (lambda: dataclasses.replace(CUBE.physics, drop_height=0.05), "drop_height"),
        (lambda: dataclasses.replace(CUBE.actuation, torque_ramp=0.0), "torque_ramp"),
        (
            lambda: dataclasses.replace(CUBE, actuation=dataclasses.replace(CUBE.actuation, episode_seconds=0.2)),
            "deadline",
        ),
        (lambda: dataclasses.replace(CUBE, observation=dataclasses.replace(CUBE.observation, size=24)), "tile"),
        (lambda: dataclasses.replace(CUBE.artifacts, object_kind="teapot"), "object_kind"),
        (lambda: dataclasses.replace(CUBE.artifacts, policy_file="pose.onnx"), "distinct"),
    ],
)
@pytest.mark.unit
def test_bad_profile_values_fail_clearly(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


@pytest.mark.unit
def test_a_profile_states_every_fact():
    """The section types have no defaults: a profile cannot inherit a fact it did not state."""
    for section in (spec.Physics, spec.Actuation, spec.Success, spec.Camera, spec.OnnxContract, spec.Frames,
                    spec.Artifacts, spec.RuntimeCode, spec.TaskSpec):  # fmt: skip
        with pytest.raises(TypeError):
            section()


@pytest.mark.unit
def test_nothing_outside_the_registry_names_a_profile_module():
    """Profiles are reached by name through ``orient_jax.profiles.get``, never imported as
    globals: no module outside the package imports a profile module or its value."""
    pattern = re.compile(
        r"profiles\.(cube|original|test_box)\b|from orient_jax\.profiles import .*\b(cube|original|test_box)\b"
    )
    offenders = []
    for folder in ("orient_jax", "render", "experiments"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.parent.name == "profiles":
                continue
            offenders += [f"{path.relative_to(ROOT)}: {line}" for line in path.read_text().splitlines()
                          if pattern.search(line)]  # fmt: skip
    assert not offenders, offenders


@pytest.mark.e2e
def test_profiles_cli_writes_a_task_json(tmp_path):
    out = tmp_path / "task.json"
    proc = subprocess.run([sys.executable, "-m", "orient_jax.profiles", "test_box", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == task_json(TEST_BOX)
    bad = subprocess.run([sys.executable, "-m", "orient_jax.profiles", "nope"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.startswith("error: unknown task profile 'nope'")


# --- test_box through every consumer -----------------------------------------------------------


@pytest.mark.unit
def test_task_json_follows_the_profile():
    box, cube = TEST_BOX.to_dict(), CUBE.to_dict()
    assert box["physics"]["box_size"] == 0.15 and cube["physics"]["box_size"] == 0.2
    assert box["camera"]["resolution"] == 96 and box["derived"]["episode_steps"] == 120
    assert {k for k in box if box[k] != cube[k]} == {"physics", "actuation", "success", "camera", "derived"}


@pytest.mark.integration
def test_the_env_follows_the_profile():
    from orient_jax.envs.wrappers import wrap_for_training
    from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig

    env = RotationEnv(TEST_BOX, RotationEnvConfig(noise_deg=0.0, disturbances=False, domain_randomization=False))
    m = env.mj_model
    np.testing.assert_allclose(m.geom_size[m.geom("box").id], 0.075)
    assert m.body_mass[1] == pytest.approx(0.2)
    np.testing.assert_allclose(m.body_inertia[1], TEST_BOX.physics.inertia, rtol=1e-6)
    wrapped = wrap_for_training(env, TEST_BOX.episode_steps, stagger=False)
    state = jax.jit(wrapped.reset)(jax.random.split(jax.random.PRNGKey(0), 2))
    step = jax.jit(wrapped.step)
    assert float(state.pipeline_state.qpos[0, 1]) == pytest.approx(0.3)  # its drop height
    for _ in range(TEST_BOX.episode_steps):
        assert not np.asarray(state.done).any()
        state = step(state, np.zeros((2, 3), np.float32))
    assert (np.asarray(state.done) == 1).all()  # its 2 s episodes end at step 120
    assert state.obs.shape == (2, TEST_BOX.observation.size)


@pytest.mark.integration
def test_the_env_refuses_a_profile_it_cannot_simulate():
    from orient_jax.tasks.rotation.env import RotationEnv

    z_up = dataclasses.replace(CUBE, frames=dataclasses.replace(CUBE.frames, body_up_axis=(0.0, 0.0, 1.0)))
    with pytest.raises(ValueError, match="Y-up world"):
        RotationEnv(z_up)
    # The slot table is the layout: a builder's part without a slot, or of another size, is refused.
    renamed = (*CUBE.observation.slots[:-1], spec.Slot("action_older", 20, 3, "t-2"))
    with pytest.raises(ValueError, match=r"'cube', builder 'cube': .*no part for slot\(s\) action_older; "
                                         r"part\(s\) action_prev2 have no slot"):  # fmt: skip
        RotationEnv(dataclasses.replace(CUBE, observation=dataclasses.replace(CUBE.observation, slots=renamed)))


@pytest.fixture(scope="module")
def box_renders(render_python, tmp_path_factory):
    """Eight real Blender renders for test_box (one shard, one worker)."""
    from tests.render_helpers import render_tiny

    out = tmp_path_factory.mktemp("render") / "box"
    render_tiny(render_python, out, "--task", "test_box", "--workers", "1", "count=8", "shard_size=8")
    return out


@pytest.mark.integration
def test_the_render_follows_the_profile(box_renders):
    from orient_jax.vision import dataset

    data = dataset.load(box_renders, TEST_BOX)
    m = data.manifest
    assert m["task"] == "test_box" and m["image_size"] == 96 and m["spec"] == dataset.spec_record(TEST_BOX)
    assert data.images.shape == (8, 96, 96, 3) and m["label_check"]["failures"] == 0
    assert m["asset"]["box_size"] == 0.15
    dist = np.linalg.norm(data.params["cam_position"] - data.params["cam_target"], axis=1)
    np.testing.assert_allclose(dist, 0.45, rtol=0.05)  # its closer camera, jittered
    with pytest.raises(dataset.DatasetError, match="rendered for task profile 'test_box'.*not for 'cube'"):
        dataset.load(box_renders, CUBE)


@pytest.mark.integration
def test_the_export_follows_the_profile(box_renders, tmp_path):
    from flax import nnx

    from orient_jax.agents.normalization import RunningStats
    from orient_jax.agents.ppo.networks import make_networks
    from orient_jax.agents.ppo.policy_io import save_policy
    from orient_jax.export import contract, pipeline
    from orient_jax.vision import model_io
    from orient_jax.vision.model import ModelConfig, PoseNet

    tiny = ModelConfig(widths=(8, 8, 16, 16), blocks=(0, 0, 0, 1), hidden=32)
    _, params, stats = nnx.split(PoseNet(tiny, 96, rngs=nnx.Rngs(0)), nnx.Param, nnx.BatchStat)
    model_io.save(tmp_path / "pose", tiny, "test_box", 96, params, stats, {"step": 1})
    networks = make_networks(23, 3, (16,), -0.5)
    meta = {"task": "test_box", "update": 1}
    save_policy(tmp_path / "policy", networks, networks.init(jax.random.PRNGKey(0)), RunningStats.create(23), meta)
    options = pipeline.ExportOptions(
        task="test_box", out=tmp_path / "out", vision_run=tmp_path / "pose", policy_run=tmp_path / "policy",
        parity_random=8, parity_data=box_renders,
    )  # fmt: skip
    manifest = pipeline.run_export(options, log=lambda _: None)
    assert manifest["task"] == "test_box"
    assert manifest["files"]["pose.onnx"]["input"]["shape"] == ["N", 3, 96, 96]
    assert manifest["files"]["pose.onnx"]["parity"][-1]["inputs"].startswith("8 renders")
    assert (tmp_path / "out" / "task.json").read_text() == task_json(TEST_BOX)
    report = contract.check_dir(tmp_path / "out", TEST_BOX)
    assert report.ok, report.format()
    assert not contract.check_dir(tmp_path / "out", CUBE).ok  # 96-pixel pose input, another task.json
    # A model trained for one profile is never exported as another's.
    with pytest.raises(pipeline.ExportError, match="trained for task profile 'test_box', not 'cube'"):
        pipeline.run_export(dataclasses.replace(options, task="cube", parity_data=None), log=lambda _: None)
