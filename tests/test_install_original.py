"""Installing the `original` profile's models into a runtime's folder: it checks the
runtime and the export, backs up what it replaces, copies atomically, and restores.

The runtime here is a stand-in folder (the original is never vendored): a profile whose
runtime record lists the stand-in's files stands in for the real one's hashes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

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


def tree(folder):
    """Every file under ``folder`` with its bytes (symlinks as their targets)."""
    return {
        str(p.relative_to(folder)): (f"-> {os.readlink(p)}" if p.is_symlink() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


def test_install_backs_up_once_swaps_in_and_restore_undoes_it_exactly(export_dir, tmp_path):
    spec, models = stand_in_runtime(tmp_path)
    (models / spec.artifacts.pose_file).unlink()  # like the original's checkout: no pose model of its own
    before = tree(tmp_path)
    result = install.install(export_dir, tmp_path, spec)
    backup = models / install.BACKUP
    assert result["backup"] == str(backup) and result["backup_made"]
    for name in (spec.artifacts.pose_file, spec.artifacts.policy_file):
        assert (models / name).read_bytes() == (export_dir / name).read_bytes()
    manifest = json.loads((backup / install.MANIFEST).read_text())
    assert manifest["files"] == {spec.artifacts.pose_file: None,
                                 spec.artifacts.policy_file: hashlib.sha256(b"their policy").hexdigest()}  # fmt: skip
    assert manifest["runtime_own"] == {spec.artifacts.policy_file: False}  # not the real original's bytes
    assert not [p for p in models.iterdir() if p.name.startswith(".")]  # no temporary file is left
    # Again: nothing differs, nothing is copied, and the first backup stays as it was.
    first = tree(backup)
    again = install.install(export_dir, tmp_path, spec)
    assert again["installed"] == [] and not again["backup_made"] and len(again["unchanged"]) == 2
    assert tree(backup) == first
    # Restore: the policy comes back, the pose model we added goes, and so does the backup.
    restored = install.restore(tmp_path, spec)
    assert restored["restored"] == [str(models / spec.artifacts.policy_file)]
    assert restored["removed"] == [str(models / spec.artifacts.pose_file)]
    assert tree(tmp_path) == before


def test_the_backup_is_checked_against_the_runtime_s_own_model_hashes(export_dir, tmp_path):
    spec, models = stand_in_runtime(tmp_path)
    theirs = (models / spec.artifacts.policy_file).read_bytes()
    own = ((f"static/models/{spec.artifacts.policy_file}", install.git_blob_sha1(theirs)),)
    spec = dataclasses.replace(spec, runtime=dataclasses.replace(spec.runtime, models=own))
    install.install(export_dir, tmp_path, spec)
    manifest = json.loads((models / install.BACKUP / install.MANIFEST).read_text())
    assert manifest["runtime_own"][spec.artifacts.policy_file] is True
    # The real record: rl-model.onnx's blob hash at 6957ebb, the one git prints for it.
    assert dict(ORIGINAL.runtime.models)["static/models/rl-model.onnx"] == "6dcbac4d22ba532c01029db011c7b3a2870273d3"


def test_a_backup_cut_short_leaves_the_runtime_whole_and_restore_refuses_it(export_dir, tmp_path, monkeypatch):
    """Killed halfway through writing the backup: the runtime keeps its files, there is no
    backup to restore from, and the next install starts the backup again."""
    spec, models = stand_in_runtime(tmp_path)
    before = tree(tmp_path)
    real = install._write_new

    def dies_halfway(path, data):
        real(path, data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(install, "_write_new", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        install.install(export_dir, tmp_path, spec)
    monkeypatch.setattr(install, "_write_new", real)
    live = {k: v for k, v in tree(tmp_path).items() if f".{install.BACKUP}.partial" not in k}
    assert live == before
    with pytest.raises(install.InstallError, match="no backup"):
        install.restore(tmp_path, spec)
    install.install(export_dir, tmp_path, spec)
    install.restore(tmp_path, spec)
    assert tree(tmp_path) == before


def test_a_damaged_backup_is_refused_by_name_and_nothing_changes(export_dir, tmp_path):
    spec, models = stand_in_runtime(tmp_path)
    install.install(export_dir, tmp_path, spec)
    copy = models / install.BACKUP / spec.artifacts.policy_file
    copy.write_bytes(copy.read_bytes()[:5])
    installed = tree(tmp_path)
    with pytest.raises(install.InstallError, match=f"backup .* is damaged: {spec.artifacts.policy_file} differs"):
        install.restore(tmp_path, spec)
    with pytest.raises(install.InstallError, match="is damaged"):
        install.install(export_dir, tmp_path, spec)  # nor is a damaged backup replaced by a new one
    assert tree(tmp_path) == installed


def test_a_planted_symlink_is_refused_and_its_target_untouched(export_dir, tmp_path):
    spec, models = stand_in_runtime(tmp_path / "rt")
    victim = tmp_path / "victim"
    victim.write_bytes(b"mine")
    for planted in (f".{spec.artifacts.policy_file}{install.NEW}", install.JOURNAL, spec.artifacts.policy_file):
        link = models / planted
        link.unlink(missing_ok=True)
        link.symlink_to(victim)
        with pytest.raises(install.InstallError, match="symlink"):
            install.install(export_dir, tmp_path / "rt", spec)
        assert victim.read_bytes() == b"mine"
        link.unlink()
        if planted == spec.artifacts.policy_file:
            link.write_bytes(b"their policy")


def test_an_install_cut_between_its_renames_is_finished_by_the_next_command(export_dir, tmp_path, monkeypatch):
    spec, models = stand_in_runtime(tmp_path)
    real, renames = os.replace, []

    def dies_after_one_model(src, dst):
        if str(src).endswith(install.NEW):
            renames.append(dst)
            if len(renames) == 2:
                raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(install.os, "replace", dies_after_one_model)
    with pytest.raises(KeyboardInterrupt):
        install.install(export_dir, tmp_path, spec)
    monkeypatch.setattr(install.os, "replace", real)
    mixed = [(models / n).read_bytes() == (export_dir / n).read_bytes() for n in install.model_files(spec)]
    assert sorted(mixed) == [False, True]  # one model in, one not: the journal records the swap
    assert install.recover(spec, tmp_path).startswith("finished an install")
    for name in install.model_files(spec):
        assert (models / name).read_bytes() == (export_dir / name).read_bytes()
    assert not (models / install.JOURNAL).exists()


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
    assert not (models / install.BACKUP).exists()
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


def test_a_read_only_runtime_is_one_error_line_and_nothing_changes(export_dir, tmp_path, capsys, monkeypatch):
    """Root ignores a folder's permissions, so the test makes every new file in the runtime
    fail as a read-only folder does (EACCES at os.open)."""
    spec, models = stand_in_runtime(tmp_path)
    monkeypatch.setattr(install_original.profiles, "get", lambda name: spec)
    before = tree(tmp_path), sorted(tmp_path.rglob("*"))
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and Path(path).resolve().is_relative_to(tmp_path.resolve()):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(install.os, "open", read_only)
    assert install_original.main(["--runtime-dir", str(tmp_path), "--models", str(export_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Permission denied" in err[0], err
    assert (tree(tmp_path), sorted(tmp_path.rglob("*"))) == before  # no file and no folder left behind
