"""Library side of the Humanoid scripts: build, train, score and load a run's policy.

PPO's networks act in [-1, 1]; ``ScaledActions`` maps that onto the env's
[-0.4, 0.4], and the loaded PPO policy applies the same scale, so every policy this
module hands out speaks Gymnasium's action units.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from brax.envs import base
from brax.envs.wrappers.training import VmapWrapper

from orient_jax import bundle_io, runs
from orient_jax import config as config_lib
from orient_jax.agents.dqn import loop as dqn_loop
from orient_jax.agents.dqn.networks import QNetwork, make_q_network
from orient_jax.agents.dqn.train import DQNTrainer
from orient_jax.agents.dqn.train import make_trainer as make_dqn_trainer
from orient_jax.agents.ppo import loop as ppo_loop
from orient_jax.agents.ppo.policy_io import FORMAT as PPO_FORMAT
from orient_jax.agents.ppo.policy_io import load_policy as load_ppo_policy
from orient_jax.agents.ppo.train import Trainer, make_trainer
from orient_jax.envs.humanoid import ACTION_LIMIT, HumanoidEnv
from orient_jax.envs.wrappers import EpisodeAutoReset, wrap_for_training
from orient_jax.humanoid_config import HumanoidExperiment
from orient_jax.normalization import RunningStats

Policy = Callable[[jax.Array], jax.Array]  # raw observations [..., 376] -> actions [..., 17]
PPO_CURVE_KEYS = ("episode_return", "value_loss", "approx_kl", "action_std")


class ScaledActions(base.Wrapper):
    """Actions in [-1, 1] (clipped) -> the env's [-limit, limit]."""

    def __init__(self, env: base.Env, limit: float = ACTION_LIMIT):
        super().__init__(env)
        self.limit = limit

    def step(self, state: base.State, action: jax.Array) -> base.State:
        return self.env.step(state, self.limit * jnp.clip(action, -1.0, 1.0))


def build_ppo_trainer(exp: HumanoidExperiment) -> Trainer:
    env = wrap_for_training(ScaledActions(HumanoidEnv(exp.env)), exp.episode_steps)
    return make_trainer(env, exp.ppo)


def build_dqn_trainer(exp: HumanoidExperiment) -> DQNTrainer:
    env = HumanoidEnv(exp.env)
    wrapped = VmapWrapper(EpisodeAutoReset(env, exp.episode_steps, stagger=False))
    network = make_q_network(
        env.observation_size,
        env.action_size,
        exp.dqn.hidden_sizes,
        exp.dqn.bins,
        -ACTION_LIMIT,
        ACTION_LIMIT,
        exp.dqn.dueling,
        exp.dqn.layer_norm,
    )
    return make_dqn_trainer(wrapped, exp.dqn, network, exp.episode_steps)


def run_config_dict(exp: HumanoidExperiment, preset: str) -> dict:
    return {"preset": preset, "experiment": config_lib.to_dict(exp)}


def load_run_config(run_dir: Path) -> HumanoidExperiment:
    return runs.read_run_config(run_dir, HumanoidExperiment, "humanoid")[0]


def train_run(exp: HumanoidExperiment, preset: str, run_dir: Path, stop_after: int | None = None, progress=True):
    """Train (or resume) ``run_dir``. Returns True once the run has reached its end."""
    cfg = run_config_dict(exp, preset)
    runs.refuse_other_config(run_dir, cfg)
    runs.write_metadata(run_dir, cfg, exp.seed)
    if exp.algo == "dqn":
        trainer = build_dqn_trainer(exp)
        state = dqn_loop.train(
            trainer, run_dir, exp.seed, cfg, exp.checkpoint_every, exp.keep_checkpoints, stop_after, progress
        )
        return int(state.episodes) >= exp.dqn.episodes
    trainer = build_ppo_trainer(exp)
    state = ppo_loop.train(
        trainer,
        run_dir,
        exp.seed,
        cfg,
        exp.checkpoint_every,
        exp.keep_checkpoints,
        stop_after,
        progress,
        curve_keys=PPO_CURVE_KEYS,
    )
    return int(state.update_step) >= exp.ppo.num_updates


# -- policies -----------------------------------------------------------------------------
def load_policy(path: str | Path) -> tuple[Policy, dict]:
    """A run directory's (or policy folder's) deterministic policy, in Gymnasium units."""
    path = Path(path)
    folder = path / "policy" if (path / "policy" / "policy.json").exists() else path
    info_path = folder / "policy.json"
    if not info_path.is_file():
        raise FileNotFoundError(
            f"no policy at {path} (expected {info_path}); train one with experiments.train_humanoid"
        )
    fmt = json.loads(info_path.read_text()).get("format")
    if fmt == PPO_FORMAT:
        networks, params, normalizer, info = load_ppo_policy(folder)

        def ppo_policy(obs):
            # The clip costs nothing and keeps float32 rounding of 0.4 * tanh inside the box.
            return jnp.clip(
                ACTION_LIMIT * networks.mean_action(params, normalizer.normalize(obs)), -ACTION_LIMIT, ACTION_LIMIT
            )

        return ppo_policy, {**info, "algo": "ppo"}
    if fmt == dqn_loop.FORMAT:
        network, params, normalizer, info = load_dqn_policy(folder)

        def dqn_policy(obs):
            return network.greedy(params, normalizer, obs)

        return dqn_policy, {**info, "algo": "dqn"}
    raise ValueError(f"{info_path} has format {fmt!r}: not a humanoid policy")


def load_dqn_policy(folder: Path) -> tuple[QNetwork, dict, RunningStats, dict]:
    folder, info = bundle_io.read_info(folder, "policy", dqn_loop.FORMAT, "DQN policy", "train one first")
    network = make_q_network(**info["network"])
    template = {"params": network.init(jax.random.PRNGKey(0)), "normalizer": RunningStats.create(network.obs_size)}
    arrays = bundle_io.read_arrays(folder, "policy", template)
    normalizer = jax.tree.map(jnp.asarray, arrays["normalizer"])
    return network, jax.tree.map(jnp.asarray, arrays["params"]), normalizer, info


# -- scoring --------------------------------------------------------------------------------
def evaluate_mjx(policy: Policy, exp: HumanoidExperiment, episodes: int, seed: int) -> dict:
    """Deterministic episodes in the MJX env, in vmapped scans of <= 64 (batches of 128 of
    this model have deadlocked XLA on the CPU)."""
    env = HumanoidEnv(exp.env)
    T = exp.episode_steps

    @jax.jit
    def rollout(keys):
        state = jax.vmap(env.reset)(keys)

        def step(carry, _):
            state, alive, ret, length = carry
            nxt = jax.vmap(env.step)(state, policy(state.obs))
            ret = ret + alive * nxt.reward
            length = length + alive
            alive = alive * (1.0 - nxt.done)
            return (nxt, alive, ret, length), None

        n = keys.shape[0]
        (_, _, ret, length), _ = jax.lax.scan(step, (state, jnp.ones(n), jnp.zeros(n), jnp.zeros(n)), None, length=T)
        return ret, length

    keys = jax.random.split(jax.random.PRNGKey(seed), episodes)
    returns, lengths = [], []
    for i in range(0, episodes, 64):
        r, n = jax.device_get(rollout(keys[i : i + 64]))
        returns.append(r)
        lengths.append(n)
    return summarize(np.concatenate(returns), np.concatenate(lengths), T)


def evaluate_gymnasium(policy: Policy, episodes: int, episode_steps: int, seed: int) -> dict:
    """Score in Gymnasium's own Humanoid-v4 (native MuJoCo, PGS): the real thing."""
    import gymnasium as gym  # noqa: PLC0415  (test/eval-only dependency)

    env = gym.make("Humanoid-v4", max_episode_steps=episode_steps)
    act = jax.jit(policy)
    returns, lengths = [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        total, n, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(np.asarray(act(jnp.asarray(obs, jnp.float32))))
            total, n, done = total + reward, n + 1, terminated or truncated
        returns.append(total)
        lengths.append(n)
    env.close()
    return summarize(np.array(returns), np.array(lengths), episode_steps)


def summarize(returns: np.ndarray, lengths: np.ndarray, episode_steps: int) -> dict:
    return {
        "episodes": int(returns.size),
        "episode_steps": episode_steps,
        "mean_return": float(returns.mean()),
        "std_return": float(returns.std()),
        "min_return": float(returns.min()),
        "max_return": float(returns.max()),
        "mean_length": float(lengths.mean()),
        "full_length_fraction": float(np.mean(lengths >= episode_steps)),
    }


def training_summary(run_dir: Path, exp: HumanoidExperiment) -> dict:
    """Peak and last-100 episode returns of a finished run, from its logs.

    DQN logs every episode, so these are single episodes. PPO runs hundreds of envs at
    once; it logs the mean return of the episodes that ended in each update, so its
    peak is the best such mean and its last-100 is the mean over the final updates'
    episodes (at least 100 of them)."""
    run_dir = Path(run_dir)
    if exp.algo == "dqn":
        rows = runs.MetricsLog(run_dir / "episodes.jsonl").read()
        if not rows:
            raise FileNotFoundError(f"{run_dir}/episodes.jsonl is empty: has the run started?")
        returns = np.array([r["return"] for r in rows])
        peak = int(np.argmax(returns))
        return {
            "episodes": len(rows),
            "peak": float(returns[peak]),
            "peak_episode": int(rows[peak]["episode"]),
            "last100": float(returns[-100:].mean()),
            "env_steps": int(sum(r["length"] for r in rows)),
        }
    rows = [r for r in runs.MetricsLog(run_dir / "metrics.jsonl").read() if r.get("episodes", 0) > 0]
    if not rows:
        raise FileNotFoundError(f"{run_dir}/metrics.jsonl has no finished episodes yet")
    best = max(rows, key=lambda r: r["episode_return"])
    tail, count = [], 0
    for r in reversed(rows):
        tail.append(r)
        count += r["episodes"]
        if count >= 100:
            break
    last = sum(r["episode_return"] * r["episodes"] for r in tail) / sum(r["episodes"] for r in tail)
    return {
        "episodes": int(sum(r["episodes"] for r in rows)),
        "peak": float(best["episode_return"]),
        "peak_update": int(best["update"]),
        "last100": float(last),
        "last100_episodes": int(count),
        "env_steps": int(rows[-1]["env_steps"]),
    }
