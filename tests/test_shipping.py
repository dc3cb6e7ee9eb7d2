"""Shipping replaces a model folder all or nothing: a process dying at any point leaves the
old folder or the new one, complete, never a mixed pair."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from experiments import ship_rotation_policy
from orient_jax import paths
from orient_jax.core import shipping

ROOT = Path(__file__).resolve().parents[1]


def folder(path: Path, tag: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name in ("a.json", "a.msgpack"):
        (path / name).write_text(f"{tag} {name}")
    return path


def contents(path: Path) -> dict:
    return {p.name: p.read_text() for p in sorted(path.iterdir())}


class Died(Exception):
    """Stands for SIGKILL at that point: nothing after it runs, no cleanup."""


@pytest.mark.unit
@pytest.mark.parametrize("die_at", [1, 2, 3])  # the first rename, the second, the deletion of the old folder
def test_a_commit_cut_short_anywhere_leaves_one_complete_folder(tmp_path, monkeypatch, die_at):
    target = folder(tmp_path / "shipped", "old")
    staging = folder(shipping.stage(target), "new")
    calls = []
    real_rename, real_rmtree = Path.rename, shutil.rmtree

    def step(real):
        def run(*args, **kwargs):
            calls.append(real)
            if len(calls) == die_at:
                raise Died
            return real(*args, **kwargs)

        return run

    monkeypatch.setattr(Path, "rename", step(real_rename))
    monkeypatch.setattr(shutil, "rmtree", step(real_rmtree))
    with pytest.raises(Died):
        shipping.commit(staging, target)
    monkeypatch.undo()
    shipping.recover(target)  # what the next ship runs first
    assert contents(target) in ({"a.json": "old a.json", "a.msgpack": "old a.msgpack"},
                                {"a.json": "new a.json", "a.msgpack": "new a.msgpack"})  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) in (["shipped"], [".shipped-staging", "shipped"])


@pytest.mark.unit
def test_commit_replaces_and_leaves_nothing_behind(tmp_path):
    target = folder(tmp_path / "shipped", "old")
    shipping.commit(folder(shipping.stage(target), "new"), target)
    assert contents(target) == {"a.json": "new a.json", "a.msgpack": "new a.msgpack"}
    assert [p.name for p in tmp_path.iterdir()] == ["shipped"]
    shipping.commit(folder(shipping.stage(tmp_path / "fresh"), "first"), tmp_path / "fresh")  # no previous one
    assert contents(tmp_path / "fresh") == {"a.json": "first a.json", "a.msgpack": "first a.msgpack"}


@pytest.mark.integration
def test_ship_rotation_policy_dying_mid_copy_keeps_the_shipped_pair(tmp_path, monkeypatch, capsys):
    shipped = tmp_path / "rotation_policy"
    shutil.copytree(paths.SHIPPED_POLICY, shipped)
    before = {p.name: p.read_bytes() for p in shipped.iterdir()}
    monkeypatch.setattr(paths, "SHIPPED_POLICY", shipped)
    args = ["--run", str(ROOT / "models/rotation_policy"), "--episodes", "16", "--min-success", "0"]
    real_copy = shutil.copy2

    def copy_then_die(src, dst, *a, **k):
        if Path(src).name == "policy.msgpack":
            raise Died  # after policy.json was copied
        return real_copy(src, dst, *a, **k)

    monkeypatch.setattr(shutil, "copy2", copy_then_die)
    with pytest.raises(Died):
        ship_rotation_policy.main(args)
    assert {p.name: p.read_bytes() for p in shipped.iterdir()} == before  # the old pair, untouched
    monkeypatch.setattr(shutil, "copy2", real_copy)
    assert ship_rotation_policy.main(args) == 0
    info = json.loads((shipped / "policy.json").read_text())
    assert info["shipped_eval"]["episodes"] == 16
    assert (shipped / "policy.msgpack").read_bytes() == before["policy.msgpack"]  # the same weights, re-shipped
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rotation_policy"]


@pytest.mark.integration
def test_a_run_below_its_gate_or_missing_is_not_shipped_and_leaves_no_staging(tmp_path, monkeypatch, capsys):
    from experiments import ship

    shipped = tmp_path / "rotation_policy"
    shutil.copytree(paths.SHIPPED_POLICY, shipped)
    before = {p.name: p.read_bytes() for p in shipped.iterdir()}
    monkeypatch.setattr(paths, "SHIPPED_POLICY", shipped)
    run = str(ROOT / "models/rotation_policy")
    scored = {"success_rate": 0.5}  # what a weak policy would score
    weak = dataclasses.replace(ship.KINDS["rotation"], evaluate=lambda args, staging: scored)
    monkeypatch.setitem(ship.KINDS, "rotation", weak)
    assert ship.main(["rotation", "--run", run, "--min-success", "0.99"]) == 1
    assert "success 0.5000 < 0.99; not shipped" in capsys.readouterr().err
    monkeypatch.undo()
    monkeypatch.setattr(paths, "SHIPPED_POLICY", shipped)
    assert ship.main(["rotation", "--run", str(tmp_path / "no-such-run")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    monkeypatch.setattr(paths, "SHIPPED_POSE_MODEL", tmp_path / "pose")
    assert ship.main(["vision", "--run", str(tmp_path / "no-such-run"), "--data", str(tmp_path)]) == 2
    assert {p.name: p.read_bytes() for p in shipped.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rotation_policy"]  # no staging folder left


@pytest.mark.unit
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rotation", "--min-success", "nan"], "--min-success must be a success rate in [0, 1], got nan"),
        (["rotation", "--min-success", "-1"], "--min-success must be a success rate in [0, 1], got -1.0"),
        (["rotation", "--min-success", "1.5"], "--min-success must be a success rate in [0, 1], got 1.5"),
        (["vision", "--max-median", "nan"], "--max-median must be an angle in [0, 180] degrees, got nan"),
        (["vision", "--max-p95", "inf"], "--max-p95 must be an angle in [0, 180] degrees, got inf"),
    ],
)
def test_a_gate_that_cannot_fail_is_refused_before_anything_runs(argv, message, tmp_path, monkeypatch, capsys):
    """A gate of nan or outside its range would pass every run (nan compares false): refused, exit 2."""
    from experiments import ship

    monkeypatch.setattr(paths, "SHIPPED_POLICY", tmp_path / "rotation_policy")
    monkeypatch.setattr(paths, "SHIPPED_POSE_MODEL", tmp_path / "pose")
    assert ship.main([argv[0], "--run", str(ROOT / "models/rotation_policy"), *argv[1:]]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"
    assert list(tmp_path.iterdir()) == []  # nothing staged, nothing shipped


@pytest.mark.unit
def test_a_nan_result_never_passes_a_gate():
    from experiments import ship

    nan = float("nan")
    rotation, vision = ship.KINDS["rotation"], ship.KINDS["vision"]
    assert rotation.refusal(argparse.Namespace(min_success=0.0), {"success_rate": nan}) is not None
    assert rotation.refusal(argparse.Namespace(min_success=0.5), {"success_rate": 0.5}) is None
    gate = argparse.Namespace(max_median=2.0, max_p95=8.0)
    assert vision.refusal(gate, {"median_deg": nan, "p95_deg": 1.0}) is not None
    assert vision.refusal(gate, {"median_deg": 1.0, "p95_deg": nan}) is not None
    assert vision.refusal(gate, {"median_deg": 2.0, "p95_deg": 8.0}) is None
