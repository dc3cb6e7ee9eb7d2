"""Vision runs: train into a run directory, evaluate a model on a rendered set."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from orient_jax import paths, profiles
from orient_jax.core import runs
from orient_jax.profiles.spec import OnnxContract
from orient_jax.vision import data as data_lib
from orient_jax.vision import dataset, metrics, model_io
from orient_jax.vision import train as train_lib
from orient_jax.vision.config import VisionExperiment


def check_inputs(exp: VisionExperiment, evaluate: bool = True) -> None:
    """The training set (and, when the run ends with an evaluation, the test set) must be
    complete datasets rendered for the experiment's profile, and a model to start from
    must fit it; checked from their manifests and ``model.json`` before a run directory
    exists (the shards' checksums are checked as they load)."""
    for root in (exp.data, exp.test_data) if evaluate else (exp.data,):
        dataset.check_spec(dataset.read_manifest(Path(root)), Path(root), exp.spec)
    if exp.init_from:  # a model to start from must fit the run's architecture and image size
        model_io.check_compatible(exp.init_from, exp.model, exp.spec.camera.resolution)


def train_run(exp: VisionExperiment, preset: str, run_dir: Path, stop_after: int | None = None, progress=True):
    spec = exp.spec
    cfg = runs.config_record(exp, preset)
    runs.refuse_other_config(run_dir, cfg, VisionExperiment)  # before the (long) data load
    full = data_lib.load(exp.data, spec)
    train_set, val_set = data_lib.split(full, exp.val_count)
    print(f"data: {exp.data}: {len(train_set)} train (indices 0..{len(train_set) - 1}), {len(val_set)} val")
    inputs = {"data": runs.file_record(Path(exp.data) / dataset.MANIFEST_FILE),
              "test_data": runs.file_record(Path(exp.test_data) / dataset.MANIFEST_FILE)}  # fmt: skip
    runs.write_metadata(run_dir, cfg, exp.seed, inputs)
    return train_lib.train(exp, spec, train_set, val_set, run_dir, cfg, stop_after=stop_after, progress=progress)


def predict(
    model: nnx.Module, images: np.ndarray, onnx: OnnxContract, batch: int = 256, progress: bool = False
) -> np.ndarray:
    """Quaternions ``[N, 4]`` for uint8 RGB images ``[N, R, R, 3]`` (eval mode), preprocessed
    by ``onnx``'s contract."""
    graphdef, state = nnx.split(model)

    @jax.jit
    def forward(state, images):
        return nnx.merge(graphdef, state)(data_lib.preprocess(images, onnx))

    return train_lib.predict_all(lambda _, x: forward(state, x), None, images, batch, progress)


def evaluate(model_path: Path | None, data_dir: Path, out_dir: Path, batch: int = 256, progress: bool = True) -> dict:
    """Errors of a model (``None``: the shipped one) on a set rendered for the model's own
    task profile; writes ``vision_eval.json``, ``error_histogram.png`` and
    ``error_model.json`` into ``out_dir``."""
    model, info = model_io.load(model_path)
    spec = profiles.get(info["task"])
    data = data_lib.load(data_dir, spec)
    pred = predict(model, data.images, spec.onnx, batch, progress)
    errors = train_lib.angular_errors_deg(pred, data.quats)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    source = f"orientation CNN {model_path or paths.SHIPPED_POSE_MODEL} on {data_dir}"
    result = {**metrics.summarize(errors), "data": str(data_dir), "model": str(model_path or "shipped"),
              "model_step": info.get("step")}  # fmt: skip
    metrics.plot_histogram(errors, out_dir / "error_histogram.png", f"orientation error on {Path(data_dir).name}")
    metrics.write_error_model(errors, out_dir / "error_model.json", source)
    np.save(out_dir / "errors_deg.npy", errors.astype(np.float32))
    (out_dir / "vision_eval.json").write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    return result
