"""PPO hyperparameters as a frozen dataclass, checked up front."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    num_envs: int = 1024
    rollout_length: int = 32  # env steps per env per update
    num_minibatches: int = 8
    update_epochs: int = 4
    learning_rate: float = 3e-4
    anneal_lr: bool = True  # linear decay to zero over the run
    reward_scale: float = 0.1  # rewards are multiplied by this before GAE
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    vf_coef: float = 0.5
    ent_coef: float = 0.0
    max_grad_norm: float = 0.5  # clip by the global norm of all gradients
    hidden_sizes: tuple[int, ...] = (128, 128)
    init_log_std: float = -0.5
    normalize_advantages: bool = True
    total_env_steps: int = 10_000_000

    def __post_init__(self):
        positive = ("num_envs", "rollout_length", "num_minibatches", "update_epochs", "total_env_steps")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"ppo.{name} must be positive, got {getattr(self, name)}")
        if self.batch_size % self.num_minibatches:
            raise ValueError(
                f"ppo batch (num_envs * rollout_length = {self.num_envs} * {self.rollout_length} "
                f"= {self.batch_size}) is not divisible by ppo.num_minibatches={self.num_minibatches}"
            )
        if not 0 <= self.gamma <= 1 or not 0 <= self.gae_lambda <= 1:
            raise ValueError("ppo.gamma and ppo.gae_lambda must be in [0, 1]")
        if self.reward_scale <= 0:
            raise ValueError(f"ppo.reward_scale must be positive, got {self.reward_scale}")
        if self.learning_rate <= 0 or self.clip_eps <= 0 or self.max_grad_norm <= 0:
            raise ValueError("ppo.learning_rate, ppo.clip_eps and ppo.max_grad_norm must be positive")
        if not self.hidden_sizes or any(h <= 0 for h in self.hidden_sizes):
            raise ValueError(f"ppo.hidden_sizes must be positive widths, got {self.hidden_sizes}")
        if self.num_updates < 1:
            raise ValueError(
                f"ppo.total_env_steps={self.total_env_steps} is less than one update ({self.batch_size} env steps)"
            )

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.rollout_length

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.num_minibatches

    @property
    def num_updates(self) -> int:
        return self.total_env_steps // self.batch_size
