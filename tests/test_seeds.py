"""Many seeds in one program (orient_jax.core.seeds, PPOProgram(seeds=N), train --seeds): seed i
of a vmapped run follows the single run with the same key, one run directory holds every
seed's rows and policies, a stopped run resumes bit for bit, and bad input is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from experiments import train as train_cli
from experiments.configs.rotation import PRESETS
from orient_jax.agents.ppo.policy_io import load_policy
from orient_jax.agents.ppo.program import PPOProgram
from orient_jax.core import loop, runs
from orient_jax.core import seeds as seeds_lib
from orient_jax.tasks.rotation import run as rotation_run

SEEDS = 3


@pytest.fixture(scope="module")
def setup():
    exp = PRESETS.get("test")
    return exp, rotation_run.build_trainer(exp), runs.config_record(exp, "test")


def train(setup, run_dir, seed, seeds, stop_after=None):
    exp, trainer, cfg = setup
    program = PPOProgram(trainer, seed, run_dir, seeds=seeds)
    return loop.run(program, run_dir, cfg, exp.checkpoint_every, 2, stop_after, progress=False)[0]


@pytest.fixture(scope="module")
def batched(setup, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("seeds")
    return run_dir, train(setup, run_dir, 0, SEEDS)


def leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


@pytest.mark.integration
def test_seed_i_of_a_vmapped_run_is_the_single_run_with_that_key(setup, batched, tmp_path):
    run_dir, state = batched
    single = train(setup, tmp_path, 1, 1)
    for got, want in zip(leaves(seeds_lib.index(state.params, 1)), leaves(single.params), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for got, want in zip(leaves(seeds_lib.index(state.normalizer, 1)), leaves(single.normalizer), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # and the seeds differ from one another
    assert not np.allclose(leaves(seeds_lib.index(state.params, 0))[0], leaves(seeds_lib.index(state.params, 1))[0])
    # seed 1's exported policy is that state
    _, params, _, info = load_policy(run_dir / "policies" / "seed-1")
    assert info["seed"] == 1
    for got, want in zip(leaves(params), leaves(seeds_lib.index(state.params, 1)), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.integration
def test_one_directory_holds_each_seed_s_rows_and_policies(setup, batched):
    exp = setup[0]
    run_dir, _ = batched
    rows = runs.MetricsLog(run_dir / "seeds.jsonl").read()
    updates = exp.ppo.num_updates
    assert [(r["update"], r["seed"]) for r in rows] == [(u, s) for u in range(1, updates + 1) for s in range(SEEDS)]
    metrics = runs.MetricsLog(run_dir / "metrics.jsonl").read()
    assert len(metrics) == updates and all(m["seeds"] == SEEDS for m in metrics)
    last = [r for r in rows if r["update"] == updates]
    assert metrics[-1]["value_loss"] == pytest.approx(np.mean([r["value_loss"] for r in last]))
    assert metrics[-1]["env_steps"] == updates * exp.ppo.batch_size  # per seed
    assert sorted(p.name for p in (run_dir / "policies").iterdir()) == [f"seed-{s}" for s in range(SEEDS)]
    assert load_policy(run_dir / "policy")[3]["seed"] == 0  # RUN/policy is the first seed's


@pytest.mark.integration
def test_a_stopped_vmapped_run_resumes_bit_for_bit(setup, batched, tmp_path):
    _, full = batched
    partial = train(setup, tmp_path, 0, SEEDS, stop_after=2)
    assert np.asarray(partial.update_step).tolist() == [2] * SEEDS
    resumed = train(setup, tmp_path, 0, SEEDS)
    for got, want in zip(leaves(resumed), leaves(full), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.integration
def test_train_seeds_trains_evaluates_every_seed(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert train_cli.main(["rotation", "--config", "test", "--seeds", "2", "--run", str(run_dir)]) == 0
    result = json.loads((run_dir / "eval.json").read_text())
    assert result["seeds"] == 2 and [r["training_seed"] for r in result["per_seed"]] == [0, 1]
    assert result["success_rate"] == result["per_seed"][0]["success_rate"]
    assert json.loads((run_dir / "config.json").read_text())["experiment"]["seeds"] == 2


@pytest.mark.integration
@pytest.mark.parametrize(
    "argv, message",
    [
        (["rotation", "--config", "test", "--seeds", "0"], "seeds must be at least 1"),
        (["vision", "--config", "test", "--seeds", "2"], "a vision run trains one seed"),
        (["humanoid", "--config", "dqn_test", "--seeds", "2"], "the branching DQN trains one seed per run"),
    ],
)
def test_bad_seeds_are_one_error_line_and_no_run_directory(tmp_path, capsys, argv, message):
    run_dir = tmp_path / "run"
    assert train_cli.main([*argv, "--run", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not run_dir.exists()


@pytest.mark.unit
def test_seed_values_and_keys():
    assert seeds_lib.seed_values(5, 3) == [5, 6, 7]
    with pytest.raises(ValueError, match="at least 1"):
        seeds_lib.seed_values(0, 0)
    keys = seeds_lib.seed_keys([5, 6])
    np.testing.assert_array_equal(np.asarray(keys[1]), np.asarray(jax.random.PRNGKey(6)))


# XLA's concurrency-optimized CPU scheduler deadlocked this program every time (idle cores,
# never returned); orient_jax.core.launch turns it off. A subprocess, so a deadlock fails
# the test on its timeout instead of hanging the suite.
DEADLOCKED = """
from orient_jax.core import launch
launch.configure_process()
import dataclasses, jax
from experiments.configs.rotation import PRESETS
from orient_jax.core import seeds as seeds_lib
from orient_jax.tasks.rotation import run as rotation_run
exp = PRESETS.get("cpu")
exp = dataclasses.replace(exp, ppo=dataclasses.replace(exp.ppo, num_envs=256))
batch = seeds_lib.batch_of(rotation_run.build_trainer(exp))
state = jax.block_until_ready(batch.init(seeds_lib.seed_keys([0, 1])))
print("OK", state.update_step.shape)
"""


@pytest.mark.integration
def test_the_vmapped_init_of_cpu_sized_envs_does_not_deadlock(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}  # the entry point's own flags
    env["ORIENT_JAX_CACHE"] = str(tmp_path / "cache")  # a cached executable would skip the compile
    out = subprocess.run([sys.executable, "-c", DEADLOCKED], env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["OK", "(2,)"]


@pytest.mark.unit
def test_a_humanoid_run_of_many_seeds_is_scored_seed_by_seed(tmp_path, monkeypatch):
    """``evaluate humanoid --run`` on a ``--seeds 2`` run loads policies/seed-<s> for each
    seed, scores each on the same episodes and writes them as ``per_seed`` (what
    ``experiments.compare`` reads); the physics is stubbed, the wiring is what is tested."""
    import dataclasses

    from experiments import evaluate
    from experiments.configs.humanoid import PRESETS as HUMANOID
    from orient_jax.tasks.humanoid import evaluation as humanoid_eval
    from orient_jax.tasks.humanoid import run as humanoid_run

    exp = dataclasses.replace(HUMANOID.get("ppo_test"), seed=3, seeds=2)
    loaded, scored = [], []
    monkeypatch.setattr(humanoid_run, "load_run_config", lambda run: exp)
    monkeypatch.setattr(
        humanoid_run, "load_policy", lambda folder: (loaded.append(folder) or folder.name, {"algo": "ppo"})
    )

    def fake_gymnasium(policy, episodes, episode_steps, seed):
        scored.append((policy, episodes, episode_steps, seed))
        return {"mean_return": 100.0 * int(policy.split("-")[1]), "episodes": episodes}

    monkeypatch.setattr(humanoid_eval, "evaluate_gymnasium", fake_gymnasium)
    out = tmp_path / "gymnasium_1000.json"
    argv = ["humanoid", "--run", str(tmp_path), "--gymnasium", "--episodes", "3", "--episode-steps", "1000",
            "--seed", "7", "--out", str(out)]  # fmt: skip
    assert evaluate.main(argv) == 0
    assert loaded == [tmp_path / "policies" / "seed-3", tmp_path / "policies" / "seed-4"]
    assert scored == [("seed-3", 3, 1000, 7), ("seed-4", 3, 1000, 7)]
    doc = json.loads(out.read_text())
    assert [(p["training_seed"], p["mean_return"]) for p in doc["per_seed"]] == [(3, 300.0), (4, 400.0)]
    assert doc["mean_return"] == 300.0 and doc["where"] == "gymnasium"
