"""The shift suite (render/shifts.py, experiments/shift_suite.py): its sets are valid render
configs, and a run renders real sets, scores a model on each and can fail.

The run uses the shipped CNN: a model trained in the seconds a test has is near random on
every set, so no shift could score worse than in-distribution with it."""

from __future__ import annotations

import hashlib
import json

import pytest
from PIL import Image

from experiments import eval_vision, shift_suite
from orient_jax import paths
from render import config as config_lib
from render import shifts as render_shifts


@pytest.mark.unit
@pytest.mark.parametrize("kind", sorted(render_shifts.SUITES))
def test_every_shift_is_a_valid_override_of_its_held_out_preset(kind):
    preset, suite = render_shifts.SUITES[kind]
    base = config_lib.get_preset(preset)
    training_seeds = {c.seed for c in config_lib.PRESETS.values()}
    assert suite[0].name == "none" and not suite[0].overrides
    assert len({s.name for s in suite}) == len({s.seed for s in suite}) == len(suite)
    for shift in suite:
        assert shift.seed not in training_seeds, f"{shift.name}: a preset's seed"
        args = render_shifts.render_arguments(preset, shift, 512)
        config = config_lib.apply_overrides(base, args[2:])  # every override is a real field
        assert config.count == 512 and config.seed == shift.seed
        if shift.overrides:
            assert config.dr != base.dr, f"{shift.name} changes nothing"


@pytest.mark.unit
def test_bad_suite_arguments_are_one_error_line(capsys):
    assert eval_vision.main(["--shift-suite", "--shifts", "none,nosuch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unknown shift(s) nosuch")
    assert eval_vision.main(["--shift-suite", "--count", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: --count must be positive, got 0"


# Never in any training set (`wide`, the widest, goes to 14 % and 4.5 cm): the camera up to
# 45 % nearer or farther and aimed up to 12 cm off, so the cube is often cut by the frame.
UNSEEN = render_shifts.Shift(
    "far-camera", "camera", "test only", 9001, ("dr.camera_distance_jitter=0.45", "dr.camera_target_jitter=0.12")
)


@pytest.mark.integration
def test_the_suite_renders_scores_and_shows_the_worst_and_an_unseen_shift_scores_worse(
    render_python, tmp_path, monkeypatch
):
    preset, suite = render_shifts.SUITES["marked_cube"]
    monkeypatch.setitem(render_shifts.SUITES, "marked_cube", (preset, (suite[0], UNSEEN)))
    args = shift_suite.SuiteArgs(model=None, out=tmp_path / "out", count=12, data_root=tmp_path / "sets",
                                 render_python=render_python, workers=2)  # fmt: skip
    doc = shift_suite.run(args)

    rows = {r["shift"]: r for r in doc["shifts"]}
    assert list(rows) == ["none", "far-camera"]
    for r in rows.values():
        assert r["n"] == 12 and r["median_deg"] <= r["p95_deg"] <= r["p99_deg"] <= r["max_deg"]
    assert rows["far-camera"]["median_deg"] > 2 * rows["none"]["median_deg"], rows
    weights = (paths.SHIPPED_POSE_MODEL / "model.msgpack").read_bytes()
    assert doc["model_sha256"] == hashlib.sha256(weights).hexdigest()
    assert json.loads((args.out / shift_suite.RESULT_FILE).read_text()) == doc
    with Image.open(args.out / shift_suite.SHEET_FILE) as sheet:  # a row per set, its 12 images
        assert sheet.size == (190 + 12 * 112, 2 * 112)

    # A second run renders nothing: it re-checks the sets and scores the same.
    shard = next((tmp_path / "sets" / "cube-12" / "none").glob("shard-*.npz"))
    before = shard.stat().st_mtime_ns
    assert shift_suite.run(args)["shifts"] == doc["shifts"]
    assert shard.stat().st_mtime_ns == before
