"""DQN hyperparameters as a frozen dataclass, checked up front."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class DQNConfig:
    hidden_sizes: tuple[int, ...] = (512, 512)  # shared ReLU trunk
    bins: int = 11  # per action dimension, evenly spaced over [low, high]
    learning_rate: float = 3e-4  # Adam
    max_grad_norm: float = 1.0
    tau: float = 0.005  # soft target update after every gradient step
    gamma: float = 0.99
    buffer_size: int = 100_000
    batch_size: int = 64
    eps_start: float = 1.0
    eps_decay: float = 0.995  # epsilon is multiplied by this once per finished episode
    eps_min: float = 0.01
    episodes: int = 1000  # the episode cap (steps per episode) belongs to the experiment
    num_envs: int = 1  # vmapped envs stepping together; episodes still count one by one
    learning_starts: int = 1_000  # transitions collected before the first update
    updates_per_step: int = 1  # gradient steps per vector env step
    n_step: int = 1  # TD targets over n rewards (cut at episode ends), then bootstrap
    reward_norm: bool = True  # divide rewards by the running std of the discounted return
    reward_scale: float = 1.0  # without reward_norm: a fixed factor on every reward
    obs_norm: bool = True  # running mean/std of observations in front of the network
    dueling: bool = False  # a shared state value plus per-head advantages (Tavakoli et al.)
    layer_norm: bool = False  # LayerNorm before each trunk ReLU
    # "branch": every head regresses on the shared target (Tavakoli et al.); "mean": the joint
    # Q is the mean of the chosen bins' values and that mean regresses on it (Seyde et al.'s DecQN)
    td_loss: str = "branch"
    # How a TD error is charged: "squared" (MSE), or "huber" (squared within 1 of the target,
    # linear beyond, as DQN's own loss), which keeps the few large errors at a fall's
    # cliff-edge from drowning the many small ones.
    td_error: str = "squared"
    # Advantage learning (Baird, 1999; Bellemare et al., 2016): the target is lowered by
    # action_gap times how far the taken action falls short of the greedy one in the target
    # critics' eyes, which widens the gap between the best bin and the rest so that noise in
    # the values stops flipping the greedy choice. 0: plain Q-learning.
    action_gap: float = 0.0
    double_q: bool = True  # pick next actions with the online net, value them with the target net
    # Independent Q networks; with 2 or more the TD target is the lowest critic's value of the
    # chosen next action (clipped double Q, Fujimoto et al., 2018) and acting uses their mean.
    critics: int = 1
    steps_per_call: int = 200  # vector env steps per jitted call (host logging granularity)
    # Host envs (env.physics="native", orient_jax.agents.dqn.host) only: the run's length in
    # env steps, per-env Ape-X exploration (env i of N: eps_start ** (1 + eps_alpha * i / (N - 1)),
    # in place of the per-episode decay) and a greedy validation every validate_every env steps.
    total_env_steps: int = 3_000_000
    eps_alpha: float = 7.0
    # What an exploring step does: "uniform" replaces the whole action with a random one;
    # "nudge" moves each dimension's greedy bin one step up or down with probability epsilon
    # (small, local changes, as Gaussian action noise makes in continuous control).
    explore: str = "uniform"
    # Host envs only: act, validate and save with a Polyak average of the online params
    # (rate policy_ema per gradient step) instead of the params themselves; 0: the params.
    policy_ema: float = 0.0
    validate_every: int = 100_000  # 0: never
    validate_episodes: int = 4

    def __post_init__(self):
        positive = (
            "bins", "buffer_size", "batch_size", "episodes", "num_envs", "critics",
            "updates_per_step", "steps_per_call", "n_step", "total_env_steps", "validate_episodes",
        )  # fmt: skip
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"dqn.{name} must be positive, got {getattr(self, name)}")
        if self.bins < 2:
            raise ValueError(f"dqn.bins must be >= 2 (both ends of the action range), got {self.bins}")
        if not self.hidden_sizes or any(h <= 0 for h in self.hidden_sizes):
            raise ValueError(f"dqn.hidden_sizes must be positive widths, got {self.hidden_sizes}")
        if self.learning_rate <= 0 or self.max_grad_norm <= 0:
            raise ValueError("dqn.learning_rate and dqn.max_grad_norm must be positive")
        if not 0 < self.tau <= 1 or not 0 <= self.gamma <= 1:
            raise ValueError(f"dqn.tau must be in (0, 1] and dqn.gamma in [0, 1], got {self.tau}, {self.gamma}")
        if not 0 <= self.eps_min <= self.eps_start <= 1 or not 0 < self.eps_decay <= 1:
            raise ValueError("dqn epsilon schedule needs 0 <= eps_min <= eps_start <= 1 and 0 < eps_decay <= 1")
        if self.td_loss not in ("branch", "mean"):
            raise ValueError(f"dqn.td_loss must be 'branch' or 'mean', got {self.td_loss!r}")
        if not 0 <= self.policy_ema < 1:
            raise ValueError(f"dqn.policy_ema must be in [0, 1), got {self.policy_ema}")
        if not 0 <= self.action_gap < 1:
            raise ValueError(f"dqn.action_gap must be in [0, 1), got {self.action_gap}")
        if self.td_error not in ("squared", "huber"):
            raise ValueError(f"dqn.td_error must be 'squared' or 'huber', got {self.td_error!r}")
        if self.explore not in ("uniform", "nudge"):
            raise ValueError(f"dqn.explore must be 'uniform' or 'nudge', got {self.explore!r}")
        if not self.reward_scale > 0:
            raise ValueError(f"dqn.reward_scale must be positive, got {self.reward_scale}")
        if self.eps_alpha < 0 or self.validate_every < 0:
            raise ValueError("dqn.eps_alpha and dqn.validate_every must be >= 0")
        if self.batch_size > self.buffer_size or self.learning_starts > self.buffer_size:
            raise ValueError("dqn.batch_size and dqn.learning_starts must not exceed dqn.buffer_size")
