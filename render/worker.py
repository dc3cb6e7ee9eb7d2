"""A render worker process: Blender stays open, shard numbers come in, shard files go out.

Each worker builds the scene once, then for every shard it is handed renders the
shard's images one by one (each from its own seed, see ``render.sampling``) and writes
the shard atomically. It reports each image and each finished shard on a queue, so
the parent can show progress; it never decides what to render.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np

from orient_jax import profiles
from orient_jax.profiles.spec import TaskSpec
from orient_jax.vision import dataset
from render import config as config_lib
from render import postprocess, sampling


def params_of(spec: TaskSpec) -> dict[str, tuple[tuple[int, ...], str]]:
    """The per-image parameters of the profile's object kind."""
    if spec.artifacts.object_kind == "runtime_mesh":
        return sampling.mesh_params(len(spec.runtime.point_lights))
    return sampling.PARAMS


def sampler(spec: TaskSpec):
    """``(config, index) -> (quat, params, noise_rng)`` for the profile's object kind."""
    if spec.artifacts.object_kind == "runtime_mesh":
        return lambda config, index: sampling.sample_mesh_image(config, index, spec)
    return lambda config, index: sampling.sample_image(config, index, spec.camera)


def param_layout(spec: TaskSpec) -> dict[str, dict]:
    """Shape, dtype and meaning of every ``param_<name>`` array (recorded in the plan)."""
    ints = {"cycles_seed", "bbox", "jpeg_quality", "wide_groups"}
    return {
        name: {"shape": list(shape), "dtype": "int64" if name in ints else "float64", "meaning": meaning}
        for name, (shape, meaning) in params_of(spec).items()
    }


def render_range(
    scene,
    config,
    spec: TaskSpec,
    start: int,
    stop: int,
    config_hash: str,
    on_image: Callable[[], None] | None = None,
) -> dict[str, np.ndarray]:
    """Render images ``[start, stop)`` with an open ``render.scene.Scene``; the shard's arrays."""
    n, res = stop - start, spec.camera.resolution
    layout = param_layout(spec)
    sample = sampler(spec)
    images = np.empty((n, res, res, 3), dtype=np.uint8)
    quats = np.empty((n, 4), dtype=np.float32)
    params = {name: np.empty((n, *spec["shape"]), dtype=spec["dtype"]) for name, spec in layout.items()}
    for j, index in enumerate(range(start, stop)):
        quat, p, noise_rng = sample(config, index)
        scene.apply(quat, p)
        rgba = scene.render()
        p["bbox"] = postprocess.silhouette_bbox(rgba[..., 3])
        texture = float(p["background_texture"])
        background = postprocess.background(
            p["background_rgb"], res, texture, sampling.child_generator(config.seed, index, 2) if texture else None
        )
        images[j] = postprocess.finish(
            rgba, background, p["blur_sigma"], p["noise_sigma"], noise_rng, float(p["exposure"]), int(p["jpeg_quality"])
        )
        quats[j] = quat
        for name in layout:
            params[name][j] = p[name]
        if on_image is not None:
            on_image()
    arrays = {dataset.IMAGES: images, dataset.QUATS: quats, dataset.INDEX: np.arange(start, stop, dtype=np.int64)}
    arrays[dataset.CONFIG_HASH] = np.array(config_hash)
    arrays.update({dataset.PARAM_PREFIX + name: value for name, value in params.items()})
    return arrays


def worker_main(
    config_dict: dict,
    task: str,
    runtime_dir: str,
    config_hash: str,
    out_dir: str,
    threads: int,
    cpus: list[int] | None,
    tasks,
    events,
) -> None:
    """Process entry point: render shards from ``tasks`` until ``None``; report on ``events``.

    ``cpus``: the cores this worker is pinned to (None: not pinned). Blender keeps a
    second thread spinning while Cycles renders; unpinned, the workers' spinners take
    turns on the cores their render threads need (at 4 samples: 9-11 images/s unpinned,
    13 pinned, in runs minutes apart). Pinned, a spinner only competes with its own
    worker's render thread, and TBB starts no extra thread for a one-core mask.

    ``task`` names the task profile (``orient_jax.profiles``) the scene is built for;
    ``runtime_dir`` is the runtime's folder when its object is the runtime's own mesh.
    Events: ("image",), ("shard", k, sha256), ("error", text), ("exit",).
    """
    parent = os.getppid()
    if cpus:
        os.sched_setaffinity(0, cpus)
    # Cycles prints a line per render tile and "Saved: ..." to stdout; keep the
    # terminal for the progress bar (errors still travel on the queue and stderr).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        from render.scene import Scene

        spec = profiles.get(task)
        config = config_lib.from_dict(config_lib.config_class(spec), config_dict)
        scene = Scene(spec, config.samples, config.pixel_filter_width, threads, runtime_dir)
        out = Path(out_dir)

        def on_image() -> None:
            if os.getppid() != parent:  # the parent died: stop instead of rendering for no one
                raise SystemExit(1)
            events.put(("image",))

        while (shard := tasks.get()) is not None:
            start, stop = config.shard_range(shard)
            arrays = render_range(scene, config, spec, start, stop, config_hash, on_image)
            digest = dataset.write_shard(out / dataset.shard_name(shard), arrays)
            events.put(("shard", shard, digest))
        scene.close()
    except BaseException:
        events.put(("error", traceback.format_exc()))
        raise
    finally:
        events.put(("exit",))
