"""The re-orientation experiment config (presets in ``experiments/configs/rotation.py``)."""

from __future__ import annotations

import dataclasses

from orient_jax import profiles
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.profiles.spec import TaskSpec
from orient_jax.tasks.rotation.env import RotationEnvConfig


@dataclasses.dataclass(frozen=True)
class RotationExperiment:
    """Everything that defines a re-orientation training run."""

    task: str = "cube"  # the task profile (orient_jax.profiles) the env simulates
    seed: int = 0
    seeds: int = 1  # seeds trained at once in one vmapped program: seed, seed + 1, ...
    env: RotationEnvConfig = RotationEnvConfig()
    ppo: PPOConfig = PPOConfig()
    checkpoint_every: int = 25  # updates between checkpoints
    keep_checkpoints: int = 2
    eval_episodes: int = 1024  # final deterministic evaluation after training
    # Stop before ppo.total_env_steps once the training success rate (stochastic policy,
    # noise, kicks and randomization on) has been >= stop_success for stop_updates updates
    # in a row; 0 trains every step.
    stop_success: float = 0.0
    stop_updates: int = 10

    def __post_init__(self):
        profiles.get(self.task)  # an unknown profile says which exist
        if self.seeds < 1:
            raise ValueError(f"seeds must be at least 1, got {self.seeds}")
        if self.checkpoint_every <= 0 or self.keep_checkpoints <= 0:
            raise ValueError("checkpoint_every and keep_checkpoints must be positive")
        if not 0.0 <= self.stop_success <= 1.0 or self.stop_updates <= 0:
            raise ValueError(
                f"stop_success must be in [0, 1] and stop_updates positive, got {self.stop_success}, "
                f"{self.stop_updates}"
            )
        if self.eval_episodes < 0:
            raise ValueError(f"eval_episodes must be >= 0, got {self.eval_episodes}")

    @property
    def spec(self) -> TaskSpec:
        return profiles.get(self.task)
