"""Save and load a trained orientation CNN: its ModelConfig (JSON) and weights (msgpack).

One format for a run's ``RUN/model/`` and the shipped ``models/pose/``, so evaluation
and export share a loader.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jax
from flax import nnx, serialization

from orient_jax import dataclass_config as config_lib
from orient_jax.vision.model import ModelConfig, PoseNet

SHIPPED_POSE_MODEL = Path(__file__).resolve().parents[2] / "models" / "pose"
FORMAT = "orient-jax-pose-cnn/1"


def save(directory: str | Path, config: ModelConfig, params: Any, batch_stats: Any, meta: dict) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = {"params": nnx.to_pure_dict(jax.device_get(params)),
               "batch_stats": nnx.to_pure_dict(jax.device_get(batch_stats))}  # fmt: skip
    tmp = directory / "model.msgpack.tmp"
    tmp.write_bytes(serialization.to_bytes(payload))
    tmp.replace(directory / "model.msgpack")  # atomic: never a half-written file
    info = {"format": FORMAT, "model": dataclasses.asdict(config), **meta}
    (directory / "model.json").write_text(json.dumps(info, indent=2) + "\n")
    return directory


def load(path: str | Path | None = None) -> tuple[PoseNet, dict]:
    """The model in eval mode, from a model folder, a run directory (``RUN/model``), or
    the shipped model when ``path`` is None."""
    path = SHIPPED_POSE_MODEL if path is None else Path(path)
    if (path / "model").is_dir():
        path = path / "model"
    info_path, blob_path = path / "model.json", path / "model.msgpack"
    if not info_path.is_file() or not blob_path.is_file():
        raise FileNotFoundError(
            f"no orientation model at {path} (expected model.json and model.msgpack); train one with "
            "`python -m experiments.train_vision --config cpu`"
        )
    info = json.loads(info_path.read_text())
    if info.get("format") != FORMAT:
        raise ValueError(f"{info_path}: unknown model format {info.get('format')!r}, expected {FORMAT!r}")
    config = config_lib.from_dict(ModelConfig, info["model"], where=f"{info_path}:model")
    model = PoseNet(config, rngs=nnx.Rngs(0))
    graphdef, params, batch_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    template = {"params": nnx.to_pure_dict(params), "batch_stats": nnx.to_pure_dict(batch_stats)}
    try:
        restored = serialization.from_bytes(template, blob_path.read_bytes())
    except Exception as e:
        raise ValueError(f"{blob_path} is corrupt or does not match {info_path}: {e}") from e
    nnx.replace_by_pure_dict(params, restored["params"])
    nnx.replace_by_pure_dict(batch_stats, restored["batch_stats"])
    model = nnx.merge(graphdef, params, batch_stats)
    model.eval()
    return model, info
