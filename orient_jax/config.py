"""The re-orientation experiment config; the generic dataclass helpers are re-exported
from ``orient_jax.dataclass_config`` (stdlib only, shared with ``render/``)."""

from __future__ import annotations

import dataclasses

from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.dataclass_config import apply_overrides, from_dict, overrides_between, to_dict  # noqa: F401  (re-exported)
from orient_jax.envs.rotation import RotationEnvConfig


@dataclasses.dataclass(frozen=True)
class RotationExperiment:
    """Everything that defines a re-orientation training run."""

    seed: int = 0
    env: RotationEnvConfig = RotationEnvConfig()
    ppo: PPOConfig = PPOConfig()
    checkpoint_every: int = 25  # updates between checkpoints
    keep_checkpoints: int = 2
    eval_episodes: int = 1024  # final deterministic evaluation after training

    def __post_init__(self):
        if self.checkpoint_every <= 0 or self.keep_checkpoints <= 0:
            raise ValueError("checkpoint_every and keep_checkpoints must be positive")
        if self.eval_episodes < 0:
            raise ValueError(f"eval_episodes must be >= 0, got {self.eval_episodes}")
