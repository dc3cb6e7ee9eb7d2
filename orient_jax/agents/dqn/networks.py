"""The branching Q network and the map between bins and continuous actions.

A shared ReLU trunk feeds one linear head per action dimension; head ``d`` scores
the ``bins`` evenly spaced values of dimension ``d``. The greedy action takes the
arg-max of every head independently, so the output layer grows linearly with the
number of dimensions instead of exponentially (Tavakoli et al., 2018).

With ``critics > 1`` the network is an ensemble of independent branching networks whose
params are stacked on a leading axis. Acting uses their mean; the TD target takes the
lowest critic's value (clipped double Q, Fujimoto et al., 2018), which holds back the
overestimation that a max over 17 heads of noisy values builds up.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import struct

from orient_jax.agents.normalization import RunningStats


class BranchingQ(nn.Module):
    hidden_sizes: Sequence[int]
    action_size: int
    bins: int
    dueling: bool = False
    layer_norm: bool = False

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        """[..., obs] -> Q values [..., action_size, bins]."""
        x = obs
        for h in self.hidden_sizes:
            x = nn.Dense(h)(x)
            x = nn.relu(nn.LayerNorm()(x) if self.layer_norm else x)
        q = nn.Dense(self.action_size * self.bins)(x)
        q = q.reshape((*q.shape[:-1], self.action_size, self.bins))
        if self.dueling:  # one state value shared by all heads, plus each head's centred advantages
            value = nn.Dense(1)(x)[..., None]
            q = value + q - q.mean(axis=-1, keepdims=True)
        return q


@struct.dataclass
class QNetwork:
    obs_size: int = struct.field(pytree_node=False)
    action_size: int = struct.field(pytree_node=False)
    hidden_sizes: tuple[int, ...] = struct.field(pytree_node=False)
    bins: int = struct.field(pytree_node=False)
    low: float = struct.field(pytree_node=False)
    high: float = struct.field(pytree_node=False)
    dueling: bool = struct.field(pytree_node=False, default=False)
    layer_norm: bool = struct.field(pytree_node=False, default=False)
    critics: int = struct.field(pytree_node=False, default=1)

    @property
    def module(self) -> BranchingQ:
        return BranchingQ(self.hidden_sizes, self.action_size, self.bins, self.dueling, self.layer_norm)

    def init(self, key: jax.Array) -> dict:
        example = jnp.zeros((1, self.obs_size))
        if self.critics == 1:  # the layout every single-critic policy was saved in
            return self.module.init(key, example)
        return jax.vmap(lambda k: self.module.init(k, example))(jax.random.split(key, self.critics))

    def ensemble(self, params: dict, obs: jax.Array) -> jax.Array:
        """Every critic's Q values [critics, ..., action_size, bins]."""
        if self.critics == 1:
            return self.module.apply(params, obs)[None]
        # A loop of plain layers rather than a vmap: the exported graph stays dense layers only.
        critic = lambda k: jax.tree.map(lambda p: p[k], params)  # noqa: E731
        return jnp.stack([self.module.apply(critic(k), obs) for k in range(self.critics)])

    def q_values(self, params: dict, obs: jax.Array) -> jax.Array:
        """The Q values acting uses [..., action_size, bins]: the critics' mean."""
        if self.critics == 1:
            return self.module.apply(params, obs)
        return self.ensemble(params, obs).mean(axis=0)

    def to_action(self, bins: jax.Array) -> jax.Array:
        """Integer bins [..., act] -> continuous actions in [low, high]."""
        return self.low + bins.astype(jnp.float32) * ((self.high - self.low) / (self.bins - 1))

    def to_bins(self, action: jax.Array) -> jax.Array:
        """Continuous actions -> the nearest bins (clipped to the range)."""
        step = (self.high - self.low) / (self.bins - 1)
        return jnp.clip(jnp.round((action - self.low) / step), 0, self.bins - 1).astype(jnp.int32)

    def greedy(self, params: dict, normalizer: RunningStats, raw_obs: jax.Array) -> jax.Array:
        """Deterministic policy: raw observations [..., obs] -> continuous actions [..., act]."""
        q = self.q_values(params, normalizer.normalize(raw_obs))
        return self.to_action(jnp.argmax(q, axis=-1))

    def kwargs(self) -> dict:
        return {
            "obs_size": self.obs_size,
            "action_size": self.action_size,
            "hidden_sizes": list(self.hidden_sizes),
            "bins": self.bins,
            "low": self.low,
            "high": self.high,
            "dueling": self.dueling,
            "layer_norm": self.layer_norm,
            "critics": self.critics,
        }


def make_q_network(
    obs_size: int,
    action_size: int,
    hidden_sizes: Sequence[int],
    bins: int,
    low: float,
    high: float,
    dueling: bool = False,
    layer_norm: bool = False,
    critics: int = 1,
) -> QNetwork:
    hidden = tuple(int(h) for h in hidden_sizes)
    return QNetwork(
        int(obs_size),
        int(action_size),
        hidden,
        int(bins),
        float(low),
        float(high),
        bool(dueling),
        bool(layer_norm),
        int(critics),
    )
