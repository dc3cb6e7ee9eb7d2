"""Save and load a greedy branching-DQN policy: network kwargs (JSON) plus params and the
observation normalizer, in ``bundle_io``'s two files (``RUN/policy/`` or a shipped folder)."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp

from orient_jax.agents.dqn.networks import QNetwork, make_q_network
from orient_jax.agents.normalization import RunningStats
from orient_jax.core import bundle_io

FORMAT = "orient-jax-dqn-policy/1"


def save_policy(directory: Path, network: QNetwork, params: dict, obs_stats: RunningStats, meta: dict) -> Path:
    payload = {"params": jax.device_get(params), "normalizer": jax.device_get(obs_stats)}
    return bundle_io.write(directory, "policy", payload, {"format": FORMAT, "network": network.kwargs(), **meta})


def load_policy(path: str | Path) -> tuple[QNetwork, dict, RunningStats, dict]:
    """From a policy folder, or a run directory (uses RUN/policy)."""
    folder, info = bundle_io.read_info(path, "policy", FORMAT, "DQN policy", "train one first")
    network = make_q_network(**info["network"])
    template = {"params": network.init(jax.random.PRNGKey(0)), "normalizer": RunningStats.create(network.obs_size)}
    arrays = bundle_io.read_arrays(folder, "policy", template)
    normalizer = jax.tree.map(jnp.asarray, arrays["normalizer"])
    return network, jax.tree.map(jnp.asarray, arrays["params"]), normalizer, info
