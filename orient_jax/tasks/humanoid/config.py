"""The Humanoid experiment config: one env, one algorithm (PPO or branching DQN).

The config carries a section for each algorithm, but only ``algo``'s is used: an
override of the other one is refused (``unused_sections``), never silently ignored.
"""

from __future__ import annotations

import dataclasses

from orient_jax.agents.dqn.config import DQNConfig
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.tasks.humanoid.env import NATIVE, HumanoidConfig

ALGOS = ("ppo", "dqn")


@dataclasses.dataclass(frozen=True)
class HumanoidExperiment:
    algo: str = "ppo"
    seed: int = 0
    seeds: int = 1  # PPO: seeds trained at once in one vmapped program (seed, seed + 1, ...)
    env: HumanoidConfig = HumanoidConfig()
    episode_steps: int = 1000  # Gymnasium's time limit for Humanoid-v4
    ppo: PPOConfig = PPOConfig()
    dqn: DQNConfig = DQNConfig()
    checkpoint_every: int = 25  # PPO updates, or DQN calls, between checkpoints
    keep_checkpoints: int = 1
    eval_episodes: int = 100  # deterministic episodes scored after training

    def __post_init__(self):
        if self.algo not in ALGOS:
            raise ValueError(f"algo must be one of {ALGOS}, got {self.algo!r}")
        if self.seeds < 1:
            raise ValueError(f"seeds must be at least 1, got {self.seeds}")
        if self.seeds > 1 and self.algo != "ppo":
            raise ValueError(
                f"seeds={self.seeds}: the branching DQN trains one seed per run (its replay buffer and host envs "
                "are one seed's); start one run per seed with seed=N"
            )
        if self.episode_steps <= 0:
            raise ValueError(f"episode_steps must be positive, got {self.episode_steps}")
        if self.checkpoint_every <= 0 or self.keep_checkpoints <= 0:
            raise ValueError("checkpoint_every and keep_checkpoints must be positive")
        if self.env.physics == NATIVE and self.algo != "dqn":
            raise ValueError(
                f"env.physics='native' steps its envs on the host; only algo=dqn trains on it (algo is {self.algo!r})"
            )
        if self.env.physics == NATIVE and self.dqn.buffer_size % self.dqn.num_envs:
            raise ValueError(
                f"dqn.buffer_size ({self.dqn.buffer_size}) must be a multiple of dqn.num_envs ({self.dqn.num_envs}): "
                "n-step returns find an env's next row num_envs rows on"
            )
        if self.eval_episodes < 0:
            raise ValueError(f"eval_episodes must be >= 0, got {self.eval_episodes}")

    def unused_sections(self) -> dict[str, str]:
        """The sections the chosen algorithm does not read, and why."""
        return {a: f"algo is {self.algo!r}; set algo={a} to train with it" for a in ALGOS if a != self.algo}
