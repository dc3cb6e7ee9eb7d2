"""Branching DQN as a trainer (the shape every trainer has: ``orient_jax.core.trainer``).

One ``DQNTrainer.update`` call runs ``steps_per_call`` env steps. Each step, inside a
``lax.scan``: act epsilon-greedily in every vmapped env, store the transitions in the
device replay buffer, and take ``updates_per_step`` gradient steps (once
``learning_starts`` transitions are in). The host only calls it, logs finished
episodes and checkpoints (``orient_jax.agents.dqn.program``).

Episodes count one by one, whichever env finishes them; epsilon decays once per
finished episode. When the target episode count is reached the remaining steps of
the call do nothing, so a run is exactly ``episodes`` long.

The TD target follows the branching paper: each head's greedy next value (double
DQN: chosen by the online net, valued by the target net) is averaged over heads
into one target. With ``td_loss="branch"`` every head regresses on it with MSE
(Tavakoli et al., 2018); with ``td_loss="mean"`` the joint value, the mean of the
heads' chosen bins, does (Seyde et al., 2022, DecQN), so a TD error is shared out
over the heads instead of charged to each in full. Time-limit truncation
bootstraps from the true last observation; only a fall ends the return.

With ``n_step > 1`` the target sums up to n discounted rewards before bootstrapping.
The buffer is written in time order (every env adds one row per step, env by env),
so the row ``k`` steps after slot i of the same env is ``i + k * num_envs``; the sum
stops at the episode's end and at the newest row.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import optax
from brax.envs import base
from flax import struct

from orient_jax.agents.dqn.config import DQNConfig
from orient_jax.agents.dqn.networks import QNetwork
from orient_jax.agents.dqn.replay import ReplayBuffer
from orient_jax.agents.normalization import RunningStats
from orient_jax.core.trainer import Trainer


@struct.dataclass
class DQNState:
    params: dict
    target_params: dict
    opt_state: optax.OptState
    buffer: ReplayBuffer
    obs_stats: RunningStats  # [obs]
    return_stats: RunningStats  # [1]: discounted returns, for reward scaling
    discounted_return: jax.Array  # [envs]
    curve: jax.Array  # [envs, episode_steps]: cumulative reward of the running episode
    env_state: base.State  # batched [envs, ...]
    key: jax.Array
    env_steps: jax.Array  # [] int32, transitions collected
    episodes: jax.Array  # [] int32, episodes finished
    grad_steps: jax.Array  # [] int32


def epsilon(config: DQNConfig, episodes_done: jax.Array) -> jax.Array:
    return jnp.maximum(config.eps_min, config.eps_start * config.eps_decay ** episodes_done.astype(jnp.float32))


def make_optimizer(config: DQNConfig) -> optax.GradientTransformation:
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(config.learning_rate))


@dataclasses.dataclass(frozen=True)
class QLearning:
    """The learning half of branching DQN, shared by the trainer that steps its envs in JAX
    (``DQNTrainer``) and the one that steps them on the host (``orient_jax.agents.dqn.host``):
    n-step batches from the replay buffer, the TD loss and the gradient steps."""

    config: DQNConfig
    network: QNetwork
    optimizer: optax.GradientTransformation

    def _normalize(self, stats: RunningStats, obs: jax.Array) -> jax.Array:
        # Without obs_norm the statistics stay at mean 0, variance 1: only the +-10 clip acts,
        # exactly as in the saved greedy policy.
        return stats.normalize(obs)

    def sample(self, buffer: ReplayBuffer, key: jax.Array) -> dict:
        """A batch of n-step transitions: obs, action, return (unscaled), bootstrap obs and
        its discount ``gamma^m`` (0 if the episode fell within the m steps summed)."""
        return self.n_step_transitions(buffer, buffer.sample_indices(key, self.config.batch_size))

    def n_step_transitions(self, buffer: ReplayBuffer, idx: jax.Array) -> dict:
        c = self.config
        first = jax.tree.map(lambda b: b[idx], buffer.data)
        ahead = buffer.written_after(idx)
        ret, discount = jnp.zeros(idx.shape), jnp.ones(idx.shape)
        next_obs, alive = first["next_obs"], jnp.ones(idx.shape, bool)
        for k in range(c.n_step):
            slot = (idx + k * c.num_envs) % buffer.capacity
            row = jax.tree.map(lambda b, slot=slot: b[slot], buffer.data)
            use = alive & (k * c.num_envs <= ahead)
            ret = ret + jnp.where(use, discount * row["reward"], 0.0)
            discount = jnp.where(use, discount * c.gamma * (1.0 - row["terminated"]), discount)
            next_obs = jnp.where(use[:, None], row["next_obs"], next_obs)
            alive = use & (row["done"] == 0)
        return {
            "obs": first["obs"],
            "action": first["action"],
            "return": ret,
            "next_obs": next_obs,
            "discount": discount,
        }

    def td_target(self, params: dict, target_params: dict, batch: dict, reward_scale: jax.Array, stats: RunningStats):
        """The n-step TD target [B]. The next action takes every head's arg-max (of the online
        critics' mean with double Q, else of the target critics' mean); its value is the joint
        value, the heads' mean, of the lowest target critic (of the only one, with one). With
        ``action_gap`` the target is lowered by that fraction of the taken action's shortfall
        from the greedy one at the first state (heads' mean of the target critics' mean)."""
        c, net = self.config, self.network
        next_obs = self._normalize(stats, batch["next_obs"])
        q_next_target = net.ensemble(target_params, next_obs)  # [critics, B, act, bins]
        chooser = net.q_values(params, next_obs) if c.double_q else q_next_target.mean(axis=0)
        next_bins = jnp.argmax(chooser, axis=-1)  # [B, act]
        chosen = jnp.take_along_axis(q_next_target, next_bins[None, ..., None], axis=-1)[..., 0]
        next_value = chosen.mean(axis=-1).min(axis=0)
        target = batch["return"] * reward_scale + batch["discount"] * next_value
        if c.action_gap:  # advantage learning: charge the taken action its shortfall from the greedy one
            q_now = net.ensemble(target_params, self._normalize(stats, batch["obs"])).mean(axis=0)  # [B, act, bins]
            taken = jnp.take_along_axis(q_now, batch["action"][..., None], axis=-1)[..., 0]
            target = target - c.action_gap * (q_now.max(axis=-1) - taken).mean(axis=-1)
        return jax.lax.stop_gradient(target)

    def loss(self, params: dict, target_params: dict, batch: dict, reward_scale: jax.Array, stats: RunningStats):
        """Branching double-DQN loss (MSE, or Huber) on a batch from ``sample``; every critic
        regresses on the one target."""
        target = self.td_target(params, target_params, batch, reward_scale, stats)
        q = self.network.ensemble(params, self._normalize(stats, batch["obs"]))  # [critics, B, act, bins]
        q_taken = jnp.take_along_axis(q, batch["action"][None, ..., None], axis=-1)[..., 0]  # [critics, B, act]
        charge = jnp.square if self.config.td_error == "squared" else lambda e: optax.huber_loss(e, delta=1.0)
        if self.config.td_loss == "mean":  # one joint value, the mean over heads
            loss = jnp.mean(charge(q_taken.mean(axis=-1) - target))
        else:  # every head on its own
            loss = jnp.mean(charge(q_taken - target[:, None]))
        return loss, {"loss": loss, "q": q_taken.mean()}

    def _learn(self, state, key: jax.Array, updates: int):
        """``updates`` gradient steps on batches from ``state.buffer``; ``state`` is any state
        with this module's learner fields (params, target_params, opt_state, buffer,
        obs_stats, return_stats, grad_steps)."""
        c = self.config
        scale = jax.lax.rsqrt(state.return_stats.var[0] + 1e-8) if c.reward_norm else jnp.asarray(c.reward_scale)

        def one(carry, key):
            params, target, opt_state = carry
            batch = self.sample(state.buffer, key)
            grads, metrics = jax.grad(self.loss, has_aux=True)(params, target, batch, scale, state.obs_stats)
            updates, opt_state = self.optimizer.update(grads, opt_state, params)
            params = optax.apply_updates(params, updates)
            target = optax.incremental_update(params, target, c.tau)
            return (params, target, opt_state), metrics

        keys = jax.random.split(key, updates)
        (params, target, opt_state), metrics = jax.lax.scan(
            one, (state.params, state.target_params, state.opt_state), keys
        )
        state = state.replace(
            params=params,
            target_params=target,
            opt_state=opt_state,
            grad_steps=state.grad_steps + updates,
        )
        return state, {k: v.mean() for k, v in metrics.items()}


@dataclasses.dataclass(frozen=True)
class DQNTrainer(QLearning, Trainer):
    """Branching DQN on one (wrapped, batched) env with one config: ``init(key)`` and
    ``update(state) -> (state, per-step outputs [steps_per_call, envs])``."""

    env: base.Env  # wrapped: EpisodeAutoReset, then vmap over ``num_envs``
    episode_steps: int  # the auto-reset wrapper's time limit

    # -- pieces -----------------------------------------------------------------------
    def _init(self, key: jax.Array) -> DQNState:
        c, net = self.config, self.network
        key_params, key_env, key_train = jax.random.split(key, 3)
        params = net.init(key_params)
        example = {
            "obs": jnp.zeros(net.obs_size),
            "action": jnp.zeros(net.action_size, jnp.int32),
            "reward": jnp.zeros(()),
            "next_obs": jnp.zeros(net.obs_size),
            "terminated": jnp.zeros(()),
            "done": jnp.zeros(()),  # the episode ended here (fall or time limit)
        }
        return DQNState(
            params=params,
            target_params=params,
            opt_state=self.optimizer.init(params),
            buffer=ReplayBuffer.create(c.buffer_size, example),
            obs_stats=RunningStats.create(net.obs_size),
            return_stats=RunningStats.create(1),
            discounted_return=jnp.zeros(c.num_envs),
            curve=jnp.zeros((c.num_envs, self.episode_steps)),
            env_state=self.env.reset(jax.random.split(key_env, c.num_envs)),
            key=key_train,
            env_steps=jnp.zeros((), jnp.int32),
            episodes=jnp.zeros((), jnp.int32),
            grad_steps=jnp.zeros((), jnp.int32),
        )

    def _act(self, state: DQNState, key: jax.Array) -> jax.Array:
        """Epsilon-greedy bins [envs, act]: with probability epsilon a uniformly random action."""
        net = self.network
        key_explore, key_random = jax.random.split(key)
        q = net.q_values(state.params, self._normalize(state.obs_stats, state.env_state.obs))
        greedy = jnp.argmax(q, axis=-1).astype(jnp.int32)
        random = jax.random.randint(key_random, greedy.shape, 0, net.bins)
        explore = jax.random.uniform(key_explore, greedy.shape[:1]) < epsilon(self.config, state.episodes)
        return jnp.where(explore[:, None], random, greedy)

    def _step(self, state: DQNState, key: jax.Array) -> tuple[DQNState, dict]:
        c, net = self.config, self.network
        key_act, key_learn = jax.random.split(key)
        env_state = state.env_state
        bins = self._act(state, key_act)
        nxt = self.env.step(env_state, net.to_action(bins))
        terminated = nxt.done * (1.0 - nxt.info["truncation"])
        transitions = {
            "obs": env_state.obs,
            "action": bins,
            "reward": nxt.reward,
            "next_obs": nxt.info["final_obs"],
            "terminated": terminated,
            "done": nxt.done,
        }
        discounted = state.discounted_return * c.gamma + nxt.reward
        step_index = env_state.info["steps"]  # steps already taken in this episode
        cumulative = nxt.metrics["episode_return"]
        curve = state.curve.at[jnp.arange(c.num_envs), step_index].set(cumulative)
        done = nxt.done > 0
        state = state.replace(
            buffer=state.buffer.add(transitions),
            obs_stats=state.obs_stats.update(env_state.obs) if c.obs_norm else state.obs_stats,
            return_stats=state.return_stats.update(discounted[:, None]),
            discounted_return=jnp.where(done, 0.0, discounted),
            curve=jnp.where(done[:, None], 0.0, curve),
            env_state=nxt,
            env_steps=state.env_steps + c.num_envs,
            episodes=state.episodes + done.sum(dtype=jnp.int32),
        )
        ready = state.buffer.size >= jnp.maximum(c.learning_starts, c.batch_size)
        no_metrics = {"loss": jnp.full((), jnp.nan), "q": jnp.full((), jnp.nan)}
        state, metrics = jax.lax.cond(
            ready, lambda s: self._learn(s, key_learn, c.updates_per_step), lambda s: (s, no_metrics), state
        )
        out = {
            "done": done,
            "episode_return": cumulative,
            "length": step_index + 1,
            "curve": jnp.where(done[:, None], curve, jnp.nan),
            "loss": jnp.broadcast_to(metrics["loss"], done.shape),
            "q": jnp.broadcast_to(metrics["q"], done.shape),
            "live": jnp.ones_like(done),
        }
        return state, out

    def _update(self, state: DQNState) -> tuple[DQNState, dict]:
        """``steps_per_call`` env steps; the idle steps after the last episode do nothing."""
        c = self.config

        def body(state, _):
            key, step_key = jax.random.split(state.key)
            state = state.replace(key=key)
            live = state.episodes < c.episodes
            return jax.lax.cond(live, self._step, self._idle, state, step_key)

        return jax.lax.scan(body, state, None, length=c.steps_per_call)

    def _idle(self, state: DQNState, key: jax.Array) -> tuple[DQNState, dict]:
        n, t = self.config.num_envs, self.episode_steps
        false = jnp.zeros(n, bool)
        out = {
            "done": false,
            "episode_return": jnp.zeros(n),
            "length": jnp.zeros(n, jnp.int32),
            "curve": jnp.full((n, t), jnp.nan),
            "loss": jnp.full(n, jnp.nan),
            "q": jnp.full(n, jnp.nan),
            "live": false,
        }
        return state, out


def make_trainer(env: base.Env, config: DQNConfig, network: QNetwork, episode_steps: int) -> DQNTrainer:
    """``env`` must already be wrapped (auto-reset after ``episode_steps``, vmapped)."""
    return DQNTrainer(config, network, make_optimizer(config), env=env, episode_steps=episode_steps)
