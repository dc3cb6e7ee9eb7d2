"""Installing the `original` profile's models into a runtime's folder: it checks the
runtime and the export, backs up what it replaces, copies atomically, and restores.

The runtime here is a stand-in folder (the original is never vendored): a profile whose
runtime record lists the stand-in's files stands in for the real one's hashes.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json

import jax
import pytest
from flax import nnx

from experiments import install_original
from orient_jax import profiles
from orient_jax.agents.normalization import RunningStats
from orient_jax.agents.ppo import policy_io
from orient_jax.agents.ppo.networks import make_networks
from orient_jax.export import install, pipeline
from orient_jax.vision import model_io
from orient_jax.vision.model import ModelConfig, PoseNet

pytestmark = pytest.mark.integration

ORIGINAL = profiles.get("original")
TINY_POSE = ModelConfig(widths=(8, 8, 16, 16), blocks=(0, 0, 0, 1), hidden=32)
RUNTIME_FILES = {"index.html": b"<html>the page</html>", "static/js/physics.js": b"// physics"}


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    """The original profile's two models, tiny and random, through the real exporter."""
    root = tmp_path_factory.mktemp("runs")
    pose = PoseNet(TINY_POSE, ORIGINAL.camera.resolution, rngs=nnx.Rngs(0))
    _, params, stats = nnx.split(pose, nnx.Param, nnx.BatchStat)
    model_io.save(root / "pose", TINY_POSE, "original", ORIGINAL.camera.resolution, params, stats, {"step": 1})
    networks = make_networks(ORIGINAL.observation.size, ORIGINAL.action.size, (16, 16), -0.5)
    normalizer = RunningStats.create(ORIGINAL.observation.size)
    policy_io.save_policy(root / "policy", networks, networks.init(jax.random.PRNGKey(0)), normalizer,
                          {"task": "original", "update": 1})  # fmt: skip
    out = root / "export"
    options = pipeline.ExportOptions(task="original", out=out, vision_run=root / "pose", policy_run=root / "policy",
                                     parity_random=8, parity_data=None)  # fmt: skip
    pipeline.run_export(options, log=lambda _: None)
    return out


def stand_in_runtime(folder):
    """A folder with the runtime's layout and its own models, and a profile that records it."""
    for name, data in RUNTIME_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    models = folder / ORIGINAL.artifacts.runtime_models_dir
    models.mkdir(parents=True, exist_ok=True)
    (models / ORIGINAL.artifacts.pose_file).write_bytes(b"their pose model")
    (models / ORIGINAL.artifacts.policy_file).write_bytes(b"their policy")
    files = tuple(sorted((n, hashlib.sha256(d).hexdigest()) for n, d in RUNTIME_FILES.items()))
    return dataclasses.replace(ORIGINAL, runtime=dataclasses.replace(ORIGINAL.runtime, files=files)), models


def test_install_checks_backs_up_and_copies(export_dir, tmp_path):
    spec, models = stand_in_runtime(tmp_path)
    when = datetime.datetime(2026, 11, 30, 12, 0, 0, tzinfo=datetime.UTC)
    result = install.install(export_dir, tmp_path, spec, now=when)
    backup = models / "backup-20261130T120000Z"
    assert result["backup"] == str(backup)
    for name in (spec.artifacts.pose_file, spec.artifacts.policy_file):
        assert (models / name).read_bytes() == (export_dir / name).read_bytes()
    assert (backup / spec.artifacts.pose_file).read_bytes() == b"their pose model"
    assert (backup / spec.artifacts.policy_file).read_bytes() == b"their policy"
    assert not list(models.glob(".*installing"))
    # Again: nothing differs, so nothing is copied and no backup is made.
    again = install.install(export_dir, tmp_path, spec, now=when + datetime.timedelta(seconds=5))
    assert again["installed"] == [] and again["backup"] is None and len(again["unchanged"]) == 2
    # Restore puts their files back and keeps the backup.
    restored = install.restore(tmp_path, spec)
    assert restored["backup"] == str(backup) and len(restored["restored"]) == 2
    assert (models / spec.artifacts.policy_file).read_bytes() == b"their policy"
    assert backup.is_dir()


def test_a_changed_runtime_or_a_broken_export_changes_nothing(export_dir, tmp_path):
    spec, models = stand_in_runtime(tmp_path)
    (tmp_path / "static/js/physics.js").write_bytes(b"// edited")
    with pytest.raises(install.InstallError, match=r"static/js/physics.js differs from .*6957ebb.*unchanged checkout"):
        install.install(export_dir, tmp_path, spec)
    (tmp_path / "static/js/physics.js").write_bytes(RUNTIME_FILES["static/js/physics.js"])
    (tmp_path / "index.html").unlink()
    with pytest.raises(install.InstallError, match=r"index.html is missing"):
        install.install(export_dir, tmp_path, spec)
    (tmp_path / "index.html").write_bytes(RUNTIME_FILES["index.html"])
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in export_dir.iterdir():
        broken.joinpath(f.name).write_bytes(f.read_bytes())
    data = (broken / spec.artifacts.policy_file).read_bytes()
    (broken / spec.artifacts.policy_file).write_bytes(data[: len(data) // 2])
    with pytest.raises(install.InstallError, match=r"fails its contract check .*nothing installed: rl-model.onnx"):
        install.install(broken, tmp_path, spec)
    assert (models / spec.artifacts.policy_file).read_bytes() == b"their policy"
    assert not list(models.glob("backup-*"))
    with pytest.raises(install.InstallError, match="no backup"):
        install.restore(tmp_path, spec)


def test_the_command_refuses_a_folder_that_is_not_the_original(export_dir, tmp_path, capsys):
    spec, models = stand_in_runtime(tmp_path)  # its hashes are not the real original's
    assert install_original.main(["--runtime-dir", str(tmp_path), "--models", str(export_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and err[0].startswith("error: ") and "index.html differs from" in err[0] and "6957ebb" in err[0]
    )
    assert (models / spec.artifacts.policy_file).read_bytes() == b"their policy"
    assert install_original.main(["--runtime-dir", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_the_command_with_json_prints_one_document(export_dir, tmp_path, capfd, monkeypatch):
    spec, models = stand_in_runtime(tmp_path)
    monkeypatch.setattr(install_original.profiles, "get", lambda name: spec)
    args = ["--runtime-dir", str(tmp_path), "--models", str(export_dir), "--json"]
    assert install_original.main(args) == 0
    out, err = capfd.readouterr()
    result = json.loads(out)  # stdout is the document alone; the human lines went to stderr
    assert len(result["installed"]) == 2 and f"installed {models}" in err
