"""Save and load a trained orientation CNN: its ModelConfig, input size and task profile
(JSON) and its weights (msgpack).

One format for a run's ``RUN/model/`` and the shipped ``models/pose/``, so evaluation
and export share a loader.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
from flax import nnx

from orient_jax import paths
from orient_jax.core import bundle_io
from orient_jax.core import dataclass_config as config_lib
from orient_jax.vision.model import ModelConfig, PoseNet

FORMAT = "orient-jax-pose-cnn/1"


def save(
    directory: str | Path, config: ModelConfig, task: str, image_size: int, params: Any, batch_stats: Any, meta: dict
) -> Path:
    """``task``: the profile the model was trained for; ``image_size``: its camera resolution."""
    payload = {"params": nnx.to_pure_dict(jax.device_get(params)),
               "batch_stats": nnx.to_pure_dict(jax.device_get(batch_stats))}  # fmt: skip
    info = {"format": FORMAT, "model": dataclasses.asdict(config), "task": task, "image_size": image_size, **meta}
    return bundle_io.write(directory, "model", payload, info)


def read_info(path: str | Path | None) -> tuple[Path, dict]:
    """A model folder's (or run's, or the shipped model's) ``model.json``, checked for the
    fields every loader needs; reads no arrays."""
    path, info = bundle_io.read_info(
        paths.SHIPPED_POSE_MODEL if path is None else path,
        "model",
        FORMAT,
        "orientation model",
        "train one with `python -m experiments.train vision --config cpu`",
    )
    missing = [k for k in ("task", "image_size") if k not in info]
    if missing:
        raise ValueError(
            f"{path / 'model.json'} lacks {', '.join(missing)}: it does not say which task profile it was trained for"
        )
    return path, info


def check_compatible(path: str | Path, config: ModelConfig, image_size: int) -> dict:
    """A model to start from (``init_from``) must have the architecture and the image size
    of the run it starts; its info, or one ``ValueError`` naming both."""
    _, info = read_info(path)
    if info["model"] != config_lib.to_dict(config) or info["image_size"] != image_size:
        raise ValueError(
            f"init_from={path} holds {info['model']} on {info['image_size']}-pixel images, but this run trains "
            f"{config_lib.to_dict(config)} on {image_size}-pixel images"
        )
    return info


def load(path: str | Path | None = None) -> tuple[PoseNet, dict]:
    """The model in eval mode, from a model folder, a run directory (``RUN/model``), or
    the shipped model when ``path`` is None. ``info["task"]`` names its task profile."""
    path, info = read_info(path)
    where = path / "model.json"
    config = config_lib.from_dict(ModelConfig, info["model"], where=f"{where}:model")
    model = PoseNet(config, int(info["image_size"]), rngs=nnx.Rngs(0))
    graphdef, params, batch_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    template = {"params": nnx.to_pure_dict(params), "batch_stats": nnx.to_pure_dict(batch_stats)}
    restored = bundle_io.read_arrays(path, "model", template)
    nnx.replace_by_pure_dict(params, restored["params"])
    nnx.replace_by_pure_dict(batch_stats, restored["batch_stats"])
    model = nnx.merge(graphdef, params, batch_stats)
    model.eval()
    return model, info
