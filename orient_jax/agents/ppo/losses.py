"""GAE and the clipped PPO objective: pure functions, tested against hand values."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from orient_jax.agents.ppo.networks import Networks, Params, gaussian_entropy, gaussian_log_prob


@struct.dataclass
class Transition:
    """One rollout step for a batch of envs; leaves are [B, ...] (or [T, B, ...])."""

    obs: jax.Array  # normalized observation the action was taken on
    action: jax.Array  # unclipped sample
    log_prob: jax.Array
    value: jax.Array  # V(obs)
    reward: jax.Array
    done: jax.Array  # episode ended after this step (termination or truncation)
    next_value: jax.Array  # (1 - terminated) * V(true next obs): bootstraps truncations


def compute_gae(
    rewards: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    dones: jax.Array,
    gamma: float,
    gae_lambda: float,
) -> tuple[jax.Array, jax.Array]:
    """Generalized advantage estimation over [T, B] arrays.

    ``next_values[t]`` is the value of the state after step t, already zero where the
    episode terminated, and the value of the pre-reset state where it was truncated.
    ``dones[t]`` stops the advantage from flowing across an episode boundary.
    Returns (advantages, returns), both [T, B].
    """
    deltas = rewards + gamma * next_values - values

    def backward(carry, x):
        delta, done = x
        adv = delta + gamma * gae_lambda * (1.0 - done) * carry
        return adv, adv

    _, advantages = jax.lax.scan(backward, jnp.zeros_like(deltas[0]), (deltas, dones), reverse=True)
    return advantages, advantages + values


@struct.dataclass
class LossWeights:
    clip_eps: float
    vf_coef: float
    ent_coef: float


def ppo_loss(
    params: Params,
    networks: Networks,
    batch: Transition,
    advantages: jax.Array,
    returns: jax.Array,
    weights: LossWeights,
    normalize_advantages: bool = True,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    mean = networks.mean_action(params, batch.obs)
    log_prob = gaussian_log_prob(batch.action, mean, params.log_std)
    ratio = jnp.exp(log_prob - batch.log_prob)
    if normalize_advantages:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    clipped = jnp.clip(ratio, 1.0 - weights.clip_eps, 1.0 + weights.clip_eps)
    policy_loss = -jnp.mean(jnp.minimum(ratio * advantages, clipped * advantages))
    value = networks.value(params, batch.obs)
    value_loss = 0.5 * jnp.mean((value - returns) ** 2)
    entropy = gaussian_entropy(params.log_std)
    total = policy_loss + weights.vf_coef * value_loss - weights.ent_coef * entropy
    metrics = {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "entropy": entropy,
        "approx_kl": jnp.mean((ratio - 1.0) - jnp.log(ratio)),
        "clip_fraction": jnp.mean(jnp.abs(ratio - 1.0) > weights.clip_eps),
    }
    return total, metrics
