"""Humanoid presets. Pick one with ``--config NAME``; override fields with
``section.key=value`` arguments (e.g. ``dqn.bins=7``, ``env.physics=gymnasium``)."""

from __future__ import annotations

import dataclasses

from experiments.configs import Presets
from orient_jax.agents.dqn.config import DQNConfig
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.tasks.humanoid.config import HumanoidExperiment
from orient_jax.tasks.humanoid.env import HumanoidConfig

FAST = HumanoidConfig(physics="fast")
LEAN = HumanoidConfig(physics="lean")
# What seed003 adds to the published recipe (see there); the tests' dqn_test uses it too, so the
# tiny test run and its ONNX export exercise every one of them.
DQN_CHOICES = {"layer_norm": True, "td_loss": "mean", "n_step": 3, "dueling": True}


def cpu_ppo(total_env_steps: int) -> PPOConfig:
    """PPO for the 2-core CPU: 32 envs (at 256, three tries, XLA deadlocked: idle, never
    returned; DESIGN.md) x 256 steps, 2x256, discount 0.97, rewards x 0.1."""
    return PPOConfig(
        num_envs=32,
        rollout_length=256,
        num_minibatches=8,
        update_epochs=4,
        hidden_sizes=(256, 256),
        gamma=0.97,
        reward_scale=0.1,
        ent_coef=1e-3,
        init_log_std=-0.7,
        total_env_steps=total_env_steps,
    )


PRESETS = Presets(
    "humanoid",
    {
        # The published DQN: 2x512 ReLU, Adam 3e-4, MSE, clip 1.0, tau 0.005, replay 100k,
        # batch 64, epsilon x0.995 per episode down to 0.01, 1000 episodes x 200 steps,
        # reward normalization (DQNConfig's defaults). What it left open is ours: 11 bins per
        # joint, double DQN, and the four choices that lifted the last-100 mean above the
        # published peak (docs/results.md): LayerNorm in the trunk, the DecQN mean-over-heads
        # TD loss, 3-step returns and a dueling state value.
        "seed003": lambda: HumanoidExperiment(
            algo="dqn",
            env=FAST,
            episode_steps=200,
            dqn=DQNConfig(**DQN_CHOICES),
            checkpoint_every=50,
        ),
        # The branching DQN that walks: Gymnasium's own physics (native MuJoCo on the host, 16
        # envs), a JAX learner beside it (orient_jax.agents.dqn.host). The seed's recipe grown
        # up (docs/humanoid.md): DecQN's mean-over-heads TD loss, 5 bins per motor, double Q
        # over two critics (clipped: the lower one's value), advantage learning (0.9), 3-step
        # returns, LayerNorm, a dueling value, a fixed reward scale, a 1M replay buffer, batch
        # 256, Ape-X per-env exploration, 3 gradient steps per 8 env steps, 1.4M env steps (about
        # 100 min on the 2-core CPU; docs/humanoid.md has the timed run).
        "dqn_native": lambda: HumanoidExperiment(
            algo="dqn",
            env=HumanoidConfig(physics="native"),
            episode_steps=1000,
            dqn=DQNConfig(
                **DQN_CHOICES,
                bins=5,
                critics=2,
                action_gap=0.9,
                reward_norm=False,
                reward_scale=0.1,
                batch_size=256,
                buffer_size=1_000_000,
                num_envs=16,
                steps_per_call=64,
                updates_per_step=6,
                learning_starts=20_000,
                eps_start=0.4,
                total_env_steps=1_400_000,
                validate_every=100_000,
                validate_episodes=8,
            ),
            checkpoint_every=200,
            eval_episodes=20,
        ),
        # The same recipe with none of the four: the plain branching DQN we started from.
        "dqn_plain": lambda: HumanoidExperiment(
            algo="dqn", env=FAST, episode_steps=200, dqn=DQNConfig(), checkpoint_every=50
        ),
        # PPO on the same 200-step episodes, for the comparison in docs/results.md.
        "ppo200": lambda: HumanoidExperiment(
            algo="ppo",
            env=FAST,
            episode_steps=200,
            ppo=cpu_ppo(total_env_steps=4_000_000),
            checkpoint_every=20,
        ),
        # The lean physics (docs/humanoid.md) on the 2-core CPU, full 1000-step episodes: shows
        # that a policy trained in it walks in native Gymnasium before a GPU trains it at scale.
        "lean_cpu": lambda: HumanoidExperiment(
            algo="ppo",
            env=LEAN,
            episode_steps=1000,
            ppo=cpu_ppo(total_env_steps=10_000_000),
            checkpoint_every=20,
            eval_episodes=32,
        ),
        # lean_cpu on the lean4 physics (4 Newton iterations): does the solver budget decide
        # how well a policy transfers to native Gymnasium? (docs/humanoid.md)
        "lean4_cpu": lambda: dataclasses.replace(PRESETS.get("lean_cpu"), env=HumanoidConfig(physics="lean4")),
        # And on floor4 (every body part touches the floor): do the contacts lean leaves out decide it?
        "floor4_cpu": lambda: dataclasses.replace(PRESETS.get("lean_cpu"), env=HumanoidConfig(physics="floor4")),
        # A smoke run of minutes on the CPU.
        "cpu": lambda: HumanoidExperiment(
            algo="ppo",
            env=FAST,
            episode_steps=200,
            ppo=PPOConfig(
                num_envs=32,
                rollout_length=64,
                num_minibatches=4,
                update_epochs=4,
                hidden_sizes=(256, 256),
                gamma=0.97,
                ent_coef=1e-3,
                init_log_std=-0.7,
                total_env_steps=32 * 64 * 30,
            ),  # fmt: skip
            checkpoint_every=10,
            eval_episodes=16,
        ),
        # One GPU (H100/H200), full 1000-step episodes, the floor4 physics: of the physics
        # measured (docs/humanoid.md), the cheapest whose policies keep their score in native
        # Gymnasium (the feet-only lean and lean4 stop transferring as they learn). The shape
        # of MJX's own Humanoid recipe (thousands of envs, short unrolls, 0.97 discount,
        # rewards x 0.1), sized for 10 minutes of wall time, compile included.
        "gpu": lambda: HumanoidExperiment(
            algo="ppo",
            env=HumanoidConfig(physics="floor4"),
            episode_steps=1000,
            ppo=PPOConfig(
                num_envs=4096,
                rollout_length=10,
                num_minibatches=16,
                update_epochs=8,
                hidden_sizes=(256, 256, 256),
                learning_rate=3e-4,
                gamma=0.97,
                reward_scale=0.1,
                ent_coef=1e-3,
                init_log_std=-0.7,
                total_env_steps=80_000_000,
            ),  # fmt: skip
            checkpoint_every=100,
            eval_episodes=256,
        ),
    },
    gpu={"gpu"},  # the train command refuses it on the CPU without --allow-cpu
)
