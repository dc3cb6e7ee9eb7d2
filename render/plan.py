"""The plan of a render command: what its dataset directory holds, and which shards it covers.

``make_plan`` fixes the dataset before any shard is written: the config, what of the
task profile shapes the pixels, the object (asset), the parameter layout and the
software versions, and the hash of all of it (``render.config.config_hash``), which
every shard carries. ``select_shards`` turns a command's ``--start/--stop`` into the
shards it renders. Nothing here writes to the directory: ``render.pipeline`` does.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np

from orient_jax.profiles.spec import TaskSpec
from orient_jax.vision import dataset
from render import asset, worker
from render import config as config_lib


class RenderError(RuntimeError):
    """A problem the user can fix; the message says how."""


def describe_asset(spec: TaskSpec, runtime_dir: str = "") -> dict:
    """The object as data: the procedural cube's description, or the runtime mesh's
    (its file's sha256 and hull: the file itself stays in the runtime's folder)."""
    if spec.artifacts.object_kind == "runtime_mesh":
        return asset.describe_runtime_mesh(spec, runtime_dir)
    return asset.describe(spec.physics.box_size)


def identity(config, spec: TaskSpec, runtime_dir: str = "") -> dict:
    """Everything that determines the dataset's bytes: the config, and what of the task
    profile shapes the pixels (its camera and box, and the asset built for it)."""
    if not isinstance(config, config_lib.config_class(spec)):
        raise RenderError(f"preset {config.preset!r} renders another kind of object than task profile {spec.name!r}; "
                          f"choose a preset for it")  # fmt: skip
    return {
        "format_version": dataset.FORMAT_VERSION,
        "config": config_lib.to_dict(config),
        "spec": dataset.spec_record(spec),
        "asset": describe_asset(spec, runtime_dir),
        "params": worker.param_layout(spec),
        "software": {"bpy": importlib.metadata.version("bpy"), "numpy": np.__version__},
    }


def make_plan(config, spec: TaskSpec, runtime_dir: str = "") -> dict:
    """The plan (``plan.json``): the dataset's size and label, its identity, and the hash of that."""
    ident = identity(config, spec, runtime_dir)
    return {
        "format_version": dataset.FORMAT_VERSION,
        "preset": config.preset,
        "task": spec.name,  # the profile by name; what of it shapes the bytes is hashed below
        "count": config.count,
        "seed": config.seed,
        "shard_size": config.shard_size,
        "num_shards": config.num_shards,
        "image_size": spec.camera.resolution,
        "label": "quat_xyzw: unit quaternion (x, y, z, w), w >= 0, rotating body-frame vectors into the "
        f"world frame of task profile {spec.name!r} (Y up); uniform on SO(3) (Shoemake's subgroup algorithm)",
        "config_hash": config_lib.config_hash(ident),
        **{k: v for k, v in ident.items() if k != "format_version"},
    }


def select_shards(config, start: int | None, stop: int | None) -> list[int]:
    """Shards covering images ``[start, stop)``; both must be shard boundaries."""
    start = 0 if start is None else start
    stop = config.count if stop is None else stop
    for name, value in (("--start", start), ("--stop", stop)):
        if not (0 <= value <= config.count and (value % config.shard_size == 0 or value == config.count)):
            raise RenderError(
                f"{name} {value} is not a shard boundary: use a multiple of shard_size ({config.shard_size}) "
                f"between 0 and count ({config.count})"
            )
    if start >= stop:
        raise RenderError(f"--start {start} must be below --stop {stop}")
    return list(range(start // config.shard_size, -(-stop // config.shard_size)))


def shard_range(plan: dict, shard: int) -> tuple[int, int]:
    """Image indices ``[start, stop)`` of one shard of ``plan`` (as the dataset format cuts them)."""
    return dataset.shard_ranges(plan["count"], plan["shard_size"])[shard]
