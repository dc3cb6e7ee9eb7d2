"""Library side of the Humanoid scripts: build, train and load a run's policy (scoring:
``orient_jax.tasks.humanoid.evaluation``).

PPO's networks act in [-1, 1]; ``ScaledActions`` maps that onto the env's
[-0.4, 0.4], and the loaded PPO policy applies the same scale, so every policy this
module hands out speaks Gymnasium's action units.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
from brax.envs import base
from brax.envs.wrappers.training import VmapWrapper

from orient_jax.agents.dqn import policy_io as dqn_policy_io
from orient_jax.agents.dqn.host import HostDQNProgram, make_learner
from orient_jax.agents.dqn.networks import make_q_network
from orient_jax.agents.dqn.program import DQNProgram
from orient_jax.agents.dqn.train import DQNTrainer
from orient_jax.agents.dqn.train import make_trainer as make_dqn_trainer
from orient_jax.agents.ppo import policy_io as ppo_policy_io
from orient_jax.agents.ppo.program import PPOProgram
from orient_jax.agents.ppo.train import PPOTrainer, make_trainer
from orient_jax.core import launch, loop, runs
from orient_jax.core import seeds as seeds_lib
from orient_jax.envs.wrappers import EpisodeAutoReset, wrap_for_training
from orient_jax.tasks.humanoid.config import HumanoidExperiment
from orient_jax.tasks.humanoid.env import ACTION_LIMIT, ACTION_SIZE, NATIVE, OBS_SIZE, HumanoidEnv
from orient_jax.tasks.humanoid.evaluation import Policy

PPO_CURVE_KEYS = ("episode_return", "value_loss", "approx_kl", "action_std")


class ScaledActions(base.Wrapper):
    """Actions in [-1, 1] (clipped) -> the env's [-limit, limit]."""

    def __init__(self, env: base.Env, limit: float = ACTION_LIMIT):
        super().__init__(env)
        self.limit = limit

    def step(self, state: base.State, action: jax.Array) -> base.State:
        return self.env.step(state, self.limit * jnp.clip(action, -1.0, 1.0))


def build_ppo_trainer(exp: HumanoidExperiment) -> PPOTrainer:
    env = wrap_for_training(ScaledActions(HumanoidEnv(exp.env, worlds=exp.ppo.num_envs)), exp.episode_steps)
    # The fraction of ended episodes that a physics blow-up ended (HumanoidEnv.step).
    return make_trainer(env, exp.ppo, episode_metrics={"blew_up": "blow_up_rate"})


def make_dqn_network(exp: HumanoidExperiment):
    return make_q_network(
        OBS_SIZE,
        ACTION_SIZE,
        exp.dqn.hidden_sizes,
        exp.dqn.bins,
        -ACTION_LIMIT,
        ACTION_LIMIT,
        exp.dqn.dueling,
        exp.dqn.layer_norm,
        exp.dqn.critics,
    )


def build_dqn_trainer(exp: HumanoidExperiment) -> DQNTrainer:
    env = HumanoidEnv(exp.env, worlds=exp.dqn.num_envs)
    wrapped = VmapWrapper(EpisodeAutoReset(env, exp.episode_steps, stagger=False))
    return make_dqn_trainer(wrapped, exp.dqn, make_dqn_network(exp), exp.episode_steps)


NATIVE_GOAL = 5000.0  # the walking DQN's goal: standing alone scores about 5000 over 1000 steps
VALIDATION_SEED = 1_000_000  # added to the run's seed: validation episodes are never training ones


def build_host_dqn(exp: HumanoidExperiment, run_dir: Path) -> HostDQNProgram:
    """The branching DQN on native MuJoCo (``env.physics="native"``): host envs, a JAX learner."""
    from orient_jax.tasks.humanoid import native

    envs = native.NativeHumanoid(exp.dqn.num_envs, exp.env, exp.episode_steps, exp.seed)

    def validate(policy):
        c = exp.dqn
        return native.run_episodes(policy, c.validate_episodes, exp.env, exp.episode_steps, exp.seed + VALIDATION_SEED)

    return HostDQNProgram(make_learner(exp.dqn, make_dqn_network(exp)), envs, exp.seed, run_dir, validate)


def load_run_config(run_dir: Path) -> HumanoidExperiment:
    return runs.read_run_config(run_dir, HumanoidExperiment, "humanoid")[0]


def train_run(exp: HumanoidExperiment, preset: str, run_dir: Path, stop_after: int | None = None, progress=True):
    """Train (or resume) ``run_dir``. Returns True once the run has reached its end."""
    config = runs.prepare_run(run_dir, exp, preset)
    if exp.algo == "dqn" and exp.env.physics == NATIVE:
        program = build_host_dqn(exp, run_dir)
    elif exp.algo == "dqn":
        program = DQNProgram(build_dqn_trainer(exp), exp.seed, run_dir)
    else:
        program = PPOProgram(build_ppo_trainer(exp), exp.seed, run_dir, curve_keys=PPO_CURVE_KEYS, seeds=exp.seeds)
    state, step = loop.run(program, run_dir, config, exp.checkpoint_every, exp.keep_checkpoints, stop_after, progress)
    return program.progress(state, step) >= program.total


def finish_run(run_dir: Path, exp: HumanoidExperiment, evaluate: bool = True) -> dict:
    """Write summary.json and the plots of a finished run; returns the summary. With
    ``evaluate`` (and ``exp.eval_episodes``) it holds a deterministic evaluation in MJX."""
    from orient_jax.tasks.humanoid import evaluation, plots

    summary = {"algo": exp.algo, "episode_steps": exp.episode_steps, **evaluation.training_summary(run_dir, exp)}
    # This process from its start to the end of training: imports, compiles and all (a
    # resumed run counts only its last part; metrics.jsonl's wall_s adds up every part's updates).
    if launch.started_at is not None:
        summary["process_wall_s"] = round(time.perf_counter() - launch.started_at, 1)
    summary["runtime"] = launch.current().record()
    if evaluate and exp.eval_episodes and exp.env.physics == NATIVE:
        # Trained in Gymnasium's physics: scored in Gymnasium itself, the last policy and the best
        # of the validations (on other seeds than these).
        for name in ("policy", "policy_best"):
            if (run_dir / name / "policy.json").exists():
                policy, _ = load_policy(run_dir / name)
                summary[f"eval_gymnasium_{name}"] = evaluation.evaluate_gymnasium(
                    policy, exp.eval_episodes, exp.episode_steps, seed=exp.seed + 1_000_003
                )
    elif evaluate and exp.eval_episodes:
        seed = exp.seed + 1_000_003
        if exp.seeds == 1:
            summary["eval_mjx"] = evaluation.evaluate_mjx(load_policy(run_dir)[0], exp, exp.eval_episodes, seed=seed)
        else:  # every seed's policy on the same episodes; the first seed's is eval_mjx too
            summary["per_seed"] = [
                {
                    "training_seed": s,
                    "eval_mjx": evaluation.evaluate_mjx(
                        load_policy(run_dir / "policies" / f"seed-{s}")[0], exp, exp.eval_episodes, seed=seed
                    ),
                }
                for s in seeds_lib.seed_values(exp.seed, exp.seeds)
            ]
            summary["eval_mjx"] = summary["per_seed"][0]["eval_mjx"]
    if exp.env.physics == NATIVE:
        metrics = runs.MetricsLog(run_dir / "metrics.jsonl").read()
        title = f"Humanoid branching DQN on Gymnasium's physics ({run_dir.name})"
        plots.plot_curve_over_steps_and_time(metrics, run_dir / "curve_steps_and_time.png", title, NATIVE_GOAL)
    if exp.algo == "dqn":
        rows = runs.MetricsLog(run_dir / "episodes.jsonl").read()
        # The published peak is a 200-step figure: the reference line of 200-step runs only.
        reference = plots.PUBLISHED_PEAK if exp.episode_steps == 200 else (f"goal {NATIVE_GOAL:,.0f}", NATIVE_GOAL)
        plots.plot_episode_rewards(rows, run_dir / "episode_rewards.png", reference)
        plots.write_3d_views(rows, run_dir, f"Humanoid branching DQN ({run_dir.name})")
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    return summary


# -- policies -----------------------------------------------------------------------------
def load_policy(path: str | Path) -> tuple[Policy, dict]:
    """A run directory's (or policy folder's) deterministic policy, in Gymnasium units."""
    path = Path(path)
    folder = path / "policy" if (path / "policy" / "policy.json").exists() else path
    info_path = folder / "policy.json"
    if not info_path.is_file():
        raise FileNotFoundError(
            f"no policy at {path} (expected {info_path}); train one with `python -m experiments.train humanoid`"
        )
    fmt = json.loads(info_path.read_text()).get("format")
    if fmt == ppo_policy_io.FORMAT:
        networks, params, normalizer, info = ppo_policy_io.load_policy(folder)

        def ppo_policy(obs):
            # The clip costs nothing and keeps float32 rounding of 0.4 * tanh inside the box.
            return jnp.clip(
                ACTION_LIMIT * networks.mean_action(params, normalizer.normalize(obs)), -ACTION_LIMIT, ACTION_LIMIT
            )

        return ppo_policy, {**info, "algo": "ppo"}
    if fmt == dqn_policy_io.FORMAT:
        network, params, normalizer, info = dqn_policy_io.load_policy(folder)

        def dqn_policy(obs):
            return network.greedy(params, normalizer, obs)

        return dqn_policy, {**info, "algo": "dqn"}
    raise ValueError(f"{info_path} has format {fmt!r}: not a humanoid policy")
