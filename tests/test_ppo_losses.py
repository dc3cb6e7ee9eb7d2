import jax.numpy as jnp
import numpy as np
import pytest

from orient_jax.agents.normalization import RunningStats
from orient_jax.agents.ppo.losses import compute_gae

pytestmark = pytest.mark.unit


def test_gae_matches_hand_computed_values():
    # One env, three steps, gamma = 0.5, lambda = 0.5; the episode terminates after step 1.
    rewards = jnp.array([[1.0], [2.0], [3.0]])
    values = jnp.array([[0.5], [1.0], [2.0]])
    next_values = jnp.array([[1.0], [0.0], [4.0]])  # V(s1); terminal; bootstrap V(s3) = 4
    dones = jnp.array([[0.0], [1.0], [0.0]])
    adv, ret = compute_gae(rewards, values, next_values, dones, gamma=0.5, gae_lambda=0.5)
    # delta_2 = 3 + 0.5 * 4 - 2 = 3            A_2 = 3
    # delta_1 = 2 + 0.5 * 0 - 1 = 1            A_1 = 1 (done: nothing flows back from A_2)
    # delta_0 = 1 + 0.5 * 1 - 0.5 = 1          A_0 = 1 + 0.25 * A_1 = 1.25
    np.testing.assert_allclose(adv[:, 0], [1.25, 1.0, 3.0])
    np.testing.assert_allclose(ret[:, 0], [1.75, 2.0, 5.0])


def test_gae_truncation_bootstraps_from_final_state():
    # A truncated step (done, but next_value kept) still bootstraps: A = r + g V(final) - V.
    adv, _ = compute_gae(
        jnp.array([[1.0]]), jnp.array([[2.0]]), jnp.array([[10.0]]), jnp.array([[1.0]]), gamma=0.9, gae_lambda=0.95
    )
    assert float(adv[0, 0]) == pytest.approx(1.0 + 0.9 * 10.0 - 2.0)


def test_gae_lambda_one_gives_discounted_returns():
    rewards = jnp.ones((4, 2))
    zeros = jnp.zeros((4, 2))
    _, ret = compute_gae(rewards, zeros, zeros.at[:-1].set(0.0), zeros, gamma=0.9, gae_lambda=1.0)
    np.testing.assert_allclose(ret[:, 0], [1 + 0.9 + 0.81 + 0.729, 1 + 0.9 + 0.81, 1 + 0.9, 1.0], rtol=1e-6)


def test_running_stats_match_numpy():
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, size=(5, 100, 4)).astype(np.float32)
    stats = RunningStats.create(4)
    for chunk in data:
        stats = stats.update(jnp.asarray(chunk))
    flat = data.reshape(-1, 4)
    np.testing.assert_allclose(stats.mean, flat.mean(0), rtol=1e-4)
    np.testing.assert_allclose(stats.var, flat.var(0), rtol=1e-3)
    assert float(stats.count) == 500
