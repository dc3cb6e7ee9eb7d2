"""PPO as a trainer (the shape every trainer has: ``orient_jax.core.trainer``), and the
state it carries.

``PPOTrainer.update`` is the whole hot loop: a ``lax.scan`` rollout over vmapped envs,
GAE, then ``lax.scan`` over epochs x minibatches. The host only calls it, logs, and
checkpoints (``orient_jax.agents.ppo.program`` and ``orient_jax.core.loop``).

PPO knows nothing of the task. Besides its own losses it reports, over the episodes
that ended in an update, the mean return, and the mean final value of each env metric
named in ``episode_metrics`` (e.g. a task's success flag), under the name given there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import optax
from brax.envs import base
from flax import struct
from jax.sharding import Mesh

from orient_jax.agents.normalization import RunningStats
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.agents.ppo.losses import LossWeights, Transition, compute_gae, ppo_loss
from orient_jax.agents.ppo.networks import Networks, Params, gaussian_log_prob, make_networks
from orient_jax.core import sharding
from orient_jax.core.trainer import Trainer


@struct.dataclass
class TrainState:
    params: Params
    opt_state: optax.OptState
    normalizer: RunningStats
    env_state: base.State  # batched [num_envs, ...], sharded over devices
    key: jax.Array
    update_step: jax.Array  # [] int32, updates completed


def make_optimizer(config: PPOConfig) -> optax.GradientTransformation:
    lr = (
        optax.linear_schedule(
            config.learning_rate, 0.0, config.num_updates * config.update_epochs * config.num_minibatches
        )
        if config.anneal_lr
        else config.learning_rate
    )
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(lr, eps=1e-5))


@dataclasses.dataclass(frozen=True)
class PPOTrainer(Trainer):
    """PPO on one (wrapped, batched) env with one config: ``init(key)`` and ``update(state)``."""

    env: base.Env  # already wrapped: auto-reset + vmap over ``num_envs``
    config: PPOConfig
    mesh: Mesh
    networks: Networks
    optimizer: optax.GradientTransformation
    # (env metric, reported name): env metrics whose value at an episode's last step is
    # averaged over the episodes that ended in an update
    episode_metrics: tuple[tuple[str, str], ...] = ()

    def _init(self, key: jax.Array) -> TrainState:
        key_params, key_env, key_train = jax.random.split(key, 3)
        params = self.networks.init(key_params)
        env_keys = jax.random.split(key_env, self.config.num_envs)
        env_state = sharding.constrain(self.env.reset(env_keys), sharding.env_sharding(self.mesh))
        return TrainState(
            params=params,
            opt_state=self.optimizer.init(params),
            normalizer=RunningStats.create(self.networks.obs_size),
            env_state=env_state,
            key=key_train,
            update_step=jnp.zeros((), jnp.int32),
        )

    def _rollout(self, state: TrainState, key: jax.Array):
        """``rollout_length`` steps of every env. Returns (env_state, Transition [T,B], raw obs
        [T,B,obs], the env metrics that describe the episodes ending at each step {name: [T,B]})."""
        net, params, norm = self.networks, state.params, state.normalizer
        env_shard = sharding.env_sharding(self.mesh)

        def step(env_state, key):
            raw_obs = env_state.obs
            obs = norm.normalize(raw_obs)
            mean = net.mean_action(params, obs)
            action = mean + jnp.exp(params.log_std) * jax.random.normal(key, mean.shape)
            value = net.value(params, obs)
            nxt = sharding.constrain(self.env.step(env_state, jnp.clip(action, -1.0, 1.0)), env_shard)
            terminated = nxt.done * (1.0 - nxt.info["truncation"])
            next_value = (1.0 - terminated) * net.value(params, norm.normalize(nxt.info["final_obs"]))
            transition = Transition(
                obs=obs,
                action=action,
                log_prob=gaussian_log_prob(action, mean, params.log_std),
                value=value,
                reward=nxt.reward,
                done=nxt.done,
                next_value=next_value,
            )
            ended = {"episode_return": nxt.metrics["episode_return"]}
            ended.update({name: nxt.metrics[metric] for metric, name in self.episode_metrics})
            return nxt, (transition, raw_obs, ended)

        keys = jax.random.split(key, self.config.rollout_length)
        env_state, (traj, raw_obs, ended) = jax.lax.scan(step, state.env_state, keys)
        return env_state, traj, raw_obs, ended

    def _update(self, state: TrainState) -> tuple[TrainState, dict[str, jax.Array]]:
        c = self.config
        key, key_rollout, key_sgd = jax.random.split(state.key, 3)
        env_state, traj, raw_obs, ended = self._rollout(state, key_rollout)
        advantages, returns = compute_gae(
            traj.reward * c.reward_scale, traj.value, traj.next_value, traj.done, c.gamma, c.gae_lambda
        )
        weights = LossWeights(c.clip_eps, c.vf_coef, c.ent_coef)
        grad_fn = jax.grad(ppo_loss, has_aux=True)

        def minibatch_step(carry, batch):
            params, opt_state = carry
            transitions, adv, ret = batch
            grads, metrics = grad_fn(params, self.networks, transitions, adv, ret, weights, c.normalize_advantages)
            updates, opt_state = self.optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), metrics

        def epoch(carry, key):
            perm = jax.random.permutation(key, c.batch_size)

            def shuffle(x):
                x = x.reshape((c.batch_size, *x.shape[2:]))[perm]
                return x.reshape((c.num_minibatches, c.minibatch_size, *x.shape[1:]))

            batches = jax.tree.map(shuffle, (traj, advantages, returns))
            return jax.lax.scan(minibatch_step, carry, batches)

        epoch_keys = jax.random.split(key_sgd, c.update_epochs)
        (params, opt_state), sgd_metrics = jax.lax.scan(epoch, (state.params, state.opt_state), epoch_keys)

        episodes = traj.done.sum()
        metrics = {k: v.mean() for k, v in sgd_metrics.items()}
        metrics.update(reward=traj.reward.mean(), episodes=episodes, action_std=jnp.exp(params.log_std).mean())
        metrics.update({name: jnp.sum(v * traj.done) / jnp.maximum(episodes, 1.0) for name, v in ended.items()})
        new_state = TrainState(
            params=params,
            opt_state=opt_state,
            normalizer=state.normalizer.update(raw_obs),
            env_state=env_state,
            key=key,
            update_step=state.update_step + 1,
        )
        return new_state, metrics


def make_trainer(
    env: base.Env, config: PPOConfig, mesh: Mesh | None = None, episode_metrics: Mapping[str, str] | None = None
) -> PPOTrainer:
    """``env`` must already be wrapped for training (auto-reset, vmapped). ``episode_metrics``
    maps env metric names to the names their episode-end means are reported under."""
    optimizer = make_optimizer(config)
    mesh = mesh if mesh is not None else sharding.make_mesh()
    sharding.check_divisible(config.num_envs, mesh)
    obs_size = env.observation_size
    if not isinstance(obs_size, int):
        raise TypeError(f"PPO needs a flat observation, got {obs_size}")
    networks = make_networks(obs_size, env.action_size, config.hidden_sizes, config.init_log_std)
    return PPOTrainer(
        env=env,
        config=config,
        mesh=mesh,
        networks=networks,
        optimizer=optimizer,
        episode_metrics=tuple((episode_metrics or {}).items()),
    )
