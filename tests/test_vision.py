"""The orientation CNN: rotation head, metric, labels, preprocessing, training, eval, IO."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from experiments import eval_vision, train_vision
from experiments.configs.vision import PRESETS
from orient_jax import paths, profiles, quat
from orient_jax.envs import noise
from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig
from orient_jax.vision import data as data_lib
from orient_jax.vision import dataset, metrics, model_io, rotation6d
from orient_jax.vision import run as vision_run
from orient_jax.vision import train as train_lib
from orient_jax.vision.model import ModelConfig, PoseNet, macs
from tests import test_dataset

CUBE = profiles.get("cube")

TINY_MODEL = ModelConfig(widths=(8, 8, 16, 16), blocks=(0, 0, 0, 1), hidden=32)


def deg(x) -> np.ndarray:
    return np.degrees(np.asarray(x))


# --- rotation head and metric -------------------------------------------------------------


@pytest.mark.unit
def test_rotation_head_round_trips_quaternion_to_6d_and_back():
    q = quat.canonical(quat.random_uniform(jax.random.PRNGKey(0), (4096,)))
    six = rotation6d.from_matrix(quat.to_matrix(q))
    back = quat.from_matrix(rotation6d.to_matrix(six))
    assert float(jnp.max(jnp.abs(back - q))) < 2e-6
    assert bool(jnp.all(back[:, 3] >= 0))


@pytest.mark.unit
@pytest.mark.parametrize("axis", [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 1, 1)])
def test_from_matrix_handles_half_turns_and_identity(axis):
    """Half turns have w = 0, where naive formulas divide by zero; every pivot of
    Shepperd's method gets used by one of these."""
    axis = jnp.asarray(axis, jnp.float32) / np.linalg.norm(axis)
    for angle in (0.0, math.pi, math.pi - 1e-3, 1e-4):
        q = quat.from_axis_angle(axis, jnp.asarray(angle))
        back = quat.from_matrix(quat.to_matrix(q))
        assert deg(quat.geodesic_angle(back, q)) < 1e-3
        assert abs(float(jnp.linalg.norm(back)) - 1) < 1e-6


@pytest.mark.unit
def test_6d_head_orthonormalizes_any_input():
    six = jax.random.normal(jax.random.PRNGKey(1), (256, 6)) * 3
    r = rotation6d.to_matrix(six)
    eye = jnp.einsum("nji,njk->nik", r, r)
    assert float(jnp.max(jnp.abs(eye - jnp.eye(3)))) < 1e-5
    assert float(jnp.min(jnp.linalg.det(r))) > 0.9999  # proper rotations, never reflections


@pytest.mark.unit
def test_geodesic_metric_matches_hand_computed_angles():
    x90 = quat.from_axis_angle(jnp.array([1.0, 0, 0]), jnp.asarray(math.pi / 2))
    ident = jnp.array([0.0, 0, 0, 1])
    # 90 deg about x vs identity: 90 deg. Half turn about y vs identity: 180 deg.
    assert deg(quat.geodesic_angle(x90, ident)) == pytest.approx(90.0, abs=1e-4)
    assert deg(quat.geodesic_angle(jnp.array([0.0, 1, 0, 0]), ident)) == pytest.approx(180.0, abs=1e-4)
    # 30 deg about z then 40 deg about z differ by 10 deg.
    z = jnp.array([0.0, 0, 1])
    a, b = quat.from_axis_angle(z, jnp.radians(30.0)), quat.from_axis_angle(z, jnp.radians(40.0))
    assert deg(quat.geodesic_angle(a, b)) == pytest.approx(10.0, abs=1e-3)
    # Small angles stay accurate in float32 (arccos of a dot product would not: it is flat at 1).
    one = quat.from_axis_angle(jnp.array([0.0, 0.6, 0.8]), jnp.radians(1.0))
    assert deg(quat.geodesic_angle(one, ident)) == pytest.approx(1.0, abs=1e-4)
    # Same via the metrics summary: the figures are order statistics of these angles.
    s = metrics.summarize(np.array([1.0, 2.0, 3.0, 4.0, 100.0]))
    assert (s["median_deg"], s["mean_deg"], s["n"], s["acc_5deg"]) == (3.0, 22.0, 5, 0.8)


@pytest.mark.unit
def test_q_and_minus_q_count_as_the_same_orientation():
    q = quat.random_uniform(jax.random.PRNGKey(2), (512,))
    assert float(jnp.max(deg(quat.geodesic_angle(q, -q)))) < 1e-4
    # The training loss compares matrices, and R(q) == R(-q) exactly.
    assert float(jnp.max(jnp.abs(quat.to_matrix(q) - quat.to_matrix(-q)))) == 0.0
    pred = quat.to_matrix(quat.random_uniform(jax.random.PRNGKey(3), (512,)))
    np.testing.assert_array_equal(
        train_lib.rotation_loss(pred, quat.to_matrix(q)), train_lib.rotation_loss(pred, quat.to_matrix(-q))
    )
    # And the evaluation: flipping every label's sign changes no error.
    guess = np.asarray(quat.random_uniform(jax.random.PRNGKey(5), (512,)))
    a = train_lib.angular_errors_deg(guess, np.asarray(q))
    np.testing.assert_allclose(a, train_lib.angular_errors_deg(guess, -np.asarray(q)), atol=1e-3)
    np.testing.assert_allclose(a, train_lib.angular_errors_deg(-guess, np.asarray(q)), atol=1e-3)


@pytest.mark.unit
def test_loss_is_about_sqrt2_times_the_angle_for_small_errors():
    axis = jnp.array([0.0, 0.0, 1.0])
    for angle_deg in (0.5, 2.0, 8.0):
        r = quat.to_matrix(quat.from_axis_angle(axis, jnp.radians(angle_deg)))
        loss = float(train_lib.rotation_loss(r[None], jnp.eye(3)[None])[0])
        assert loss == pytest.approx(math.sqrt(2) * math.radians(angle_deg), rel=1e-3)


# --- labels and preprocessing ----------------------------------------------------------------


@pytest.mark.unit
def test_view_labels_put_the_object_where_the_jittered_camera_saw_it():
    """In camera coordinates, the body seen by a jittered camera (looking at the box)
    with the stored label must equal the body seen by the spec camera with the view label."""
    rng = np.random.default_rng(0)
    n = 64
    el, az = np.radians(30 + rng.uniform(-3, 3, n)), np.radians(rng.uniform(-3, 3, n))
    d = CUBE.camera.distance * (1 + rng.uniform(-0.04, 0.04, n))
    pos = d[:, None] * np.stack([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)], 1)
    roll = rng.uniform(-3, 3, n)
    q = np.asarray(quat.canonical(quat.random_uniform(jax.random.PRNGKey(4), (n,))))
    qv = data_lib.view_labels(q, {"cam_position": pos, "cam_roll_deg": roll}, CUBE.camera)
    corners = np.array([[sx, sy, sz] for sx in (-0.1, 0.1) for sy in (-0.1, 0.1) for sz in (-0.1, 0.1)])
    seen = np.einsum("nij,njk,pk->npi", data_lib.camera_rotation(pos, 0 * pos, roll), quat.to_matrix(q), corners)
    spec = np.einsum("ij,njk,pk->npi", data_lib.spec_camera_rotation(CUBE.camera), quat.to_matrix(qv), corners)
    np.testing.assert_allclose(seen, spec, atol=1e-6)
    assert 0.5 < np.median(deg(quat.geodesic_angle(q, qv))) < 6  # the jitter is really corrected
    assert np.all(qv[:, 3] >= 0)
    # The spec camera itself needs no correction.
    nominal = data_lib.spec_camera_rotation(CUBE.camera)[2] * -CUBE.camera.distance
    same = data_lib.view_labels(q, {"cam_position": np.tile(nominal, (n, 1)), "cam_roll_deg": np.zeros(n)}, CUBE.camera)
    np.testing.assert_allclose(same, q, atol=1e-6)


@pytest.mark.unit
def test_a_camera_aimed_off_the_box_is_turned_to_face_it_not_rolled():
    """cam_target off the box: the label is what the camera turned (the smallest rotation,
    about an axis across its view) until it faces the box would see; aimed at the box, it
    is the look-at camera itself."""
    rng = np.random.default_rng(1)
    n = 256
    el, az = np.radians(30 + rng.uniform(-8, 8, n)), np.radians(rng.uniform(-8, 8, n))
    pos = CUBE.camera.distance * np.stack([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)], 1)
    target, roll = rng.uniform(-0.04, 0.04, (n, 3)), rng.uniform(-8, 8, n)
    real = data_lib.camera_rotation(pos, target, roll)
    turned = data_lib.turned_camera_rotation(pos, target, roll)
    np.testing.assert_allclose(turned[:, 2], -pos / np.linalg.norm(pos, axis=1, keepdims=True), atol=1e-12)
    turn = np.transpose(turned, (0, 2, 1)) @ real  # world rotation taking each real axis to its turned one
    axis = np.stack([turn[:, 2, 1] - turn[:, 1, 2], turn[:, 0, 2] - turn[:, 2, 0], turn[:, 1, 0] - turn[:, 0, 1]], 1)
    assert np.abs(np.einsum("ni,ni->n", axis, real[:, 2])).max() < 1e-12  # no turn about the view
    np.testing.assert_allclose(
        data_lib.turned_camera_rotation(pos, 0 * pos, roll), data_lib.camera_rotation(pos, 0 * pos, roll), atol=1e-12
    )
    # The label: the body seen by the turned camera = the body seen by the spec camera.
    q = np.asarray(quat.canonical(quat.random_uniform(jax.random.PRNGKey(5), (n,))))
    params = {"cam_position": pos, "cam_target": target, "cam_roll_deg": roll}
    qv = data_lib.view_labels(q, params, CUBE.camera)
    corners = np.array([[sx, sy, sz] for sx in (-0.1, 0.1) for sy in (-0.1, 0.1) for sz in (-0.1, 0.1)])
    seen = np.einsum("nij,njk,pk->npi", turned, quat.to_matrix(q), corners)
    spec = np.einsum("ij,njk,pk->npi", data_lib.spec_camera_rotation(CUBE.camera), quat.to_matrix(qv), corners)
    np.testing.assert_allclose(seen, spec, atol=1e-5)
    # Against look-at towards the box with the same roll: a roll of about a degree at 4 cm.
    looked = data_lib.view_labels(q, {"cam_position": pos, "cam_roll_deg": roll}, CUBE.camera)
    gap = deg(quat.geodesic_angle(qv, looked))
    assert 0.2 < np.median(gap) < 3.0 and gap.max() < 6.0


@pytest.mark.unit
def test_preprocess_is_the_contract_formula():
    img = np.zeros((2, 224, 224, 3), np.uint8)
    img[0] = 255
    img[1, 10, 20] = (0, 128, 255)
    x = np.asarray(data_lib.preprocess(img, CUBE.onnx))
    assert x.shape == (2, 3, 224, 224) and x.dtype == np.float32
    mean, std = np.array(CUBE.onnx.image_mean), np.array(CUBE.onnx.image_std)
    np.testing.assert_allclose(x[0, :, 0, 0], (1 - mean) / std, rtol=1e-6)
    np.testing.assert_allclose(x[1, :, 10, 20], (np.array([0, 128, 255]) / 255 - mean) / std, rtol=1e-6)


@pytest.mark.unit
def test_augmentation_is_bounded_and_keyed():
    img = jnp.full((4, 16, 16, 3), 128, jnp.uint8)
    aug = data_lib.Augmentation()
    a = data_lib.augment(jax.random.PRNGKey(0), img, aug)
    assert a.shape == img.shape and float(a.min()) >= 0 and float(a.max()) <= 255
    np.testing.assert_array_equal(a, data_lib.augment(jax.random.PRNGKey(0), img, aug))
    assert not np.array_equal(a, data_lib.augment(jax.random.PRNGKey(1), img, aug))
    with pytest.raises(ValueError, match="augmentation"):
        data_lib.Augmentation(exposure=1.5)


# --- model -------------------------------------------------------------------------------------


@pytest.mark.integration
def test_model_takes_the_contract_input_and_returns_unit_quaternions():
    model = PoseNet(TINY_MODEL, 224, rngs=nnx.Rngs(0))
    model.eval()
    for n in (1, 3):
        q = model(jax.random.normal(jax.random.PRNGKey(n), (n, 3, 224, 224)))
        assert q.shape == (n, 4)
        np.testing.assert_allclose(jnp.linalg.norm(q, axis=-1), 1.0, atol=1e-5)
        assert bool(jnp.all(q[:, 3] >= 0))
    default = ModelConfig()
    assert macs(default, 224) < 60e6, "the browser runs this every frame: keep it small"
    with pytest.raises(ValueError, match="blocks"):
        ModelConfig(widths=(8, 8), blocks=(0,))


# --- training ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_images(tiny_dataset):
    return data_lib.load(tiny_dataset, CUBE)


@pytest.mark.integration
def test_a_few_training_steps_on_real_renders_reduce_the_loss(tiny_images):
    """16 steps over the same 8 real renders: the loss on them must fall well below where it started."""
    exp = dataclasses.replace(PRESETS.get("test"), model=TINY_MODEL, learning_rate=3e-3, warmup_steps=0)
    trainer = train_lib.make_trainer(exp, CUBE, steps_per_epoch=16)
    state = trainer.init(jax.random.PRNGKey(0))
    images, labels = tiny_images.images[:8], tiny_images.quats[:8]
    losses = []
    for _ in range(16):
        state, m = trainer.update(state, images, labels)
        losses.append(float(m["loss"]))
    assert np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3]), losses


@pytest.mark.integration
def test_train_cli_runs_resumes_exactly_and_evaluates(tiny_dataset, tmp_path, capsys):
    common = [f"data={tiny_dataset}", f"test_data={tiny_dataset}"]
    straight, parted = tmp_path / "straight", tmp_path / "parted"
    assert train_vision.main(["--config", "test", "--run", str(straight), "--no-eval", *common]) == 0
    assert train_vision.main(["--config", "test", "--run", str(parted), "--stop-after", "3", *common]) == 0
    assert "resume with --run" in capsys.readouterr().out
    assert train_vision.main(["--run", str(parted)]) == 0  # resumes, finishes, evaluates
    a, _ = model_io.load(straight)
    b, _ = model_io.load(parted)
    for x, y in zip(jax.tree.leaves(nnx.state(a)), jax.tree.leaves(nnx.state(b))):
        np.testing.assert_array_equal(x, y)
    rows = [json.loads(line) for line in (parted / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in rows] == list(range(1, len(rows) + 1))  # each step logged once
    assert any("val_median_deg" in r for r in rows)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == 32 and (parted / "error_histogram.png").stat().st_size > 0
    # A different config for the same run directory is refused.
    assert train_vision.main(["--run", str(parted), "epochs=5"]) == 2
    assert "different config" in capsys.readouterr().err


@pytest.mark.integration
def test_eval_writes_figures_and_an_error_model_the_env_loads(tiny_dataset, tmp_path, capsys):
    model = PoseNet(TINY_MODEL, 224, rngs=nnx.Rngs(0))
    _, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    model_io.save(tmp_path / "model", TINY_MODEL, "cube", 224, params, stats, {"step": 0})
    out = tmp_path / "eval"
    args = ["--run", str(tmp_path / "model"), "--data", str(tiny_dataset), "--out", str(out), "--json"]
    assert eval_vision.main(args) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # stdout is the document alone; the human lines went to stderr
    assert "geodesic error:" in captured.err
    assert {"median_deg", "p95_deg", "n", "acc_5deg", "acc_10deg", "acc_15deg"} <= set(result)
    errors = np.load(out / "errors_deg.npy")
    assert result["median_deg"] == pytest.approx(float(np.median(errors)), abs=1e-4)
    model_noise = noise.load(out / "error_model.json")
    assert model_noise.median_deg() == pytest.approx(float(np.median(errors)), abs=0.01)
    env = RotationEnv(CUBE, RotationEnvConfig(noise_model=str(out / "error_model.json")))
    obs = env.reset(jax.random.PRNGKey(0)).obs
    assert obs.shape == (CUBE.observation.size,) and bool(jnp.all(jnp.isfinite(obs)))


@pytest.mark.integration
def test_missing_or_corrupt_models_and_data_stop_with_clear_errors(tmp_path, capsys):
    assert eval_vision.main(["--run", str(tmp_path / "nothing"), "--data", str(tmp_path)]) == 2
    assert "no orientation model" in capsys.readouterr().err
    model = PoseNet(TINY_MODEL, 224, rngs=nnx.Rngs(0))
    _, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    folder = model_io.save(tmp_path / "m", TINY_MODEL, "cube", 224, params, stats, {})
    (folder / "model.msgpack").write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="corrupt"):
        model_io.load(folder)
    model_io.save(folder, TINY_MODEL, "cube", 224, params, stats, {})
    assert eval_vision.main(["--run", str(folder), "--data", str(tmp_path / "no-data")]) == 2
    assert "no dataset" in capsys.readouterr().err
    assert train_vision.main(["--config", "nope"]) == 2
    assert train_vision.main(["--config", "test", "batch_size=0"]) == 2
    capsys.readouterr()
    # A dataset that is not there stops the run before a run directory is made.
    runs_root = tmp_path / "runs"
    args = ["--config", "test", "--runs-root", str(runs_root), f"data={tmp_path / 'no-data'}"]
    assert train_vision.main(args) == 2
    assert capsys.readouterr().err.startswith(f"error: no dataset at {tmp_path / 'no-data'}")
    assert not runs_root.exists()


@pytest.mark.integration
def test_fine_tuning_starts_from_the_given_model(tmp_path):
    model = PoseNet(TINY_MODEL, 224, rngs=nnx.Rngs(7))
    _, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    folder = model_io.save(tmp_path / "m", TINY_MODEL, "cube", 224, params, stats, {})
    exp = dataclasses.replace(PRESETS.get("test"), model=TINY_MODEL, init_from=str(folder))
    state = train_lib.make_trainer(exp, CUBE, steps_per_epoch=4).init(jax.random.PRNGKey(0))
    for x, y in zip(jax.tree.leaves(state.params), jax.tree.leaves(params)):
        np.testing.assert_array_equal(x, y)
    other = dataclasses.replace(exp, model=ModelConfig(widths=(8, 8, 16, 32), blocks=(0, 0, 0, 1), hidden=32))
    with pytest.raises(ValueError, match=r"holds .* on 224-pixel images, but this run trains"):
        train_lib.make_trainer(other, CUBE, steps_per_epoch=4).init(jax.random.PRNGKey(0))


@pytest.mark.integration
def test_a_dataset_or_start_model_of_another_image_size_stops_before_a_run_directory(tmp_path, capsys):
    """A manifest whose images are not the profile's camera size (say 64-pixel renders for
    the 224-pixel cube CNN), and a start model of another architecture or image size, are
    each one `error:` line and leave no run directory."""
    data = test_dataset.make_dataset(tmp_path / "data")
    manifest = json.loads((data / dataset.MANIFEST_FILE).read_text())
    (data / dataset.MANIFEST_FILE).write_text(json.dumps({**manifest, "image_size": 64}))
    runs_root = tmp_path / "runs"
    base = ["--config", "test", "--runs-root", str(runs_root), f"data={data}", f"test_data={data}"]
    assert train_vision.main(base) == 2
    message = r"error: .*holds 64-pixel images, but 'cube' takes 224-pixel ones; .*\n"
    assert re.fullmatch(message, capsys.readouterr().err)
    assert not runs_root.exists()

    (data / dataset.MANIFEST_FILE).write_text(json.dumps(manifest))
    model = PoseNet(TINY_MODEL, 64, rngs=nnx.Rngs(7))
    _, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    folder = model_io.save(tmp_path / "m", TINY_MODEL, "cube", 64, params, stats, {})
    assert train_vision.main([*base, f"init_from={folder}"]) == 2
    assert re.fullmatch(r"error: init_from=.* on 64-pixel images, but this run trains .* on 224-pixel images\n",
                        capsys.readouterr().err)  # fmt: skip
    assert not runs_root.exists()


@pytest.mark.integration
def test_shipped_model_sees_fresh_renders_and_its_eval_meets_the_goal(tiny_images):
    """The shipped weights work on images rendered in this session (the tiny preset: the
    same draws as data/full's first 32, so training images; this checks loading and the
    whole render -> labels -> model path, not generalization), and the held-out test
    figures shipped with them meet the goal."""
    model, info = model_io.load(None)
    pred = vision_run.predict(model, tiny_images.images, CUBE.onnx, batch=32)
    errors = train_lib.angular_errors_deg(pred, tiny_images.quats)
    assert np.median(errors) < 4.0, np.sort(errors)
    shipped = json.loads((paths.SHIPPED_POSE_MODEL / "eval" / "vision_eval.json").read_text())
    assert shipped["n"] >= 2048 and shipped["median_deg"] <= 2.0 and shipped["p95_deg"] <= 8.0
    assert info["shipped_eval"]["median_deg"] == shipped["median_deg"]
    noise.load(paths.SHIPPED_POSE_MODEL / "eval" / "error_model.json")  # valid for the env
