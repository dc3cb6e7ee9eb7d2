"""The benchmark suite runs end to end (smoke sizes) and writes JSON, markdown and a plot."""

import json
import subprocess
import sys

import pytest

from experiments.benchmark import SUITES


@pytest.mark.slow
def test_smoke_suite_end_to_end(root, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "experiments.benchmark", "--suite", "smoke", "--out", str(tmp_path)],
        cwd=root, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads((tmp_path / "benchmark.json").read_text())
    kinds = {row["kind"] for row in results["env"]}
    assert kinds == {"mjx_env", "mjx_physics", "native_mujoco"}
    for row in results["env"]:
        assert row["physics_steps_per_s"] > 0
    assert {row["trainer"] for row in results["ppo"]} == {"orient_jax", "brax"}
    assert all(row["env_steps_per_s"] > 0 for row in results["ppo"])
    assert [row["trainer"] for row in results["time_to_threshold"]] == ["orient_jax", "brax"]
    assert results["time_to_threshold"][0]["history"]  # it evaluated at least once
    assert "Ours / Brax throughput" in (tmp_path / "benchmark.md").read_text()
    assert (tmp_path / "env_steps.png").stat().st_size > 1000


@pytest.mark.unit
def test_suites_share_one_batch_shape_between_trainers():
    for suite in SUITES.values():
        assert suite.ppo.num_envs % suite.ppo.num_minibatches == 0  # Brax's requirement too
        assert suite.ttt.num_envs % suite.ttt.num_minibatches == 0
