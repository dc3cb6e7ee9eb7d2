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
    env: RotationEnvConfig = RotationEnvConfig()
    ppo: PPOConfig = PPOConfig()
    checkpoint_every: int = 25  # updates between checkpoints
    keep_checkpoints: int = 2
    eval_episodes: int = 1024  # final deterministic evaluation after training

    def __post_init__(self):
        profiles.get(self.task)  # an unknown profile says which exist
        if self.checkpoint_every <= 0 or self.keep_checkpoints <= 0:
            raise ValueError("checkpoint_every and keep_checkpoints must be positive")
        if self.eval_episodes < 0:
            raise ValueError(f"eval_episodes must be >= 0, got {self.eval_episodes}")

    @property
    def spec(self) -> TaskSpec:
        return profiles.get(self.task)
