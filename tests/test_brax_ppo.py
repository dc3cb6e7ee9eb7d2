"""The env trains with brax.training's PPO as well as ours."""

import math

import jax
import jax.numpy as jnp
import pytest

from orient_jax import profiles
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.tasks.rotation import brax_ppo
from orient_jax.tasks.rotation.env import RotationEnvConfig

pytestmark = pytest.mark.slow


def test_env_trains_with_brax_ppo():
    config = PPOConfig(
        num_envs=8, rollout_length=4, num_minibatches=2, update_epochs=1, hidden_sizes=(16, 16), total_env_steps=64
    )
    make_policy, params, metrics, _ = brax_ppo.train(
        profiles.get("cube"), RotationEnvConfig(), config, num_evals=2, num_eval_envs=8
    )
    assert metrics["eval/episode_reward"] is not None
    assert math.isfinite(float(metrics["eval/episode_reward"]))
    policy = make_policy(params, deterministic=True)
    action, _ = policy(jnp.zeros((4, 23)), jax.random.PRNGKey(0))
    assert action.shape == (4, 3)
    assert bool(jnp.all(jnp.abs(action) <= 1.0))
