"""Save and load a trained policy: network kwargs (JSON) plus params and normalizer.

The same two files serve a run directory (``RUN/policy/``) and a shipped policy (e.g.
``models/rotation_policy/``), so evaluation and export have one loader.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp

from orient_jax.agents.normalization import RunningStats
from orient_jax.agents.ppo.networks import Networks, Params, make_networks
from orient_jax.core import bundle_io

FORMAT = "orient-jax-ppo-policy/1"


def save_policy(
    directory: str | Path, networks: Networks, params: Params, normalizer: RunningStats, meta: dict
) -> Path:
    payload = {"params": jax.device_get(params), "normalizer": jax.device_get(normalizer)}
    return bundle_io.write(directory, "policy", payload, {"format": FORMAT, "networks": networks.kwargs(), **meta})


def load_policy(path: str | Path) -> tuple[Networks, Params, RunningStats, dict]:
    """Load from a policy folder, or from a run directory (uses RUN/policy)."""
    path, info = bundle_io.read_info(
        path, "policy", FORMAT, "policy", "train one with `python -m experiments.train rotation` (or humanoid)"
    )
    networks = make_networks(**info["networks"])
    template = {
        "params": networks.init(jax.random.PRNGKey(0)),
        "normalizer": RunningStats.create(networks.obs_size),
    }
    restored = bundle_io.read_arrays(path, "policy", template)
    params = jax.tree.map(jnp.asarray, restored["params"])
    normalizer = jax.tree.map(jnp.asarray, restored["normalizer"])
    return networks, params, normalizer, info
