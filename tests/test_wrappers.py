"""Auto-reset: truncation at the episode length, fresh starts, the true final observation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from orient_jax import profiles
from orient_jax.envs.wrappers import EpisodeAutoReset, wrap_for_training
from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig

pytestmark = pytest.mark.integration

CUBE = profiles.get("cube")


def test_episode_auto_reset_truncates_and_resets_fresh():
    env = EpisodeAutoReset(RotationEnv(CUBE, RotationEnvConfig(noise_deg=0.0)), episode_length=3)
    reset, step = jax.jit(jax.vmap(env.reset)), jax.jit(jax.vmap(env.step))
    state = reset(jax.random.split(jax.random.PRNGKey(0), 4))
    first_q = state.pipeline_state.qpos[:, 3:7]
    action = jnp.zeros((4, 3))
    s1 = step(state, action)
    s2 = step(s1, action)
    s3 = step(s2, action)
    np.testing.assert_array_equal(s1.done, 0.0)
    np.testing.assert_array_equal(s2.done, 0.0)
    np.testing.assert_array_equal(s3.done, 1.0)
    np.testing.assert_array_equal(s3.info["truncation"], 1.0)
    np.testing.assert_array_equal(s3.info["steps"], 0)
    # The env restarted from a new random orientation, and final_obs is the pre-reset one.
    assert not np.allclose(s3.pipeline_state.qpos[:, 3:7], first_q)
    assert not np.allclose(s3.info["final_obs"], s3.obs)
    np.testing.assert_allclose(s3.metrics["episode_return"], s1.reward + s2.reward + s3.reward, rtol=1e-5)
    assert float(s3.info["episode_return"].max()) == 0.0
    # Brax's bookkeeping: the finished episode's sums are visible on the done step.
    np.testing.assert_array_equal(s3.info["episode_metrics"]["length"], 3.0)
    np.testing.assert_array_equal(s3.info["episode_done"], 1.0)


def test_staggered_starts_spread_episode_boundaries():
    env = wrap_for_training(RotationEnv(CUBE), episode_length=300)
    state = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(1), 256))
    steps = np.asarray(state.info["steps"])
    assert steps.min() >= 0 and steps.max() < 300
    assert len(np.unique(steps)) > 100
