"""Save and load a trained policy: network kwargs (JSON) plus params and normalizer.

The same two files serve a run directory (``RUN/policy/``) and the shipped policy
(``models/rotation_policy/``), so evaluation and export have one loader.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
from flax import serialization

from orient_jax.agents.ppo.networks import Networks, Params, make_networks
from orient_jax.normalization import RunningStats

SHIPPED_ROTATION_POLICY = Path(__file__).resolve().parents[3] / "models" / "rotation_policy"
FORMAT = "orient-jax-ppo-policy/1"


def save_policy(
    directory: str | Path, networks: Networks, params: Params, normalizer: RunningStats, meta: dict
) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = {"params": jax.device_get(params), "normalizer": jax.device_get(normalizer)}
    tmp = directory / "policy.msgpack.tmp"
    tmp.write_bytes(serialization.to_bytes(payload))
    tmp.replace(directory / "policy.msgpack")  # atomic: never a half-written file
    info = {"format": FORMAT, "networks": networks.kwargs(), **meta}
    (directory / "policy.json").write_text(json.dumps(info, indent=2) + "\n")
    return directory


def load_policy(path: str | Path) -> tuple[Networks, Params, RunningStats, dict]:
    """Load from a policy folder, or from a run directory (uses RUN/policy)."""
    path = Path(path)
    if (path / "policy").is_dir():
        path = path / "policy"
    info_path, blob_path = path / "policy.json", path / "policy.msgpack"
    if not info_path.is_file() or not blob_path.is_file():
        raise FileNotFoundError(
            f"no policy at {path} (expected policy.json and policy.msgpack); train one with "
            "`python -m experiments.train_rotation --config cpu`"
        )
    info = json.loads(info_path.read_text())
    if info.get("format") != FORMAT:
        raise ValueError(f"{info_path}: unknown policy format {info.get('format')!r}, expected {FORMAT!r}")
    networks = make_networks(**info["networks"])
    template = {
        "params": networks.init(jax.random.PRNGKey(0)),
        "normalizer": RunningStats.create(networks.obs_size),
    }
    try:
        restored = serialization.from_bytes(template, blob_path.read_bytes())
    except Exception as e:
        raise ValueError(f"{blob_path} is corrupt or does not match {info_path}: {e}") from e
    params = jax.tree.map(jnp.asarray, restored["params"])
    normalizer = jax.tree.map(jnp.asarray, restored["normalizer"])
    return networks, params, normalizer, info
