"""Branching DQN: action mapping, replay buffer, TD target, learning, a tiny Humanoid run."""

from __future__ import annotations

import dataclasses
import json
import re

import jax
import jax.numpy as jnp
import numpy as np
import onnx
import pytest
from brax.envs import base
from brax.envs.wrappers.training import VmapWrapper

from experiments.configs.humanoid import PRESETS
from orient_jax.agents.dqn.config import DQNConfig
from orient_jax.agents.dqn.networks import make_q_network
from orient_jax.agents.dqn.program import DQNProgram
from orient_jax.agents.dqn.replay import ReplayBuffer
from orient_jax.agents.dqn.train import epsilon, make_trainer
from orient_jax.agents.normalization import RunningStats
from orient_jax.core import dataclass_config as config_lib
from orient_jax.core import loop, runs
from orient_jax.envs.wrappers import EpisodeAutoReset
from orient_jax.export import contract
from orient_jax.export.humanoid import export_humanoid_policy, parity
from orient_jax.tasks.humanoid import run as humanoid_run


# -- action mapping --------------------------------------------------------------------
@pytest.mark.unit
def test_bins_map_evenly_onto_the_action_box():
    net = make_q_network(5, 3, (8,), bins=5, low=-0.4, high=0.4)
    np.testing.assert_allclose(net.to_action(jnp.arange(5)), [-0.4, -0.2, 0.0, 0.2, 0.4], atol=1e-7)
    bins = jax.random.randint(jax.random.PRNGKey(0), (100, 3), 0, 5)
    np.testing.assert_array_equal(net.to_bins(net.to_action(bins)), bins)
    np.testing.assert_array_equal(net.to_bins(jnp.array([-9.0, 0.09, 0.11, 9.0])), [0, 2, 3, 4])


@pytest.mark.unit
def test_greedy_takes_the_argmax_of_every_head_independently():
    net = make_q_network(6, 4, (16,), bins=7, low=-0.4, high=0.4)
    params = net.init(jax.random.PRNGKey(1))
    obs = jax.random.normal(jax.random.PRNGKey(2), (32, 6))
    identity = RunningStats.create(6)
    q = np.asarray(net.q_values(params, identity.normalize(obs)))
    assert q.shape == (32, 4, 7)
    expected = -0.4 + q.argmax(-1) * (0.8 / 6)
    np.testing.assert_allclose(net.greedy(params, identity, obs), expected, atol=1e-6)


# -- replay buffer ----------------------------------------------------------------------
@pytest.mark.unit
def test_replay_buffer_rings_and_skips_masked_rows():
    buf = ReplayBuffer.create(5, {"x": jnp.zeros(()), "v": jnp.zeros(2)})
    buf = buf.add({"x": jnp.array([1.0, 2.0, 3.0]), "v": jnp.ones((3, 2))})
    assert (int(buf.size), int(buf.position)) == (3, 3)
    buf = buf.add({"x": jnp.array([4.0, -1.0, 5.0, 6.0]), "v": jnp.ones((4, 2))}, jnp.array([1, 0, 1, 1]))
    # 4 and 5 fill slots 3 and 4; 6 overwrites the oldest (1) in slot 0; -1 is never written.
    np.testing.assert_array_equal(buf.data["x"], [6.0, 2.0, 3.0, 4.0, 5.0])
    assert (int(buf.size), int(buf.position)) == (5, 1)
    buf = buf.add({"x": jnp.array([7.0]), "v": jnp.ones((1, 2))}, jnp.array([0]))
    assert (int(buf.size), int(buf.position)) == (5, 1)


@pytest.mark.unit
def test_replay_buffer_samples_only_filled_slots():
    buf = ReplayBuffer.create(1000, {"x": jnp.zeros(())})
    buf = buf.add({"x": jnp.arange(1.0, 11.0)})
    sample = np.asarray(buf.sample(jax.random.PRNGKey(0), 4096)["x"])
    assert set(sample.tolist()) == set(range(1, 11))  # never an empty (zero) slot; every row reachable


# -- the TD target ----------------------------------------------------------------------
@pytest.mark.unit
@pytest.mark.parametrize("td_error", ["squared", "huber"])
@pytest.mark.parametrize("td_loss", ["branch", "mean"])
def test_loss_is_branching_double_dqn_with_mse_or_huber(td_loss, td_error):
    config = DQNConfig(hidden_sizes=(8,), bins=3, gamma=0.9, td_loss=td_loss, td_error=td_error)
    net = make_q_network(4, 2, config.hidden_sizes, config.bins, -1.0, 1.0)
    trainer = make_trainer(None, config, net, episode_steps=10)
    online, target = net.init(jax.random.PRNGKey(0)), net.init(jax.random.PRNGKey(1))
    key = jax.random.PRNGKey(2)
    batch = {
        "obs": jax.random.normal(key, (5, 4)),
        "action": jax.random.randint(key, (5, 2), 0, 3),
        "return": jnp.arange(5.0),
        "next_obs": jax.random.normal(jax.random.PRNGKey(3), (5, 4)),
        "discount": jnp.array([0.9, 0.0, 0.81, 0.9, 0.0]),
    }
    stats = RunningStats(jnp.zeros(4), jnp.ones(4), jnp.ones(()))
    loss, _ = trainer.loss(online, target, batch, jnp.asarray(0.5), stats)

    q = lambda p, o: np.asarray(net.q_values(p, stats.normalize(o)))  # noqa: E731
    q_next_online, q_next_target = q(online, batch["next_obs"]), q(target, batch["next_obs"])
    pick = q_next_online.argmax(-1)  # [5, 2]: the online net chooses, the target net values
    next_value = np.take_along_axis(q_next_target, pick[..., None], -1)[..., 0].mean(-1)  # averaged over heads
    y = 0.5 * np.arange(5.0) + np.asarray(batch["discount"]) * next_value
    taken = np.take_along_axis(q(online, batch["obs"]), np.asarray(batch["action"])[..., None], -1)[..., 0]
    errors = taken - y[:, None] if td_loss == "branch" else taken.mean(-1) - y  # each head, or the heads' mean
    if td_error == "squared":
        expected = np.mean(errors**2)
    else:  # squared within 1 of the target (halved), linear beyond
        assert np.abs(errors).max() > 1.0  # both pieces are exercised
        expected = np.mean(np.where(np.abs(errors) <= 1.0, 0.5 * errors**2, np.abs(errors) - 0.5))
    assert float(loss) == pytest.approx(expected, rel=1e-5)


@pytest.mark.unit
def test_two_critics_act_on_their_mean_and_bootstrap_from_the_lowest():
    config = DQNConfig(hidden_sizes=(8,), bins=3, gamma=0.9, td_loss="mean", critics=2)
    net = make_q_network(4, 2, config.hidden_sizes, config.bins, -1.0, 1.0, critics=2)
    trainer = make_trainer(None, config, net, episode_steps=10)
    online, target = net.init(jax.random.PRNGKey(0)), net.init(jax.random.PRNGKey(1))
    assert jax.tree.leaves(online)[0].shape[0] == 2  # the critics' params stack on a leading axis
    obs = jax.random.normal(jax.random.PRNGKey(2), (5, 4))
    both = np.asarray(net.ensemble(online, obs))  # [2, 5, 2, 3]
    single = make_q_network(4, 2, config.hidden_sizes, config.bins, -1.0, 1.0)
    for k in range(2):  # each critic is an independent single network
        np.testing.assert_allclose(both[k], single.q_values(jax.tree.map(lambda p, k=k: p[k], online), obs), atol=1e-6)
    assert not np.allclose(both[0], both[1])
    np.testing.assert_allclose(net.q_values(online, obs), both.mean(0), atol=1e-6)

    batch = {"return": jnp.arange(5.0), "next_obs": obs, "discount": jnp.array([0.9, 0.0, 0.81, 0.9, 0.9])}
    stats = RunningStats(jnp.zeros(4), jnp.ones(4), jnp.ones(()))
    y = np.asarray(trainer.td_target(online, target, batch, jnp.asarray(0.5), stats))
    pick = both.mean(0).argmax(-1)  # the online critics' mean chooses
    values = np.take_along_axis(np.asarray(net.ensemble(target, obs)), pick[None, ..., None], -1)[..., 0].mean(-1)
    np.testing.assert_allclose(y, 0.5 * np.arange(5.0) + np.asarray(batch["discount"]) * values.min(0), rtol=1e-5)
    assert (values[0] != values[1]).all()  # so the min is a real choice


@pytest.mark.unit
def test_advantage_learning_charges_the_taken_action_its_shortfall_from_the_greedy_one():
    config = DQNConfig(hidden_sizes=(8,), bins=3, gamma=0.9, critics=2)
    net = make_q_network(4, 2, config.hidden_sizes, config.bins, -1.0, 1.0, critics=2)
    plain = make_trainer(None, config, net, episode_steps=10)
    gap = make_trainer(None, dataclasses.replace(config, action_gap=0.8), net, episode_steps=10)
    online, target = net.init(jax.random.PRNGKey(0)), net.init(jax.random.PRNGKey(1))
    obs = jax.random.normal(jax.random.PRNGKey(2), (6, 4))
    q_now = np.asarray(net.q_values(target, obs))  # the target critics' mean at the first state
    greedy = q_now.argmax(-1)
    action = greedy.copy()
    action[3:, 0] = (greedy[3:, 0] + 1) % 3  # rows 3-5 leave the greedy bin on the first head
    batch = {"obs": obs, "action": jnp.asarray(action), "return": jnp.ones(6), "next_obs": obs[::-1],
             "discount": jnp.full(6, 0.9)}  # fmt: skip
    stats = RunningStats(jnp.zeros(4), jnp.ones(4), jnp.ones(()))
    y_plain = np.asarray(plain.td_target(online, target, batch, jnp.asarray(1.0), stats))
    y_gap = np.asarray(gap.td_target(online, target, batch, jnp.asarray(1.0), stats))
    shortfall = (q_now.max(-1) - np.take_along_axis(q_now, action[..., None], -1)[..., 0]).mean(-1)
    np.testing.assert_allclose(y_gap, y_plain - 0.8 * shortfall, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y_gap[:3], y_plain[:3], atol=1e-6)  # the greedy action is not charged
    assert (y_gap[3:] < y_plain[3:]).all()
    with pytest.raises(ValueError, match="action_gap must be in"):
        DQNConfig(action_gap=1.0)


@pytest.mark.unit
def test_layer_norm_trunk_ignores_the_scale_of_each_layer():
    net = make_q_network(6, 3, (16, 16), bins=5, low=-0.4, high=0.4, layer_norm=True)
    params = net.init(jax.random.PRNGKey(0))
    layers = params["params"]
    assert {"LayerNorm_0", "LayerNorm_1"} <= set(layers)
    obs = jax.random.normal(jax.random.PRNGKey(1), (8, 6))
    q = net.q_values(params, obs)
    scaled = jax.tree.map(lambda x: x * 7.0, layers["Dense_0"])  # LayerNorm undoes a positive scale
    q_scaled = net.q_values({"params": {**layers, "Dense_0": scaled}}, obs)
    np.testing.assert_allclose(q_scaled, q, rtol=1e-4, atol=1e-4)
    plain = make_q_network(6, 3, (16, 16), bins=5, low=-0.4, high=0.4)
    assert not any(k.startswith("LayerNorm") for k in plain.init(jax.random.PRNGKey(0))["params"])


@pytest.mark.unit
def test_n_step_returns_stop_at_episode_ends_and_the_newest_row():
    """One env, 6 rows in time order: episode A = rows 0-2 (falls at 2), B = rows 3-5 (B
    truncated at 4 by the time limit, then C starts at 5, the newest row)."""
    config = DQNConfig(hidden_sizes=(8,), bins=3, gamma=0.5, n_step=3, buffer_size=8, batch_size=4, learning_starts=4)
    net = make_q_network(1, 1, (8,), 3, -1.0, 1.0)
    trainer = make_trainer(None, config, net, episode_steps=10)
    example = {"obs": jnp.zeros(1), "action": jnp.zeros(1, jnp.int32), "reward": jnp.zeros(()),
               "next_obs": jnp.zeros(1), "terminated": jnp.zeros(()), "done": jnp.zeros(())}  # fmt: skip
    rows = {
        "obs": jnp.arange(6.0)[:, None],
        "action": jnp.zeros((6, 1), jnp.int32),
        "reward": jnp.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
        "next_obs": jnp.arange(1.0, 7.0)[:, None],
        "terminated": jnp.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0]),
        "done": jnp.array([0.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
    }
    buf = ReplayBuffer.create(8, example).add(rows)
    out = jax.device_get(trainer.n_step_transitions(buf, jnp.arange(6)))
    np.testing.assert_allclose(out["return"], [1 + 1 + 1, 2 + 2, 4, 8 + 8, 16, 32])
    np.testing.assert_allclose(out["discount"], [0.0, 0.0, 0.0, 0.25, 0.5, 0.5])
    np.testing.assert_allclose(out["next_obs"][:, 0], [3, 3, 3, 5, 5, 6])


@pytest.mark.unit
def test_epsilon_decays_per_episode_to_the_floor():
    c = DQNConfig()
    assert float(epsilon(c, jnp.asarray(0))) == 1.0
    assert float(epsilon(c, jnp.asarray(348))) == pytest.approx(0.995**348, rel=1e-5)
    assert float(epsilon(c, jnp.asarray(1000))) == pytest.approx(0.01)


@pytest.mark.unit
def test_bad_dqn_config_is_refused():
    with pytest.raises(ValueError, match="bins"):
        DQNConfig(bins=1)
    with pytest.raises(ValueError, match="epsilon"):
        DQNConfig(eps_min=0.5, eps_start=0.1)
    with pytest.raises(ValueError, match="batch_size"):
        DQNConfig(buffer_size=32, batch_size=64, learning_starts=16)
    with pytest.raises(ValueError, match="td_loss"):
        DQNConfig(td_loss="sum")


# -- it learns ----------------------------------------------------------------------------
class SignBandit(base.Env):
    """One-step episodes: observe a random sign s; reward 1 - mean(|a - 0.4 s|) / 0.8."""

    observation_size = 3
    action_size = 2
    backend = "none"

    def reset(self, rng):
        s = jnp.where(jax.random.bernoulli(rng), 1.0, -1.0)
        obs = jnp.array([s, 0.0, 1.0])
        return base.State(None, obs, jnp.zeros(()), jnp.zeros(()), {}, {"rng": rng})

    def step(self, state, action):
        s = state.obs[0]
        reward = 1.0 - jnp.mean(jnp.abs(action - 0.4 * s)) / 0.8
        key, _ = jax.random.split(state.info["rng"])
        return state.replace(obs=self.reset(key).obs, reward=reward, done=jnp.ones(()), info={"rng": key})


@pytest.mark.integration
def test_dqn_learns_a_contextual_bandit(tmp_path):
    config = DQNConfig(
        hidden_sizes=(32, 32), bins=5, learning_rate=3e-3, buffer_size=2048, batch_size=64, learning_starts=64,
        eps_decay=0.997, episodes=1000, num_envs=8, updates_per_step=8, steps_per_call=25, gamma=0.0,
        reward_norm=False, obs_norm=False,
    )  # fmt: skip
    env = VmapWrapper(EpisodeAutoReset(SignBandit(), 1))
    net = make_q_network(3, 2, config.hidden_sizes, config.bins, -0.4, 0.4)
    trainer = make_trainer(env, config, net, episode_steps=1)
    state, _ = loop.run(DQNProgram(trainer, 0, tmp_path), tmp_path, {"experiment": "bandit"}, 100, progress=False)
    assert int(state.episodes) >= 1000
    obs = jnp.array([[1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]])
    actions = np.asarray(net.greedy(state.params, state.obs_stats, obs))
    np.testing.assert_allclose(actions, [[0.4, 0.4], [-0.4, -0.4]], atol=1e-6)
    rows = runs.MetricsLog(tmp_path / "episodes.jsonl").read()
    assert len(rows) == 1000 and [r["episode"] for r in rows] == list(range(1, 1001))
    first, last = np.mean([r["return"] for r in rows[:100]]), np.mean([r["return"] for r in rows[-100:]])
    assert first < 0.8 and last > 0.95, (first, last)  # uniformly random actions score 0.5


# -- a tiny Humanoid run: resume is exact, plots and export work -------------------------
@pytest.fixture(scope="module")
def tiny_humanoid():
    exp = config_lib.apply_overrides(PRESETS.get("dqn_test"), ["eval_episodes=0"])
    return exp, humanoid_run.build_dqn_trainer(exp)


def _train(tiny, run_dir, stop_after=None):
    exp, trainer = tiny
    cfg = runs.config_record(exp, "dqn_test")
    program = DQNProgram(trainer, exp.seed, run_dir)
    return loop.run(program, run_dir, cfg, exp.checkpoint_every, 1, stop_after, progress=False)[0]


@pytest.mark.slow
def test_tiny_humanoid_dqn_run_resumes_exactly(tiny_humanoid, tmp_path):
    exp, _ = tiny_humanoid
    straight = _train(tiny_humanoid, tmp_path / "a")
    _train(tiny_humanoid, tmp_path / "b", stop_after=1)
    assert len(runs.MetricsLog(tmp_path / "b" / "metrics.jsonl").read()) == 1
    resumed = _train(tiny_humanoid, tmp_path / "b")
    a = runs.MetricsLog(tmp_path / "a" / "episodes.jsonl").read()
    b = runs.MetricsLog(tmp_path / "b" / "episodes.jsonl").read()
    assert len(a) == exp.dqn.episodes and a == b
    for x, y in zip(jax.tree.leaves(straight.params), jax.tree.leaves(resumed.params)):
        np.testing.assert_array_equal(x, y)
    assert all(len(r["cumulative"]) == r["length"] for r in a)
    assert all(r["cumulative"][-1] == pytest.approx(r["return"], abs=1e-2) for r in a)

    from experiments import compare_humanoid

    png = tmp_path / "variants.png"
    for d in "ab":  # train_run records the config; the loop alone does not
        (tmp_path / d / "config.json").write_text(json.dumps(runs.config_record(exp, "dqn_test")))
    assert compare_humanoid.main([f"a={tmp_path / 'a'}", f"b={tmp_path / 'b'}", "--out", str(png)]) == 0
    assert png.stat().st_size > 10_000

    summary = humanoid_run.finish_run(tmp_path / "a", exp)
    assert summary["episodes"] == exp.dqn.episodes and summary["peak"] >= summary["last100"]
    assert json.loads((tmp_path / "a" / "summary.json").read_text()) == summary
    assert (tmp_path / "a" / "episode_rewards.png").stat().st_size > 10_000
    for name in ("episodes_3d_scatter.html", "episodes_3d_surface.html"):
        html = (tmp_path / "a" / name).read_text()
        assert "scatter3d" in html or "surface" in html
        assert not re.search(r"<script[^>]*\bsrc=", html)  # plotly.js is inline: the file opens offline
        assert len(html) > 1_000_000

    policy, info = humanoid_run.load_policy(tmp_path / "a")
    assert info["algo"] == "dqn"
    path = tmp_path / "humanoid_dqn.onnx"
    path.write_bytes(export_humanoid_policy(policy, "dqn").SerializeToString())
    report = contract.check_file(path, contract.HUMANOID_DQN)
    assert report.ok, report.format()
    obs = np.random.default_rng(0).normal(0, 50, (256, 376)).astype(np.float32)
    result = parity(path, policy, obs)
    assert result["agree_1e-5"] >= 0.99 and result["max_abs_diff"] <= 0.8 / (exp.dqn.bins - 1) + 1e-6


@pytest.mark.integration
def test_a_ppo_humanoid_policy_exports_in_gymnasium_units(tmp_path):
    from orient_jax.agents.ppo.networks import make_networks
    from orient_jax.agents.ppo.policy_io import save_policy

    networks = make_networks(376, 17, (16,), -0.5)
    params = networks.init(jax.random.PRNGKey(0))
    params = params.replace(actor=jax.tree.map(lambda a: a * 5000.0, params.actor))  # saturate the tanh
    save_policy(tmp_path / "policy", networks, params, RunningStats.create(376), {"seed": 0})
    policy, info = humanoid_run.load_policy(tmp_path)
    assert info["algo"] == "ppo"
    obs = np.random.default_rng(1).normal(0, 1, (64, 376)).astype(np.float32)
    actions = np.asarray(policy(obs))
    assert np.abs(actions).max() <= 0.4 + 1e-6 and np.abs(actions).max() > 0.39
    proto = export_humanoid_policy(policy, "ppo")
    path = tmp_path / "humanoid_ppo.onnx"
    path.write_bytes(proto.SerializeToString())
    assert contract.check_file(path, contract.HUMANOID_PPO).ok
    assert parity(path, policy, obs)["max_abs_diff"] < 1e-5
    assert [i.name for i in onnx.load(path).graph.input] == ["obs"]


@pytest.mark.unit
def test_a_missing_or_foreign_policy_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no policy"):
        humanoid_run.load_policy(tmp_path)
    (tmp_path / "policy.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="not a humanoid policy"):
        humanoid_run.load_policy(tmp_path)


@pytest.mark.unit
def test_seed003_preset_is_the_published_recipe():
    from experiments.configs.humanoid import PRESETS

    for name in PRESETS.names():
        PRESETS.get(name)  # every preset validates
    exp = PRESETS.get("seed003")
    d = exp.dqn
    published = {
        "hidden_sizes": (512, 512), "learning_rate": 3e-4, "max_grad_norm": 1.0, "tau": 0.005,
        "buffer_size": 100_000, "batch_size": 64, "eps_decay": 0.995, "eps_min": 0.01, "episodes": 1000,
        "reward_norm": True,
    }  # fmt: skip
    assert {k: getattr(d, k) for k in published} == published
    assert PRESETS.get("dqn_plain").dqn == DQNConfig()  # the same recipe without our four choices
    assert (d.layer_norm, d.td_loss, d.n_step, d.dueling) == (True, "mean", 3, True)
    assert (exp.algo, exp.episode_steps) == ("dqn", 200)
    assert PRESETS.get("ppo200").episode_steps == 200
    with pytest.raises(ValueError, match="unknown humanoid preset"):
        PRESETS.get("dqn")


@pytest.mark.integration
def test_eval_and_results_scripts_refuse_a_missing_run(tmp_path, capsys):
    from experiments import compare_humanoid, eval_humanoid, humanoid_results

    assert eval_humanoid.main(["--run", str(tmp_path / "nope")]) == 2
    assert "config.json not found" in capsys.readouterr().err
    assert humanoid_results.main(["--dqn", str(tmp_path / "nope"), "--out", str(tmp_path / "h.json")]) == 2
    assert not (tmp_path / "h.json").exists()
    capsys.readouterr()
    assert compare_humanoid.main([f"x={tmp_path / 'nope'}"]) == 2
    assert "config.json not found" in capsys.readouterr().err
    assert compare_humanoid.main([str(tmp_path)]) == 2
    assert "LABEL=RUN_DIR" in capsys.readouterr().err
    assert not (tmp_path / "h.json").exists()


@pytest.mark.unit
def test_results_name_the_overrides_that_reproduce_a_run():
    preset = PRESETS.get("seed003")
    run = config_lib.apply_overrides(preset, ["seed=3", "dqn.td_loss=branch", "dqn.hidden_sizes=64,64"])
    overrides = config_lib.overrides_between(preset, run)
    assert sorted(overrides) == ["dqn.hidden_sizes=64,64", "dqn.td_loss=branch", "seed=3"]
    assert config_lib.apply_overrides(preset, overrides) == run
    assert config_lib.overrides_between(preset, PRESETS.get("seed003")) == []
