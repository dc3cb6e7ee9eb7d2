"""Train the re-orientation env with ``brax.training``'s PPO, for comparison.

Our PPOConfig is mapped onto Brax's argument names so the two trainers see the same
env, batch and hyperparameters. The env goes through our ``EpisodeAutoReset`` (via
``wrap_env_fn``): Brax's own auto-reset would replay each env's first start forever.
"""

from __future__ import annotations

import contextlib
import functools
import time

import jax
import numpy as np
from brax.training.agents.ppo import networks as brax_ppo_networks
from brax.training.agents.ppo import train as brax_ppo

from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.envs.wrappers import wrap_for_training
from orient_jax.profiles.spec import TaskSpec
from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig


def _wrap(env, episode_length, action_repeat=1, randomization_fn=None):
    if action_repeat != 1 or randomization_fn is not None:
        raise ValueError("the rotation env supports action_repeat=1 and no Brax randomization_fn")
    return wrap_for_training(env, episode_length)


def brax_kwargs(config: PPOConfig, spec: TaskSpec) -> dict:
    """Brax PPO arguments equivalent to ``config`` on the task ``spec``."""
    return {
        "num_timesteps": config.total_env_steps,
        "num_envs": config.num_envs,
        "episode_length": spec.episode_steps,
        "unroll_length": config.rollout_length,
        "batch_size": config.num_envs // config.num_minibatches,
        "num_minibatches": config.num_minibatches,
        "num_updates_per_batch": config.update_epochs,
        "learning_rate": config.learning_rate,
        "discounting": config.gamma,
        "gae_lambda": config.gae_lambda,
        "clipping_epsilon": config.clip_eps,
        "entropy_cost": config.ent_coef,
        "vf_loss_coefficient": config.vf_coef,
        "max_grad_norm": config.max_grad_norm,
        "reward_scaling": config.reward_scale,
        "normalize_observations": True,
        "bootstrap_on_timeout": False,  # Brax then masks truncated steps out of GAE instead
        "network_factory": functools.partial(
            brax_ppo_networks.make_ppo_networks,
            policy_hidden_layer_sizes=config.hidden_sizes,
            value_hidden_layer_sizes=config.hidden_sizes,
        ),
    }


def _device_put_replicated(x, devices):
    """Public-API replacement for ``jax.device_put_replicated`` (removed in JAX 0.10):
    one copy of ``x`` per device, laid out exactly as ``jax.pmap`` outputs are, so that
    Brax's pmapped training step sees the same input layout on every call."""
    return jax.pmap(lambda _: x, devices=devices)(np.arange(len(devices)))


@contextlib.contextmanager
def _brax_jax_compat():
    """brax 0.14.2 (the newest) still calls jax.device_put_replicated, which JAX 0.10.2
    removed; provide the documented drop-in replacement while Brax runs."""
    missing = "device_put_replicated" not in vars(jax)
    if missing:
        jax.device_put_replicated = _device_put_replicated
    try:
        yield
    finally:
        if missing:
            del jax.device_put_replicated


def train(
    spec: TaskSpec,
    env_config: RotationEnvConfig,
    config: PPOConfig,
    seed: int = 0,
    num_evals: int = 1,
    num_eval_envs: int = 128,
    **callbacks,
):
    """Run Brax PPO. ``callbacks``: Brax's ``progress_fn`` / ``policy_params_fn``.
    Returns (make_policy, params, metrics, wall seconds)."""
    if config.num_envs % config.num_minibatches:
        raise ValueError("brax PPO needs num_envs divisible by num_minibatches")
    start = time.perf_counter()
    with _brax_jax_compat():
        make_policy, params, metrics = brax_ppo.train(
            environment=RotationEnv(spec, env_config),
            wrap_env_fn=_wrap,
            seed=seed,
            num_evals=num_evals,
            num_eval_envs=num_eval_envs,
            deterministic_eval=True,
            **callbacks,
            **brax_kwargs(config, spec),
        )
    return make_policy, params, metrics, time.perf_counter() - start
