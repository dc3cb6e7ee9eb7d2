"""Observation noise: a random rotation applied to the observed orientation.

A noise model is a distribution over rotation angles, stored as quantiles at evenly
spaced probabilities (0, 1/(K-1), ..., 1). The axis is uniform on the sphere. The
default, "a random rotation of sigma degrees", is the degenerate distribution with
every quantile equal to sigma. The vision evaluation writes the CNN's measured error
distribution in the same JSON format, so the env can train and evaluate under it:

    {"kind": "angle_quantiles", "quantiles_deg": [0.1, ..., 14.0], "source": "..."}
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from orient_jax import quat

NOISE_MODEL_KIND = "angle_quantiles"


@struct.dataclass
class NoiseModel:
    quantiles_rad: jax.Array  # [K], non-decreasing, K >= 2

    def sample(self, key: jax.Array) -> jax.Array:
        """One noise rotation, a unit quaternion [4] (x,y,z,w)."""
        key_u, key_axis = jax.random.split(key)
        k = self.quantiles_rad.shape[0]
        u = jax.random.uniform(key_u) * (k - 1)
        angle = jnp.interp(u, jnp.arange(k, dtype=jnp.float32), self.quantiles_rad)
        return quat.from_axis_angle(quat.random_axis(key_axis), angle)

    def median_deg(self) -> float:
        return float(np.degrees(np.median(np.asarray(self.quantiles_rad))))


def constant(sigma_deg: float) -> NoiseModel:
    if sigma_deg < 0:
        raise ValueError(f"noise angle must be >= 0 degrees, got {sigma_deg}")
    return NoiseModel(quantiles_rad=jnp.full((2,), np.radians(sigma_deg), jnp.float32))


def from_quantiles_deg(quantiles_deg) -> NoiseModel:
    q = np.asarray(quantiles_deg, dtype=np.float64)
    if q.ndim != 1 or q.size < 2:
        raise ValueError("noise model needs at least 2 quantiles in a flat list")
    if not np.all(np.isfinite(q)) or np.any(q < 0) or np.any(q > 180):
        raise ValueError("noise quantiles must be finite angles in [0, 180] degrees")
    if np.any(np.diff(q) < 0):
        raise ValueError("noise quantiles must be non-decreasing")
    return NoiseModel(quantiles_rad=jnp.asarray(np.radians(q), jnp.float32))


def load(path: str | Path) -> NoiseModel:
    """Load a noise-model JSON; a bad file stops with a message naming the problem."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"noise model {path} not found; write one with `python -m experiments.evaluate vision` "
            "or pass noise_model='' to use the constant noise_deg model"
        )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"noise model {path} is not valid JSON: {e}") from e
    if not isinstance(data, dict) or data.get("kind") != NOISE_MODEL_KIND:
        raise ValueError(f"noise model {path}: expected kind={NOISE_MODEL_KIND!r}")
    try:
        return from_quantiles_deg(data["quantiles_deg"])
    except (KeyError, ValueError) as e:
        raise ValueError(f"noise model {path}: {e}") from e


def save(path: str | Path, quantiles_deg, source: str) -> None:
    from_quantiles_deg(quantiles_deg)  # validate before writing
    payload = {"kind": NOISE_MODEL_KIND, "quantiles_deg": [float(x) for x in quantiles_deg], "source": source}
    Path(path).write_text(json.dumps(payload, indent=2) + "\n")
