"""The benchmark suite runs end to end (smoke sizes) and writes JSON, markdown and a plot."""

import json
import subprocess
import sys

import pytest

from experiments.benchmark import SUITES


def _smoke(root, out, section):
    """One section of the smoke suite as the user runs it; each is its own test, so none
    nears the timeout (the whole suite in one test took 720 s on a loaded machine)."""
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.benchmark", "--suite", "smoke", "--only", section, "--out", str(out)],
        cwd=root, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "benchmark.json").read_text())
    assert results["sections"] == [section]
    return results, (out / "benchmark.md").read_text()


@pytest.mark.slow
def test_smoke_env_section(root, tmp_path):
    results, md = _smoke(root, tmp_path, "env")
    assert {row["kind"] for row in results["env"]} == {"mjx_env", "mjx_physics", "native_mujoco"}
    assert all(row["physics_steps_per_s"] > 0 for row in results["env"])
    assert not results["ppo"] and not results["time_to_threshold"]
    assert "MJX env control steps/s" in md and "PPO trainer" not in md
    assert (tmp_path / "env_steps.png").stat().st_size > 1000


@pytest.mark.slow
def test_smoke_ppo_section(root, tmp_path):
    results, md = _smoke(root, tmp_path, "ppo")
    assert {row["trainer"] for row in results["ppo"]} == {"orient_jax", "brax"}
    assert all(row["env_steps_per_s"] > 0 for row in results["ppo"])
    assert not results["env"] and not results["time_to_threshold"]
    assert "Ours / Brax throughput" in md and "nan" not in md.lower()


@pytest.mark.slow
def test_smoke_time_to_threshold_section(root, tmp_path):
    results, md = _smoke(root, tmp_path, "ttt")
    assert [row["trainer"] for row in results["time_to_threshold"]] == ["orient_jax", "brax"]
    assert results["time_to_threshold"][0]["history"]  # it evaluated at least once
    assert results["time_to_threshold"][1]["history"]
    assert not results["env"] and not results["ppo"]
    assert "Time to 95 % success" in md


@pytest.mark.slow
def test_smoke_humanoid_section(root, tmp_path):
    results, md = _smoke(root, tmp_path, "humanoid")
    envs = [r for r in results["humanoid"] if r["kind"] == "humanoid_env"]
    assert [(r["physics"], r["batch"]) for r in envs] == [("lean", 4)]
    row = envs[0]
    assert row["candidate_contacts"] == 2 and row["solver"]["iterations"] == 1
    assert row["flops_per_env_step"] > 0 and row["bytes_per_env_step"] > 0 and row["compile_s"] > 0
    assert row["physics_steps_per_s"] == pytest.approx(5 * row["env_steps_per_s"])
    (ppo,) = [r for r in results["humanoid"] if r["kind"] == "humanoid_ppo"]
    assert ppo["physics"] == "lean" and ppo["env_steps_per_s"] > 0 and ppo["compile_s"] > 0
    assert not results["env"] and not results["ppo"] and not results["time_to_threshold"]
    assert "Humanoid physics" in md and "Humanoid PPO (lean" in md and "nan" not in md.lower()


@pytest.mark.slow
def test_smoke_dqn_section(root, tmp_path):
    results, md = _smoke(root, tmp_path, "dqn")
    (row,) = results["dqn"]
    assert row["critics"] == 2 and row["hidden_sizes"] == [32, 32] and row["grad_steps_per_call"] == 2
    assert row["ms_per_grad_step"] > 0 and row["env_steps_per_s_bound"] == pytest.approx(32 / row["s_per_call"])
    assert not results["env"] and not results["humanoid"]
    assert "Native DQN learner" in md and "nan" not in md.lower()


@pytest.mark.e2e
def test_a_gpu_suite_on_the_cpu_needs_allow_cpu(root, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.benchmark", "--suite", "gpu-quick", "--out", str(tmp_path / "b")],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.startswith("error: suite 'gpu-quick' is sized for a GPU")
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "b").exists()


@pytest.mark.unit
def test_suites_share_one_batch_shape_between_trainers():
    for suite in SUITES.values():
        assert suite.ppo.num_envs % suite.ppo.num_minibatches == 0  # Brax's requirement too
        assert suite.ttt.num_envs % suite.ttt.num_minibatches == 0
