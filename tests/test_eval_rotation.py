"""Evaluation: the success rule end to end, the script's JSON line, and its errors."""

import json
import subprocess
import sys

import jax.numpy as jnp
import pytest

from orient_jax import profiles
from orient_jax.tasks.rotation.env import RotationEnvConfig
from orient_jax.tasks.rotation.evaluation import evaluate_rotation


@pytest.mark.integration
def test_idle_policy_succeeds_only_when_it_lands_upright():
    # Doing nothing succeeds exactly when the box happens to land on its bottom face:
    # about 1 in 6 uniformly random drops.
    config = RotationEnvConfig(noise_deg=0.0, disturbances=False, domain_randomization=False)
    result = evaluate_rotation(
        lambda obs: jnp.zeros((obs.shape[0], 3)), profiles.get("cube"), config, episodes=512, seed=0
    )
    assert result["episodes"] == 512
    assert 0.09 < result["success_rate"] < 0.26
    assert result["median_time_to_upright_s"] < 1.0


@pytest.mark.e2e
def test_eval_script_json_on_shipped_policy(root):
    out = subprocess.run(
        [sys.executable, "-m", "experiments.eval_rotation", "--episodes", "64", "--json"],
        cwd=root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)  # stdout is the document alone
    assert "success rate:" in out.stderr  # the human lines
    assert result["episodes"] == 64 and result["noise_deg"] == 5.0 and result["disturbances"]
    assert result["success_rate"] >= 0.9  # the shipped policy works (full check: 1024 episodes, >= 0.99)


@pytest.mark.e2e
@pytest.mark.parametrize("bad", ["missing_dir", "corrupt", "no_task"])
def test_eval_script_reports_missing_or_corrupt_policy(root, tmp_path, bad):
    target = tmp_path / "policy"
    shipped = root / "models" / "rotation_policy"
    if bad == "corrupt":
        target.mkdir()
        (target / "policy.json").write_text((shipped / "policy.json").read_text())
        (target / "policy.msgpack").write_bytes((shipped / "policy.msgpack").read_bytes()[:100])
    if bad == "no_task":  # a policy saved before policies named their task profile
        target.mkdir()
        info = json.loads((shipped / "policy.json").read_text())
        del info["task"]
        (target / "policy.json").write_text(json.dumps(info))
        (target / "policy.msgpack").write_bytes((shipped / "policy.msgpack").read_bytes())
    out = subprocess.run(
        [sys.executable, "-m", "experiments.eval_rotation", "--run", str(target), "--episodes", "4"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 2
    expected = {"missing_dir": "no policy at", "corrupt": "corrupt", "no_task": "does not say which task profile"}
    assert expected[bad] in out.stderr
    assert "Traceback" not in out.stderr
