"""The demo's stage runner (orient_jax/stages.py), with cheap fake stages: a valid stage is
skipped, a damaged, partial, interrupted or reconfigured one is redone, and a change
travels downstream only when an output's content changed."""

import json
import shutil
from pathlib import Path

import pytest

from orient_jax.core import stages

pytestmark = pytest.mark.unit


class Fake:
    """A stage body that writes ``text`` into ``out/name`` and counts its calls."""

    def __init__(self, out, name="result.txt", text="a", fail=False):
        self.out, self.name, self.text, self.fail, self.calls = out, name, text, fail, 0

    def __call__(self):
        self.calls += 1
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / self.name).write_text(self.text)
        if self.fail:
            raise RuntimeError("the stage broke half way")


def two_stages(tmp_path, up_text="a", up_config=None, down_source=None):
    up = Fake(tmp_path / "up", text=up_text)
    down = Fake(tmp_path / "down", text="b")
    pipeline = [
        stages.Stage("up", up.out, ("result.txt",), up, config=up_config or {"n": 1}),
        stages.Stage(
            "down", down.out, ("result.txt",), down, needs=("up",), sources=(down_source,) if down_source else ()
        ),
    ]
    return pipeline, up, down


def statuses(outcomes):
    return [o.status for o in outcomes]


def quiet(_line):
    pass


def test_second_run_skips_valid_stages(tmp_path):
    pipeline, up, down = two_stages(tmp_path)
    assert statuses(stages.run_pipeline(pipeline, quiet)) == ["ran", "ran"]
    stamp = json.loads((tmp_path / "up" / stages.STAMP).read_text())
    assert stamp["complete"] and stamp["outputs"] == {"result.txt": stages.sha256_file(tmp_path / "up/result.txt")}
    assert statuses(stages.run_pipeline(pipeline, quiet)) == ["skipped", "skipped"]
    assert (up.calls, down.calls) == (1, 1)


def test_damaged_output_is_redone_and_downstream_follows_only_on_new_content(tmp_path):
    pipeline, up, down = two_stages(tmp_path)
    stages.run_pipeline(pipeline, quiet)
    (tmp_path / "up" / "result.txt").write_text("corrupted")
    outcomes = stages.run_pipeline(pipeline, quiet)
    # Redone from a clean directory; it wrote the same bytes again, so "down" is still valid.
    assert statuses(outcomes) == ["ran", "skipped"]
    assert "outputs changed" in outcomes[0].reason
    assert (tmp_path / "up" / "result.txt").read_text() == "a"
    (tmp_path / "down" / "result.txt").unlink()
    assert statuses(stages.run_pipeline(pipeline, quiet)) == ["skipped", "ran"]
    assert (up.calls, down.calls) == (2, 2)


def test_changed_config_redoes_the_stage_and_what_reads_it(tmp_path):
    pipeline, up, down = two_stages(tmp_path)
    stages.run_pipeline(pipeline, quiet)
    (tmp_path / "up" / "leftover.txt").write_text("from the old config")
    changed, up2, down2 = two_stages(tmp_path, up_text="A", up_config={"n": 2})
    outcomes = stages.run_pipeline(changed, quiet)
    assert statuses(outcomes) == ["ran", "ran"]
    assert outcomes[0].reason == "its config or inputs changed"
    assert not (tmp_path / "up" / "leftover.txt").exists()  # a stale stage starts from an empty directory
    assert (up2.calls, down2.calls) == (1, 1)


def test_changed_source_file_redoes_the_stage(tmp_path):
    source = tmp_path / "src.js"
    source.write_text("v1")
    pipeline, _, down = two_stages(tmp_path, down_source=source)
    stages.run_pipeline(pipeline, quiet)
    assert statuses(stages.run_pipeline(pipeline, quiet)) == ["skipped", "skipped"]
    source.write_text("v2")
    assert statuses(stages.run_pipeline(pipeline, quiet)) == ["skipped", "ran"]
    assert down.calls == 2


def test_interrupted_stage_resumes_in_place_and_later_stages_wait(tmp_path):
    pipeline, up, down = two_stages(tmp_path)
    up.fail = True
    with pytest.raises(RuntimeError, match="half way"):
        stages.run_pipeline(pipeline, quiet)
    assert down.calls == 0
    stamp = json.loads((tmp_path / "up" / stages.STAMP).read_text())
    assert stamp["complete"] is False
    (tmp_path / "up" / "partial-work.txt").write_text("kept for the resume")
    up.fail = False
    outcomes = stages.run_pipeline(pipeline, quiet)
    assert statuses(outcomes) == ["ran", "ran"]
    assert outcomes[0].reason == "interrupted earlier; resuming"
    assert (tmp_path / "up" / "partial-work.txt").exists()  # resumed, not cleared


def test_stage_that_writes_no_outputs_fails_and_is_not_stamped_complete(tmp_path):
    stage = stages.Stage("lazy", tmp_path / "lazy", ("result.txt",), lambda: None)
    with pytest.raises(RuntimeError, match="without writing its outputs"):
        stages.run_pipeline([stage], quiet)
    assert stages.check(stage, stages.stage_key(stage, {}))[0] == "resume"


def test_unstamped_directory_is_kept_when_the_command_repairs_it(tmp_path):
    """Render stages: a dataset made by `make data` has no stamp; the renderer verifies it."""
    out = tmp_path / "data"
    out.mkdir()
    (out / "shard.npz").write_text("made by hand")
    seen = []
    stage = stages.Stage(
        "render", out, ("shard.npz",), lambda: seen.append((out / "shard.npz").read_text()), clean_on_stale=False
    )
    assert statuses(stages.run_pipeline([stage], quiet)) == ["ran"]
    assert seen == ["made by hand"]
    assert statuses(stages.run_pipeline([stage], quiet)) == ["skipped"]


def test_pipeline_rejects_a_stage_before_what_it_needs(tmp_path):
    pipeline, _, _ = two_stages(tmp_path)
    with pytest.raises(ValueError, match="needs"):
        stages.run_pipeline(pipeline[::-1], quiet)


def test_demo_pipeline_is_well_formed(tmp_path):
    """The real demo stages (nothing runs): order, configs, and that the policy trains on
    the noise stage's output and the site is built outside web/public."""
    from experiments import demo

    pipeline = demo.build_stages(tmp_path / "demo", tmp_path / "python", workers=2)
    names = [s.name for s in pipeline]
    assert names == ["render-quick", "render-test", "cnn", "noise", "policy", "export", "web"]
    for i, stage in enumerate(pipeline):
        assert set(stage.needs) <= set(names[:i])
        json.dumps(stage.config)
    by_name = {s.name: s for s in pipeline}
    noise_model = by_name["policy"].config["rotation"]["env"]["noise_model"]
    assert noise_model == str(by_name["noise"].out / "error_model.json")
    assert "error_model.json" in by_name["noise"].outputs
    assert by_name["web"].out == tmp_path / "demo" / "site"
    assert {s.clean_on_stale for s in pipeline[:2]} == {False}  # renders repair themselves
    summary = demo.summarize(tmp_path / "demo", [])  # nothing made yet: figures are absent, not invented
    assert summary["cnn_test_median_deg"] is None and summary["served_models"] == {}
    assert "orient-jax demo: summary" in demo.format_summary(summary)


def test_plan_tells_not_made_from_stale_and_runs_nothing(tmp_path):
    pipeline, up, down = two_stages(tmp_path)
    assert [(st, r) for _, st, r in stages.plan(pipeline)] == [
        ("missing", "not made yet"),
        ("missing", "not made yet; waits for up"),
    ]
    stages.run_pipeline(pipeline, quiet)
    assert [st for _, st, _ in stages.plan(pipeline)] == ["valid", "valid"]
    changed, up2, down2 = two_stages(tmp_path, up_text="A", up_config={"n": 2})
    assert [(st, r) for _, st, r in stages.plan(changed)] == [
        ("stale", "its config or inputs changed"),
        ("waiting", "made; checked again after up runs"),
    ]
    shutil.rmtree(tmp_path / "down")
    assert [st for _, st, _ in stages.plan(pipeline)] == ["valid", "missing"]
    (tmp_path / "down").mkdir()  # a folder the pipeline did not make
    assert stages.plan(pipeline)[1][1:] == (
        "foreign",
        f"{tmp_path / 'down'} has no stage.json: not made by this pipeline",
    )
    assert (up.calls, down.calls, up2.calls, down2.calls) == (1, 1, 0, 0)


def test_a_folder_the_pipeline_did_not_make_is_never_deleted(tmp_path):
    """A user's notes where a stage writes: the run stops, naming the folder, and the notes
    stay; with move_aside the folder is renamed, whole, and the stage runs."""
    pipeline, up, down = two_stages(tmp_path)
    (tmp_path / "down").mkdir()
    (tmp_path / "down" / "my_notes.txt").write_text("notes")
    with pytest.raises(stages.ForeignOutput, match=r"down exists but this pipeline did not make it .*--move-aside"):
        stages.run_pipeline(pipeline, quiet)
    assert (tmp_path / "down" / "my_notes.txt").read_text() == "notes" and down.calls == 0
    assert statuses(stages.run_pipeline(pipeline, quiet, move_aside=True)) == ["skipped", "ran"]
    (moved,) = tmp_path.glob("down.moved-*")
    assert (moved / "my_notes.txt").read_text() == "notes"


def test_demo_root_is_the_user_s_path_and_keeps_its_keys_inside_the_repository(tmp_path, monkeypatch):
    from experiments import demo

    monkeypatch.chdir(tmp_path)
    assert demo.within_repo(Path("mine")) == tmp_path.resolve() / "mine"  # not REPO/mine
    monkeypatch.chdir(demo.REPO)
    assert demo.within_repo(Path("runs/demo")) == Path("runs/demo")
