"""Gymnasium's Humanoid on native MuJoCo (the host envs), and the branching DQN that
trains on it: parity with Gymnasium, exact resume, export, and its bad inputs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import gymnasium as gym
import jax
import numpy as np
import pytest

from experiments.configs.humanoid import PRESETS
from orient_jax.agents.dqn.host import env_epsilons
from orient_jax.core import dataclass_config as config_lib
from orient_jax.core import loop, runs
from orient_jax.core.checkpointing import Checkpoints
from orient_jax.export import contract
from orient_jax.export.humanoid import export_humanoid_policy
from orient_jax.tasks.humanoid import evaluation, native
from orient_jax.tasks.humanoid import run as humanoid_run
from orient_jax.tasks.humanoid.env import HumanoidConfig


# -- the env --------------------------------------------------------------------------
@pytest.mark.integration
def test_native_envs_step_exactly_as_gymnasium():
    """Observations, rewards and falls equal Gymnasium's bit for bit, over falls and resets."""
    envs = native.NativeHumanoid(3, HumanoidConfig(), 1000, seed=5, threads=2)
    reference = [gym.make("Humanoid-v4").unwrapped for _ in range(3)]
    obs = envs.reset()
    for i, g in enumerate(reference):  # Gymnasium's reset(seed) draws from default_rng(seed)
        envs.reset_env(i, np.random.default_rng(100 + i))
        expected, _ = g.reset(seed=100 + i)
        np.testing.assert_array_equal(envs.obs[i], expected)
    rng, falls = np.random.default_rng(0), 0
    for _ in range(300):
        action = rng.uniform(-0.4, 0.4, (3, 17))
        out = envs.step(action)
        for i, g in enumerate(reference):
            obs, reward, terminated, _, _ = g.step(action[i])
            np.testing.assert_array_equal(out["final_obs"][i], obs)
            assert out["reward"][i] == reward and out["terminated"][i] == terminated
            if terminated:  # envs reset with episode-seeded noise: Gymnasium follows with the same noise
                falls += 1
                g.np_random = np.random.default_rng([5, i, int(envs.episode[i]) - 1])
                np.testing.assert_array_equal(g.reset()[0], out["obs"][i])
    assert falls >= 3  # random torques fell the humanoid several times: resets were compared too
    envs.close()


@pytest.mark.unit
def test_a_restored_batch_continues_bit_for_bit():
    envs = native.NativeHumanoid(2, HumanoidConfig(), 10, seed=1)
    envs.reset()
    rng = np.random.default_rng(2)
    for a in rng.uniform(-0.4, 0.4, (45, 2, 17)):  # past a time limit and a reset
        envs.step(a)
    state = envs.get_state()
    actions = rng.uniform(-0.4, 0.4, (40, 2, 17))
    first = [envs.step(a) for a in actions]
    other = native.NativeHumanoid(2, HumanoidConfig(), 10, seed=1)
    other.set_state(state)
    second = [other.step(a) for a in actions]
    for x, y in zip(first, second):
        for key in x:
            np.testing.assert_array_equal(x[key], y[key])
    assert any(x["truncated"].any() for x in first)  # the time limit cut an episode in the window


@pytest.mark.unit
def test_time_limit_truncates_and_reports_the_episode():
    envs = native.NativeHumanoid(1, HumanoidConfig(), 5, seed=0)
    envs.reset()
    outs = [envs.step(np.zeros((1, 17))) for _ in range(5)]
    assert [bool(o["truncated"][0]) for o in outs] == [False] * 4 + [True]
    assert outs[-1]["episode_length"][0] == 5
    assert outs[-1]["episode_return"][0] == pytest.approx(sum(o["reward"][0] for o in outs))
    assert envs.steps[0] == 0 and envs.episode[0] == 2  # a new episode started


@pytest.mark.unit
def test_ape_x_exploration_spreads_epsilon_over_the_envs():
    c = PRESETS.get("dqn_native").dqn
    eps = env_epsilons(c)
    assert eps.shape == (c.num_envs,)
    np.testing.assert_allclose([eps[0], eps[-1]], [c.eps_start, c.eps_start ** (1 + c.eps_alpha)], rtol=1e-6)
    assert np.all(np.diff(eps) < 0)


# -- the trainer ----------------------------------------------------------------------
def _train(run_dir, stop_after=None):
    exp = PRESETS.get("dqn_native_test")
    program = humanoid_run.build_host_dqn(exp, run_dir)
    config = runs.config_record(exp, "dqn_native_test")
    return loop.run(program, run_dir, config, exp.checkpoint_every, 1, stop_after, progress=False)[0]


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("straight")
    return run_dir, _train(run_dir)


def _same(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.slow
def test_host_dqn_learns_logs_and_resumes_bit_for_bit(straight_run, tmp_path):
    run_a, a = straight_run
    exp = PRESETS.get("dqn_native_test")
    metrics = runs.MetricsLog(run_a / "metrics.jsonl").read()
    assert metrics[-1]["env_steps"] == exp.dqn.total_env_steps
    assert metrics[-1]["grad_steps"] > 0 and any(r.get("validation") is not None for r in metrics)
    assert (run_a / "policy_best" / "policy.json").exists()
    episodes = runs.MetricsLog(run_a / "episodes.jsonl").read()
    assert episodes and all(len(r["cumulative"]) == r["length"] for r in episodes)
    assert all(r["cumulative"][-1] == pytest.approx(r["return"], abs=0.06) for r in episodes)

    run_b = tmp_path / "b"
    _train(run_b, stop_after=3)
    b = _train(run_b)  # resumed from call 2's checkpoint... and the rows after it were dropped
    _same(a, b)
    assert runs.MetricsLog(run_b / "episodes.jsonl").read() == episodes
    strip = [{k: v for k, v in r.items() if k not in ("wall_s", "steps_per_s")} for r in metrics]
    again = runs.MetricsLog(run_b / "metrics.jsonl").read()
    assert [{k: v for k, v in r.items() if k not in ("wall_s", "steps_per_s")} for r in again] == strip


@pytest.mark.slow
def test_a_signal_during_a_call_is_held_until_its_state_is_saved(straight_run, tmp_path, monkeypatch):
    """SIGINT in the middle of a call (the learner has consumed the old state): the call
    finishes, the loop saves its state and stops, and the resumed run matches."""
    run_a, a = straight_run
    original = native.run_episodes
    sent = []

    def validate_then_signal(*args, **kwargs):
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
        return original(*args, **kwargs)

    monkeypatch.setattr(native, "run_episodes", validate_then_signal)
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path / "c")
    monkeypatch.setattr(native, "run_episodes", original)
    assert Checkpoints(tmp_path / "c" / "checkpoints").latest_step() == 2  # the call the signal came in
    _same(a, _train(tmp_path / "c"))


@pytest.mark.slow
def test_the_exported_dqn_runs_in_native_gymnasium(straight_run, tmp_path):
    run_a, _ = straight_run
    exp = PRESETS.get("dqn_native_test")
    summary = humanoid_run.finish_run(run_a, exp)
    assert summary["eval_gymnasium_policy"]["episodes"] == exp.eval_episodes
    assert (run_a / "episodes_3d_surface.html").exists() and (run_a / "episode_rewards.png").exists()
    policy, info = humanoid_run.load_policy(run_a / "policy_best")
    path = tmp_path / "humanoid_dqn.onnx"
    path.write_bytes(export_humanoid_policy(policy, "dqn").SerializeToString())
    assert contract.check_file(path, contract.HUMANOID_DQN).ok
    onnx_score = evaluation.evaluate_gymnasium(evaluation.onnx_policy(path), 2, 40, seed=3, jit=False)
    jax_score = evaluation.evaluate_gymnasium(policy, 2, 40, seed=3)
    assert onnx_score["mean_return"] == pytest.approx(jax_score["mean_return"], rel=1e-6)
    assert onnx_score["mean_length"] > 0
    from experiments import humanoid_results

    # train_run records the config; the loop alone (as here) does not
    (run_a / "config.json").write_text(json.dumps(runs.config_record(exp, "dqn_native_test")))
    with pytest.raises(ValueError, match="1000-step episodes"):  # the goal's figures are 1000-step ones
        humanoid_results.dqn_1000_entry(run_a, path, 1)


# -- bad inputs -----------------------------------------------------------------------
@pytest.mark.unit
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("dqn.bins=1", "dqn.bins must be >= 2"),
        ("env.physics=bullet", "env.physics must be one of"),
        ("dqn.batch_size=4096", "must not exceed dqn.buffer_size"),
        ("algo=ppo", "only algo=dqn trains on it"),
        ("dqn.num_envs=7", "must be a multiple of dqn.num_envs"),
    ],
)
def test_bad_inputs_to_the_native_dqn_are_refused(override, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        config_lib.apply_overrides(PRESETS.get("dqn_native_test"), [override])


@pytest.mark.unit
def test_the_train_command_refuses_them_in_one_line_and_makes_no_run(root, tmp_path):
    runs_root = tmp_path / "runs"
    argv = ["experiments.train", "humanoid", "--config", "dqn_native_test", "dqn.bins=1", "--runs-root", str(runs_root)]
    out = subprocess.run([sys.executable, "-m", *argv], cwd=root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [out.stderr.strip()] and out.stderr.startswith("error: ")
    assert "dqn.bins must be >= 2" in out.stderr
    assert not runs_root.exists()


@pytest.mark.unit
def test_run_episodes_scores_each_env_once():
    zero = native.run_episodes(lambda obs: np.zeros((obs.shape[0], 17)), 3, HumanoidConfig(), 20, seed=0)
    assert zero["mean_length"] <= 20 and zero["min_return"] <= zero["score"] <= zero["max_return"]
    assert json.dumps(zero)  # plain floats, for the metrics log


@pytest.mark.unit
def test_nudge_exploration_moves_bins_by_one_and_warmup_is_uniform():
    exp = config_lib.apply_overrides(PRESETS.get("dqn_native_test"), ["dqn.explore=nudge", "dqn.bins=5"])
    learner = humanoid_run.make_learner(exp.dqn, humanoid_run.make_dqn_network(exp))
    state = learner.init(jax.random.PRNGKey(0))
    obs = np.random.default_rng(0).normal(size=(4, 376)).astype(np.float32)
    eps = np.array([1.0, 0.5, 0.1, 0.0], np.float32)
    greedy = np.asarray(learner.network.q_values(state.params, state.obs_stats.normalize(obs)).argmax(-1))
    moved = np.stack([np.asarray(learner.act(state.params, state.obs_stats, obs, state.key, t, eps, False))
                      for t in range(50)])  # fmt: skip
    assert np.abs(moved - greedy).max() == 1  # one bin at most, and some moved
    np.testing.assert_array_equal(moved[:, 3], np.broadcast_to(greedy[3], moved[:, 3].shape))  # eps 0: greedy
    assert (moved[:, 0] != greedy[0]).mean() > (moved[:, 2] != greedy[2]).mean()
    warm = np.stack([np.asarray(learner.act(state.params, state.obs_stats, obs, state.key, t, eps, True))
                     for t in range(50)])  # fmt: skip
    assert set(np.unique(warm)) == set(range(5))  # uniform over every bin, whatever epsilon says


@pytest.mark.unit
def test_policy_ema_acts_and_is_saved_as_a_polyak_average_of_the_params(tmp_path):
    import optax

    from orient_jax.agents.dqn.host import transition_example
    from orient_jax.agents.dqn.policy_io import load_policy

    exp = config_lib.apply_overrides(PRESETS.get("dqn_native_test"), ["dqn.policy_ema=0.01"])
    c = exp.dqn
    learner = humanoid_run.make_learner(c, humanoid_run.make_dqn_network(exp))
    state = learner.init(jax.random.PRNGKey(0))
    rng, n = np.random.default_rng(0), c.steps_per_call * c.num_envs
    shapes = transition_example(376, 17)
    updates = c.steps_per_call * c.updates_per_step
    for _ in range(4):
        chunk = {k: rng.integers(0, 3, (n, *v.shape)) if k == "action" else rng.normal(size=(n, *v.shape))
                 for k, v in shapes.items()}  # fmt: skip
        chunk.update(terminated=np.zeros(n), done=np.zeros(n), discounted=np.ones(n))
        chunk = jax.tree.map(lambda x: np.asarray(x, np.int32 if x.dtype.kind == "i" else np.float32), chunk)
        chunk["valid"] = np.ones((), bool)
        before = jax.tree.map(np.asarray, state.policy_params)
        state, metrics = learner.update(state, chunk)
        learnt = np.isfinite(float(metrics["loss"]))
        rate = 1.0 - (1.0 - c.policy_ema) ** updates if learnt else 0.0
        want = optax.incremental_update(state.params, before, rate)
        for a, b in zip(jax.tree.leaves(state.policy_params), jax.tree.leaves(want)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert learnt  # the buffer filled, and the last calls learnt
    assert not np.allclose(jax.tree.leaves(state.policy_params)[0], jax.tree.leaves(state.params)[0])
    assert learner.policy(state) is state.policy_params
    program = humanoid_run.build_host_dqn(exp, tmp_path)
    program.save(program.init().replace(learner=state), 1)
    _, saved, _, _ = load_policy(tmp_path / "policy")
    for a, b in zip(jax.tree.leaves(saved), jax.tree.leaves(state.policy_params)):
        np.testing.assert_array_equal(a, b)
