"""`make original`'s pipeline (experiments/original.py) end to end at test size: every stage
runs its real command (Blender renders of the generated stand-in mesh, the CNN, its error
model, PPO on the original profile, the ONNX export), then verification and the install.

The runtime's own JS needs the real original, so verification here is a stand-in that
scores what the stages made (the CNN's held-out error, the policy's MJX evaluation): tiny
models fail the goals, and nothing may be installed; figures that pass install the export,
and --restore puts the folder back exactly. The Node and Chromium verification runs in
original/tests against a real checkout (make original-check).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess

import pytest

from experiments import original
from orient_jax import profiles
from orient_jax.tasks.rotation import mesh as mesh_lib

ORIGINAL = profiles.get("original")
TINY = original.Plan(render="original-tiny", render_test="original-tiny-test", vision="original_test",
                     rotation="original_test", parity_images=8, node_episodes=2, frames=2, page_episodes=1)  # fmt: skip
PAGE = {"index.html": b"<html>the page</html>", "static/js/physics.js": b"// physics"}


def stand_in_runtime(folder):
    """The runtime's layout with the stand-in mesh and its own models, and a profile recording it."""
    mesh_lib.stand_in_runtime(folder, ORIGINAL.runtime.mesh)
    for name, data in PAGE.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    models = folder / ORIGINAL.artifacts.runtime_models_dir
    (models / ORIGINAL.artifacts.pose_file).write_bytes(b"their pose model")
    (models / ORIGINAL.artifacts.policy_file).write_bytes(b"their policy")
    recorded = {**PAGE, ORIGINAL.runtime.mesh: (folder / ORIGINAL.runtime.mesh).read_bytes()}
    files = tuple(sorted((n, hashlib.sha256(d).hexdigest()) for n, d in recorded.items()))
    return dataclasses.replace(ORIGINAL, runtime=dataclasses.replace(ORIGINAL.runtime, files=files))


def tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def measured(models, noise_model, runtime_dir, out, plan):
    """Figures from what the stages made, in the keys the Node and Chromium runs give."""
    assert (models / ORIGINAL.artifacts.policy_file).is_file() and noise_model.is_file()
    root = models.parent
    cnn = json.loads((root / "noise" / "vision_eval.json").read_text())
    policy = json.loads((root / "rotation" / "eval.json").read_text())
    return {"node_upright_rate": policy["success_rate"], "node_upright_rate_error_model": policy["success_rate"],
            "pose_median_deg": cnn["median_deg"], "pose_p95_deg": cnn["p95_deg"], "chromium_upright": 0,
            "chromium_episodes": plan.page_episodes, "console_problems": 0}  # fmt: skip


def passing(models, noise_model, runtime_dir, out, plan):
    return {"node_upright_rate": 1.0, "node_upright_rate_error_model": 0.99, "pose_median_deg": 2.0,
            "pose_p95_deg": 5.0, "chromium_upright": plan.page_episodes, "chromium_episodes": plan.page_episodes,
            "console_problems": 0}  # fmt: skip


@pytest.mark.integration
def test_the_pipeline_installs_only_what_passed_skips_what_is_valid_and_restores(render_python, tmp_path, capsys):
    runtime = tmp_path / "runtime"
    spec = stand_in_runtime(runtime)
    before = tree(runtime)
    root, data = tmp_path / "runs", tmp_path / "data"
    argv = ["--runtime-dir", str(runtime), "--root", str(root), "--data-root", str(data), "--workers", "1",
            "--render-python", str(render_python)]  # fmt: skip

    # 1. Every stage runs; tiny models fail the goals: the summary names them, the folder is untouched.
    assert original.main(argv, plan=TINY, spec=spec, verifier=measured) == 1
    summary = json.loads((root / "summary.json").read_text())
    assert [s["status"] for s in summary["stages"].values()] == ["ran"] * 7
    assert summary["install"]["installed"] is False
    failed = {g["key"] for g in summary["install"]["failed"]}
    assert {"node_upright_rate", "chromium_upright"} <= failed
    assert "NOT installed" in capsys.readouterr().out
    assert tree(runtime) == before
    record = json.loads((root / "original_pipeline.json").read_text())
    assert set(record["stages"]) == {"render", "render-test", "cnn", "noise", "policy", "export", "verify"}
    assert record["wall_s"] > 0 and record["machine"] and record["date"]
    assert json.loads((root / "original_runtime.json").read_text())["chromium_episodes"] == 1

    # 2. Another verification plan: only verify runs again; its figures pass, so the export goes in.
    plan = dataclasses.replace(TINY, node_episodes=3)
    assert original.main(argv, plan=plan, spec=spec, verifier=passing) == 0
    summary = json.loads((root / "summary.json").read_text())
    assert {n: s["status"] for n, s in summary["stages"].items()} == {
        **{n: "skipped" for n in ("render", "render-test", "cnn", "noise", "policy", "export")},
        "verify": "ran",
    }
    models = runtime / ORIGINAL.artifacts.runtime_models_dir
    for name in (ORIGINAL.artifacts.pose_file, ORIGINAL.artifacts.policy_file):
        assert (models / name).read_bytes() == (root / "models" / name).read_bytes()
    assert summary["install"]["installed"] is True

    # 3. Nothing changed: every stage is skipped, the install finds the same bytes.
    assert original.main(argv, plan=plan, spec=spec, verifier=passing) == 0
    summary = json.loads((root / "summary.json").read_text())
    assert {s["status"] for s in summary["stages"].values()} == {"skipped"}
    assert summary["install"]["installed"] is True and summary["install"]["unchanged"]

    capsys.readouterr()
    assert original.main([*argv, "--list"], plan=plan, spec=spec) == 0
    states = [line.split()[1] for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert states == ["valid"] * 7

    # 4. --restore: the folder exactly as it was.
    assert original.main(["--runtime-dir", str(runtime), "--restore"], spec=spec) == 0
    assert tree(runtime) == before


@pytest.mark.integration
def test_without_the_runtime_or_with_another_folder_it_stops_at_once(tmp_path, capsys):
    root = tmp_path / "runs"
    assert original.main(["--root", str(root)]) == 2
    (tmp_path / "elsewhere").mkdir()
    assert original.main(["--runtime-dir", str(tmp_path / "elsewhere"), "--root", str(root)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
    assert "pass --runtime-dir" in err[0] and "6957ebb" in err[0]
    assert "index.html is missing" in err[1] or "is missing" in err[1]
    assert not root.exists()


@pytest.mark.unit
def test_the_goals_judge_each_figure_and_a_missing_one_fails():
    figures = {
        "node_upright_rate": 0.96, "node_upright_rate_error_model": 0.94, "pose_median_deg": 5.0, "pose_p95_deg": 15.1,
        "chromium_upright": 9, "chromium_episodes": 10}  # fmt: skip
    verdict = {g["key"]: g["pass"] for g in original.judge(figures)}
    assert verdict == {"node_upright_rate": True, "node_upright_rate_error_model": False, "pose_median_deg": True,
                       "pose_p95_deg": False, "chromium_upright": True, "console_problems": False}  # fmt: skip


@pytest.mark.unit
def test_harness_commands_run_side_by_side_with_one_bar_and_a_failure_names_its_log(tmp_path):
    script = "for (let k = 1; k <= 3; k++) console.error(`drop ${k}/3`); console.log(JSON.stringify({ok: 1}));"
    jobs = [(["node", "-e", script], tmp_path / "a.json"), (["node", "-e", script], tmp_path / "b.json")]
    original._run_with_progress(jobs, 6, "drops", "drop ")
    assert (
        json.loads((tmp_path / "a.json").read_text()) == {"ok": 1}
        and (tmp_path / "b.log").read_text().count("drop") == 3
    )
    with pytest.raises(subprocess.CalledProcessError) as failed:
        original._run_with_progress([(["node", "-e", "console.error('error: no runtime'); process.exit(2)"],
                                      tmp_path / "c.json")], 1, "drops", "drop ")  # fmt: skip
    assert failed.value.returncode == 2 and "error: no runtime" in failed.value.stderr
