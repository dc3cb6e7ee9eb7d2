"""Actor-critic networks and the policy distribution.

The policy is a diagonal Gaussian whose mean is ``tanh(actor(obs))``, so the mean
(the deterministic, exported action) always lies in [-1, 1]. Samples may leave that
box; the env clips them. The standard deviation is a state-independent parameter.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import struct

from orient_jax.agents.normalization import RunningStats


class MLP(nn.Module):
    hidden_sizes: Sequence[int]
    out_size: int
    out_scale: float = 1.0

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for h in self.hidden_sizes:
            x = nn.tanh(nn.Dense(h, kernel_init=nn.initializers.orthogonal(math.sqrt(2)))(x))
        return nn.Dense(self.out_size, kernel_init=nn.initializers.orthogonal(self.out_scale))(x)


@struct.dataclass
class Params:
    actor: dict
    critic: dict
    log_std: jax.Array  # [act]


@struct.dataclass
class Networks:
    """Pure functions over ``Params``; built by ``make_networks``."""

    obs_size: int = struct.field(pytree_node=False)
    action_size: int = struct.field(pytree_node=False)
    hidden_sizes: tuple[int, ...] = struct.field(pytree_node=False)
    init_log_std: float = struct.field(pytree_node=False)

    @property
    def actor(self) -> MLP:
        return MLP(self.hidden_sizes, self.action_size, out_scale=0.01)

    @property
    def critic(self) -> MLP:
        return MLP(self.hidden_sizes, 1, out_scale=1.0)

    def init(self, key: jax.Array) -> Params:
        key_actor, key_critic = jax.random.split(key)
        dummy = jnp.zeros((1, self.obs_size))
        return Params(
            actor=self.actor.init(key_actor, dummy),
            critic=self.critic.init(key_critic, dummy),
            log_std=jnp.full((self.action_size,), self.init_log_std, jnp.float32),
        )

    def mean_action(self, params: Params, obs: jax.Array) -> jax.Array:
        """Deterministic action [..., act] in [-1, 1] from normalized obs."""
        return jnp.tanh(self.actor.apply(params.actor, obs))

    def value(self, params: Params, obs: jax.Array) -> jax.Array:
        return self.critic.apply(params.critic, obs)[..., 0]

    def kwargs(self) -> dict:
        return {
            "obs_size": self.obs_size,
            "action_size": self.action_size,
            "hidden_sizes": list(self.hidden_sizes),
            "init_log_std": self.init_log_std,
        }


def make_networks(obs_size: int, action_size: int, hidden_sizes: Sequence[int], init_log_std: float) -> Networks:
    return Networks(obs_size, action_size, tuple(int(h) for h in hidden_sizes), float(init_log_std))


def gaussian_log_prob(x: jax.Array, mean: jax.Array, log_std: jax.Array) -> jax.Array:
    """Sum over the last axis of the diagonal Gaussian log density."""
    z = (x - mean) * jnp.exp(-log_std)
    return jnp.sum(-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi), axis=-1)


def gaussian_entropy(log_std: jax.Array) -> jax.Array:
    return jnp.sum(log_std + 0.5 * math.log(2 * math.pi * math.e), axis=-1)


@struct.dataclass
class PolicyParams:
    params: Params
    normalizer: RunningStats


@functools.lru_cache(maxsize=16)
def policy_apply(networks: Networks) -> Callable[[PolicyParams, jax.Array], jax.Array]:
    """``apply(PolicyParams, raw obs) -> action``; one function object per network shape,
    so jitted callers compile once however often the params change."""

    def apply(p: PolicyParams, obs: jax.Array) -> jax.Array:
        return networks.mean_action(p.params, p.normalizer.normalize(obs))

    return apply


def make_policy(networks: Networks, params: Params, normalizer: RunningStats) -> Callable[[jax.Array], jax.Array]:
    """Deterministic policy on raw observations [..., obs] -> actions [..., act]."""

    def policy(obs: jax.Array) -> jax.Array:
        return networks.mean_action(params, normalizer.normalize(obs))

    return policy
