"""PPO must learn a probe env whose optimal action is known."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.agents.ppo.networks import make_policy
from orient_jax.agents.ppo.train import make_trainer
from orient_jax.envs.probe import TargetProbeEnv
from orient_jax.envs.wrappers import wrap_for_training

pytestmark = pytest.mark.integration


def test_ppo_learns_target_probe():
    config = PPOConfig(
        num_envs=64,
        rollout_length=16,
        num_minibatches=4,
        update_epochs=4,
        learning_rate=3e-3,
        gamma=0.0,  # one-step episodes
        reward_scale=1.0,
        hidden_sizes=(64, 64),
        total_env_steps=64 * 16 * 120,
    )
    env = TargetProbeEnv()
    trainer = make_trainer(wrap_for_training(env, episode_length=1), config)
    state = trainer.init(jax.random.PRNGKey(0))
    policy = make_policy(trainer.networks, state.params, state.normalizer)
    targets = jax.random.uniform(jax.random.PRNGKey(1), (512, 3), minval=-0.8, maxval=0.8)
    error_before = float(jnp.abs(policy(targets) - targets).mean())
    for _ in range(config.num_updates):
        state, metrics = trainer.update(state)
    policy = make_policy(trainer.networks, state.params, state.normalizer)
    error_after = float(jnp.abs(policy(targets) - targets).mean())
    assert error_before > 0.3
    assert error_after < 0.08, f"mean |action - optimum| = {error_after:.3f}"
    assert float(metrics["reward"]) > 0.9
    assert np.isfinite(float(metrics["value_loss"]))
