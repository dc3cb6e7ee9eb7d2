"""ONNX export: the browser contract, its checker, parity with JAX, a deterministic bounded
policy with normalization folded in, the export command's refusals, the shipped files.

Tiny models with random weights keep this fast: the whole export pipeline runs once per
module (``exported``), and every test reads its files.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import jax
import jax.numpy as jnp
import numpy as np
import onnx
import pytest
from flax import nnx
from onnx import helper

from experiments import check_onnx
from experiments import export as export_cli
from orient_jax import paths, profiles
from orient_jax.agents.normalization import RunningStats
from orient_jax.agents.ppo import policy_io
from orient_jax.agents.ppo.networks import make_networks
from orient_jax.export import contract, onnx_export, parity, pipeline
from orient_jax.vision import model_io
from orient_jax.vision.model import ModelConfig, PoseNet

pytestmark = pytest.mark.integration

CUBE = profiles.get("cube")
POSE, POLICY = contract.pose_contract(CUBE), contract.policy_contract(CUBE)

TINY_POSE = ModelConfig(widths=(8, 8, 16, 16), blocks=(0, 0, 0, 1), hidden=32)
OBS, ACT = CUBE.observation.size, CUBE.action.size


# --- fixtures: tiny models, saved as runs, exported once ----------------------------------


def _tiny_pose() -> PoseNet:
    """Random weights and random (not identity) batch statistics, in eval mode."""
    model = PoseNet(TINY_POSE, 224, rngs=nnx.Rngs(0))
    graphdef, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    leaves, tree = jax.tree.flatten(stats)
    keys = jax.random.split(jax.random.PRNGKey(1), len(leaves))
    leaves = [jax.random.uniform(k, x.shape, minval=0.5, maxval=2.0) for k, x in zip(keys, leaves)]
    model = nnx.merge(graphdef, params, jax.tree.unflatten(tree, leaves))
    model.eval()
    return model


def _tiny_policy():
    networks = make_networks(OBS, ACT, (16, 16), -0.5)
    params = networks.init(jax.random.PRNGKey(2))
    # The actor's last layer starts at scale 0.01; scale it up so that tanh saturates and
    # the bound is really exercised.
    actor = jax.tree.map(lambda x: x, params.actor)
    last = sorted(actor["params"])[-1]
    actor["params"][last]["kernel"] = actor["params"][last]["kernel"] * 300.0
    params = params.replace(actor=actor)
    key_mean, key_var = jax.random.split(jax.random.PRNGKey(3))
    normalizer = RunningStats(
        mean=jax.random.normal(key_mean, (OBS,)) * 2.0,
        var=jax.random.uniform(key_var, (OBS,), minval=0.05, maxval=4.0),
        count=jnp.asarray(1000.0),
    )
    return networks, params, normalizer


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Tiny pose model and policy, also saved as a vision and a rotation 'run'."""
    root = tmp_path_factory.mktemp("runs")
    pose = _tiny_pose()
    _, params, stats = nnx.split(pose, nnx.Param, nnx.BatchStat)
    model_io.save(root / "vision" / "model", TINY_POSE, "cube", 224, params, stats, {"step": 7})
    networks, policy_params, normalizer = _tiny_policy()
    meta = {"task": "cube", "update": 3}
    policy_io.save_policy(root / "rotation" / "policy", networks, policy_params, normalizer, meta)
    return {"root": root, "pose": pose, "policy": (networks, policy_params, normalizer)}


@pytest.fixture(scope="module")
def exported(tiny, tmp_path_factory):
    """The export pipeline run once on the tiny runs: (out dir, manifest)."""
    out = tmp_path_factory.mktemp("models")
    tiny_data = paths.REPO / "data" / "tiny"
    options = pipeline.ExportOptions(
        out=out,
        vision_run=tiny["root"] / "vision",
        policy_run=tiny["root"] / "rotation",
        parity_random=24,
        parity_data=tiny_data if (tiny_data / "manifest.json").exists() else None,
        parity_real=8,
    )
    manifest = pipeline.run_export(options, log=lambda _: None)
    return out, manifest


def _load(out, name) -> onnx.ModelProto:
    return onnx.load(str(out / name))


def _session(model: onnx.ModelProto):
    return parity.ort_session(model.SerializeToString())


def _broken(tmp_path, model: onnx.ModelProto, c: contract.ModelContract) -> contract.FileReport:
    path = tmp_path / c.file
    path.write_bytes(model.SerializeToString())
    return contract.check_file(path, c)


def _problems(report) -> str:
    return "\n".join(report.problems)


# --- the export command's result ----------------------------------------------------------


def test_export_writes_the_contract_files_and_they_pass_the_checker(exported):
    out, manifest = exported
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "policy.onnx", "pose.onnx", "task.json"]
    report = contract.check_dir(out, CUBE)
    assert report.ok, report.format()
    assert {f.file for f in report.files} == {"pose.onnx", "policy.onnx", "task.json", "manifest.json"}


def test_manifest_records_hashes_sources_versions_and_parity(exported):
    out, manifest = exported
    assert json.loads((out / "manifest.json").read_text()) == manifest
    for name in ("pose.onnx", "policy.onnx", "task.json"):
        entry = manifest["files"][name]
        data = (out / name).read_bytes()
        assert entry["sha256"] == contract.sha256_hex(data) and entry["bytes"] == len(data)
    pose, policy = manifest["files"]["pose.onnx"], manifest["files"]["policy.onnx"]
    assert pose["source"]["kind"] == "run" and pose["source"]["step"] == 7
    assert policy["source"]["kind"] == "run" and policy["source"]["update"] == 3
    assert pose["input"] == {"name": "input", "shape": ["N", 3, 224, 224], "dtype": "float32"}
    assert policy["output"] == {"name": "actions", "shape": ["N", 3], "dtype": "float32"}
    assert pose["ir_version"] <= contract.MAX_IR_VERSION and pose["opsets"]["ai.onnx"] <= contract.MAX_OPSET
    for entry in (pose, policy):
        assert entry["parity"] and all(p["max_abs"] <= parity.TOLERANCE for p in entry["parity"])
    assert manifest["pose_exported"] is True
    assert set(manifest["versions"]) >= {"jax2onnx", "onnx", "onnxruntime"} and manifest["git_sha"]


def test_manifest_catches_a_file_changed_after_export(exported, tmp_path):
    out, manifest = exported
    for name in ("policy.onnx", "task.json", "manifest.json"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    model = _load(out, "policy.onnx")
    model.doc_string = "edited by hand"
    (tmp_path / "policy.onnx").write_bytes(model.SerializeToString())
    report = contract.check_dir(tmp_path, CUBE, models=("policy",))
    assert not report.ok
    assert "policy.onnx changed after export" in _problems(report)


def test_stale_task_json_fails(exported, tmp_path):
    out, _ = exported
    task = json.loads((out / "task.json").read_text())
    task["observation"]["size"] = 22
    (tmp_path / "task.json").write_text(json.dumps(task))
    report = contract.check_task_json(tmp_path / "task.json", CUBE)
    assert not report.ok and "observation" in _problems(report) and "stale" in _problems(report)
    test_box = profiles.get("test_box")
    report = contract.check_task_json(out / "task.json", test_box)  # cube's file is not test_box's
    assert not report.ok and "does not match task profile 'test_box'" in _problems(report)


# --- broken files fail with a clear message -----------------------------------------------


def _rename_input(model: onnx.ModelProto, new: str) -> onnx.ModelProto:
    old = model.graph.input[0].name
    model.graph.input[0].name = new
    for node in model.graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
    return model


def _add_noise(model: onnx.ModelProto, op: str) -> onnx.ModelProto:
    """The original's bug: actions = mean + noise * 0.1, with a random op inside."""
    out = model.graph.output[0].name
    for node in model.graph.node:
        node.output[:] = ["mean_actions" if name == out else name for name in node.output]
    model.graph.initializer.append(onnx.numpy_helper.from_array(np.asarray(0.1, np.float32), "noise_scale"))
    if op == "RandomNormalLike":
        sampler = helper.make_node("RandomNormalLike", ["mean_actions"], ["noise"], name="sampler")
    else:
        sampler = helper.make_node("RandomNormal", [], ["noise"], name="sampler", shape=[1, ACT], dtype=1)
    model.graph.node.extend([
        sampler,
        helper.make_node("Mul", ["noise", "noise_scale"], ["scaled_noise"]),
        helper.make_node("Add", ["mean_actions", "scaled_noise"], [out]),
    ])  # fmt: skip
    return model


def _set_dims(value: onnx.ValueInfoProto, dims: list) -> None:
    shape = value.type.tensor_type.shape
    for d, want in zip(shape.dim, dims):
        if isinstance(want, int):
            d.dim_value = want
        else:
            d.dim_param = want


def _drop_tanh(model: onnx.ModelProto) -> onnx.ModelProto:
    """Remove the final tanh: the actor's raw output becomes 'actions'."""
    out = model.graph.output[0].name
    (tanh,) = [n for n in model.graph.node if out in n.output]
    assert tanh.op_type == "Tanh"
    model.graph.node.remove(tanh)
    for node in model.graph.node:
        node.output[:] = [out if name == tanh.input[0] else name for name in node.output]
    kept = [v for v in model.graph.value_info if v.name != tanh.input[0]]
    del model.graph.value_info[:]
    model.graph.value_info.extend(kept)
    return model


def _rename_output(model: onnx.ModelProto, new: str) -> onnx.ModelProto:
    old = model.graph.output[0].name
    model.graph.output[0].name = new
    for node in model.graph.node:
        node.output[:] = [new if name == old else name for name in node.output]
    return model


def _set_opset(model: onnx.ModelProto, version: int) -> onnx.ModelProto:
    model.opset_import[0].version = version
    return model


def _set_ir(model: onnx.ModelProto, version: int) -> onnx.ModelProto:
    model.ir_version = version
    return model


def _double_input(model: onnx.ModelProto) -> onnx.ModelProto:
    model.graph.input[0].type.tensor_type.elem_type = onnx.TensorProto.DOUBLE
    return model


def _fixed_batch(model: onnx.ModelProto) -> onnx.ModelProto:
    _set_dims(model.graph.input[0], [1])
    return model


def _wrong_output_shape(model: onnx.ModelProto) -> onnx.ModelProto:
    _set_dims(model.graph.output[0], ["N", ACT + 1])
    return model


BROKEN_POLICIES = {
    "renamed input": (lambda m: _rename_input(m, "obs"), "input is named 'obs', expected 'input'"),
    "renamed output": (lambda m: _rename_output(m, "action"), "output is named 'action', expected 'actions'"),
    "wrong output shape": (_wrong_output_shape, "output 'actions' has shape [N,4], expected [N,3]"),
    "fixed batch": (_fixed_batch, "the batch dimension is fixed at 1"),
    "float64 input": (_double_input, "input 'input' has type float64, expected float32"),
    "RandomNormalLike": (lambda m: _add_noise(m, "RandomNormalLike"), "random-sampling RandomNormalLike op"),
    "RandomNormal": (lambda m: _add_noise(m, "RandomNormal"), "random-sampling RandomNormal op"),
    "opset 23": (lambda m: _set_opset(m, 23), "opset 23 is newer than onnxruntime-web 1.30"),
    "IR 11": (lambda m: _set_ir(m, 11), "IR version 11 is newer than onnxruntime-web 1.30"),
    "no tanh": (_drop_tanh, "output 'actions' leaves [-1, 1] for large inputs"),
}


@pytest.mark.parametrize("variant", sorted(BROKEN_POLICIES))
def test_broken_policy_fails_with_a_message_naming_the_problem(exported, tmp_path, variant):
    out, _ = exported
    assert contract.check_file(out / "policy.onnx", POLICY).ok  # the unbroken file passes
    breaker, message = BROKEN_POLICIES[variant]
    report = _broken(tmp_path, breaker(_load(out, "policy.onnx")), POLICY)
    assert not report.ok
    assert message in _problems(report), _problems(report)
    assert all(p.startswith("policy.onnx: ") for p in report.problems)


def test_random_op_is_also_caught_at_run_time(exported, tmp_path):
    out, _ = exported
    report = _broken(tmp_path, _add_noise(_load(out, "policy.onnx"), "RandomNormalLike"), POLICY)
    assert "is not deterministic" in _problems(report)


def test_wrong_intermediate_shapes_fail_as_jax2onnx_wrote_them(exported, tmp_path):
    """jax2onnx 0.17.1 declared conv activations NHWC while the graph computes NCHW; the
    export re-infers them. Put one such declaration back: both onnx.checker and
    onnxruntime's MergeShapeInfo warning must fail the file."""
    out, _ = exported
    model = _load(out, "pose.onnx")
    (conv,) = [n for n in model.graph.node if n.op_type == "Conv"][:1]
    (value,) = [v for v in model.graph.value_info if v.name == conv.output[0]]
    dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
    assert dims[1] != dims[2]  # channels differ from height, so NHWC is detectably wrong
    _set_dims(value, [dims[0], dims[2], dims[3], dims[1]])
    report = _broken(tmp_path, model, POSE)
    problems = _problems(report)
    assert "fails onnx.checker.check_model(full_check=True)" in problems
    assert "onnxruntime printed" in problems and "MergeShapeInfo" in problems


def test_wrong_pose_input_shape_fails(exported, tmp_path):
    out, _ = exported
    model = _load(out, "pose.onnx")
    _set_dims(model.graph.input[0], ["N", 3, 112, 112])
    report = _broken(tmp_path, model, POSE)
    assert "input 'input' has shape [N,3,112,112], expected [N,3,224,224]" in _problems(report)


@pytest.mark.parametrize("content", [b"", b"not an onnx file at all", "truncated"])
def test_corrupt_or_missing_file_fails_clearly(exported, tmp_path, content):
    out, _ = exported
    if content == "truncated":
        content = (out / "policy.onnx").read_bytes()[:5000]
    (tmp_path / "policy.onnx").write_bytes(content)
    report = contract.check_file(tmp_path / "policy.onnx", POLICY)
    assert not report.ok and report.problems[0].startswith("policy.onnx: ")
    missing = contract.check_file(tmp_path / "nothing" / "policy.onnx", POLICY)
    assert "missing" in _problems(missing)


def test_check_onnx_cli_json_last_line(exported, tmp_path, capsys):
    out, _ = exported
    assert check_onnx.main([str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ok"] is True and result["files"]["pose.onnx"]["ok"] is True
    for name in ("policy.onnx", "task.json"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    assert check_onnx.main([str(tmp_path), "--json"]) == 1  # pose.onnx missing
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ok"] is False and any("pose.onnx: missing" in p for p in result["problems"])
    assert check_onnx.main([str(tmp_path), "--only", "policy", "--json", "--latency", "20"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ok"] is True and result["latency"]["policy.onnx"]["runs"] == 20
    assert check_onnx.main([str(tmp_path / "absent"), "--json"]) == 2


# --- parity -----------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 7])
def test_pose_parity_at_batch_1_and_7(exported, tiny, batch):
    out, _ = exported
    session = parity.ort_session(out / "pose.onnx")
    x = next(parity.random_images(CUBE, batch, batch=batch, seed=batch))
    got = session.run(["output"], {"input": x})[0]
    want = parity.pose_fn(tiny["pose"])(x)
    assert got.shape == (batch, 4)
    assert np.max(np.abs(got - want)) <= parity.TOLERANCE
    assert np.allclose(np.linalg.norm(got, axis=-1), 1, atol=1e-5) and np.all(got[:, 3] >= 0)


def test_policy_parity_on_1000_random_observations(exported, tiny):
    out, _ = exported
    p = parity.compare(
        parity.policy_fn(*tiny["policy"]),
        parity.ort_session(out / "policy.onnx"),
        parity.batched(parity.random_observations(1000, OBS, seed=5), 1000),
        "1000 random observations",
    )
    assert p.n == 1000 and p.single == 4
    assert p.max_abs <= parity.TOLERANCE and p.single_max_abs <= parity.TOLERANCE


def test_policy_folds_normalization_into_the_graph(exported, tiny):
    """ONNX(raw obs) == mean_action(normalize(raw obs)), and normalization matters here."""
    out, _ = exported
    networks, params, normalizer = tiny["policy"]
    raw = np.asarray(jax.random.normal(jax.random.PRNGKey(6), (64, OBS)) * 2.0, np.float32)
    got = parity.ort_session(out / "policy.onnx").run(["actions"], {"input": raw})[0]
    want = np.asarray(networks.mean_action(params, normalizer.normalize(raw)))
    unnormalized = np.asarray(networks.mean_action(params, raw))
    assert np.max(np.abs(got - want)) <= 1e-5
    assert np.max(np.abs(got - unnormalized)) > 0.1


def test_policy_is_deterministic_and_bounded(exported):
    out, _ = exported
    model = _load(out, "policy.onnx")
    assert not {n.op_type for n in model.graph.node} & contract.RANDOM_OPS
    session = _session(model)
    obs = np.asarray(jax.random.normal(jax.random.PRNGKey(7), (256, OBS)), np.float32)
    for scale in (1.0, 1e3, 1e8):
        a = session.run(["actions"], {"input": obs * scale})[0]
        b = session.run(["actions"], {"input": obs * scale})[0]
        assert np.array_equal(a, b)
        assert np.all(np.abs(a) <= 1.0)
    assert np.max(np.abs(a)) > 0.99  # saturated: the bound was really tested


def test_export_functions_pin_the_opset_and_leave_no_stale_shapes(tiny):
    proto = onnx_export.export_policy(*tiny["policy"], CUBE)
    assert proto.opset_import[0].version == contract.MAX_OPSET and proto.ir_version <= contract.MAX_IR_VERSION
    labels = {p.key: p.value for p in proto.metadata_props}
    assert labels["orient_jax.model"] == "policy" and labels["orient_jax.task"] == "cube"
    onnx.checker.check_model(proto, full_check=True)


# --- the export command refuses bad input and bad results ---------------------------------


def test_export_refuses_a_contract_failure_and_ships_nothing(tiny, tmp_path, monkeypatch):
    out = tmp_path / "models"
    out.mkdir()
    (out / "policy.onnx").write_bytes(b"previous file")
    real = onnx_export.export_policy
    monkeypatch.setattr(pipeline.onnx_export, "export_policy", lambda *a: _add_noise(real(*a), "RandomNormalLike"))
    options = pipeline.ExportOptions(out=out, vision_run=None, policy_run=tiny["root"] / "rotation", parity_random=8)
    monkeypatch.setattr(paths, "SHIPPED_POSE_MODEL", tmp_path / "no-pose-model")
    with pytest.raises(pipeline.RefusedError, match="RandomNormalLike"):
        pipeline.run_export(options, log=lambda _: None)
    assert sorted(p.name for p in out.iterdir()) == ["policy.onnx"]  # no staging left, nothing replaced
    assert (out / "policy.onnx").read_bytes() == b"previous file"


def test_export_without_a_pose_model_ships_the_policy_alone(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "SHIPPED_POSE_MODEL", tmp_path / "no-pose-model")
    notes = []
    options = pipeline.ExportOptions(out=tmp_path / "models", policy_run=tiny["root"] / "rotation", parity_random=8)
    manifest = pipeline.run_export(options, log=notes.append)
    assert manifest["pose_exported"] is False and "pose.onnx" not in manifest["files"]
    assert any("exporting the policy alone" in n for n in notes)
    assert sorted(p.name for p in options.out.iterdir()) == ["manifest.json", "policy.onnx", "task.json"]
    assert contract.check_dir(options.out, CUBE, models=("policy",)).ok


def test_export_cli_errors_on_missing_or_corrupt_runs(tiny, tmp_path, capsys):
    out = str(tmp_path / "models")
    assert export_cli.main(["--vision-run", str(tmp_path / "nope"), "--out", out]) == 2
    assert "--vision-run" in capsys.readouterr().err
    bad = tmp_path / "bad_policy"
    bad.mkdir()
    (bad / "policy.json").write_text((tiny["root"] / "rotation" / "policy" / "policy.json").read_text())
    (bad / "policy.msgpack").write_bytes(b"garbage")
    assert export_cli.main(["--policy-run", str(bad), "--parity-data", "none", "--out", out]) == 2
    assert "is corrupt or does not match" in capsys.readouterr().err
    assert not (tmp_path / "models" / "policy.onnx").exists()


# --- the shipped files --------------------------------------------------------------------


def test_shipped_files_pass_the_contract():
    shipped = pipeline.default_out(CUBE)
    models = ("policy", "pose") if (shipped / "pose.onnx").exists() else ("policy",)
    report = contract.check_dir(shipped, CUBE, models=models)
    assert report.ok, report.format()
    assert (shipped / "manifest.json").exists(), "ship the export's manifest.json too"


# --- the browser's runtime ----------------------------------------------------------------

WEB_ORT = paths.REPO / "web" / "node_modules" / "onnxruntime-web"


def test_web_runtime_parity_compares_the_bench_output(exported):
    out, _ = exported
    x = parity.fixed_input((1, OBS))
    y = parity.ort_session(out / "policy.onnx").run(["actions"], {"input": x})[0].ravel()
    result = {"results": [{"file": "policy.onnx", "output_for_fixed_input": y.tolist()}]}
    assert parity.web_runtime_parity(out, CUBE, result) == {"policy.onnx": 0.0}
    result["results"][0]["output_for_fixed_input"] = (y + 1e-3).tolist()
    assert parity.web_runtime_parity(out, CUBE, result)["policy.onnx"] > parity.TOLERANCE


@pytest.mark.skipif(not WEB_ORT.is_dir(), reason="web/node_modules has no onnxruntime-web (npm ci in web/)")
def test_onnxruntime_web_runs_the_export_like_onnxruntime(exported):
    """Node + onnxruntime-web (WASM), as the browser runs it: same outputs, and timings."""
    out, _ = exported
    node = shutil.which("node")
    assert node, "node is needed for the web runtime"
    bench = paths.REPO / "web" / "bench" / "ort-latency.mjs"
    cmd = [node, str(bench), "--dir", str(out), "--runs", "3", "--warmup", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ok"] and {r["file"] for r in result["results"]} == {"pose.onnx", "policy.onnx"}
    assert all(r["mean_ms"] > 0 for r in result["results"])
    diffs = parity.web_runtime_parity(out, CUBE, result)
    assert set(diffs) == {"pose.onnx", "policy.onnx"} and max(diffs.values()) <= parity.TOLERANCE
