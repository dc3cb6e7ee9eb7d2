"""Training the orientation CNN: its trainer (the shape every trainer has:
``orient_jax.core.trainer``), and the program the host loop runs.

``make_trainer(config, spec, steps_per_epoch)`` returns a ``VisionTrainer`` whose
``update(state, images, labels)`` is one jitted gradient step (augment -> the profile's
contract preprocessing -> forward -> loss -> AdamW) and whose ``predict(variables,
images)`` is the eval-mode forward pass. ``VisionProgram`` is what ``orient_jax.core.loop`` runs: a
chunk is the steps up to the next metrics row (every ``log_every`` steps and at each
epoch's end), in per-epoch orders drawn from the run's key; validation follows each
epoch; the model is exported into ``RUN/model`` beside every checkpoint.

The loss is the Frobenius distance between predicted and true rotation matrices,
``|R - R*|_F = 2 sqrt(2) sin(theta / 2)``: about sqrt(2) times the geodesic angle for
small errors (an L1 loss on the angle, which is what the median rewards), smooth, and
blind to the quaternion sign by construction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx, struct
from tqdm import tqdm

from orient_jax import quat
from orient_jax.core import loop
from orient_jax.core.trainer import Trainer, eager, jitted
from orient_jax.profiles.spec import TaskSpec
from orient_jax.vision import data as data_lib
from orient_jax.vision import model_io
from orient_jax.vision.config import VisionExperiment
from orient_jax.vision.model import PoseNet

Array = jax.Array
CURVE_KEYS = ("loss", "train_median_deg", "val_median_deg", "val_p95_deg")


@struct.dataclass
class TrainState:
    params: Any  # nnx.State of nnx.Param
    batch_stats: Any  # nnx.State of nnx.BatchStat
    opt_state: Any
    key: Array
    step: Array  # int32, updates done


@dataclasses.dataclass(frozen=True)
class VisionTrainer(Trainer):
    """The CNN for one task spec and one config: ``init(key)``, ``update(state, images,
    labels)``, and ``predict(variables, uint8 NHWC images) -> quats [N, 4]``."""

    config: VisionExperiment
    spec: TaskSpec
    graphdef: Any
    optimizer: optax.GradientTransformation

    # Building the model draws its integer seed on the host and may read ``init_from``.
    init = eager("_init")
    update = jitted("_update", donate_argnums=0)  # the old state's buffers are reused
    predict = jitted("_predict")

    def _init(self, key: Array) -> TrainState:
        config, size = self.config, self.spec.camera.resolution
        key_model, key_run = jax.random.split(key)
        seed = int(jax.random.randint(key_model, (), 0, 2**31 - 1))
        model = PoseNet(config.model, size, rngs=nnx.Rngs(seed))
        if config.init_from:
            model_io.check_compatible(config.init_from, config.model, size)
            model, _ = model_io.load(config.init_from)
        _, params, batch_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
        return TrainState(params, batch_stats, self.optimizer.init(params), key_run, jnp.zeros((), jnp.int32))

    def _update(self, state: TrainState, images: Array, labels: Array) -> tuple[TrainState, dict]:
        key_aug = jax.random.fold_in(state.key, state.step)
        x = data_lib.preprocess(data_lib.augment(key_aug, images, self.config.augmentation), self.spec.onnx)
        target = quat.to_matrix(labels)

        def loss_fn(params):
            model = nnx.merge(self.graphdef, params, state.batch_stats, copy=True)
            model.train()
            pred = model.rotation(x)
            per_image = rotation_loss(pred, target)
            return jnp.mean(per_image), (pred, nnx.state(model, nnx.BatchStat))

        (loss, (pred, batch_stats)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        updates, opt_state = self.optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        angle = jnp.degrees(quat.geodesic_angle(quat.from_matrix(pred), labels))
        metrics = {"loss": loss, "train_median_deg": jnp.median(angle), "grad_norm": optax.global_norm(grads)}
        return TrainState(params, batch_stats, opt_state, state.key, state.step + 1), metrics

    def _predict(self, variables: Any, images: Array) -> Array:
        params, batch_stats = variables
        model = nnx.merge(self.graphdef, params, batch_stats, copy=True)
        model.eval()
        return model(data_lib.preprocess(images, self.spec.onnx))


def rotation_loss(pred: Array, target: Array) -> Array:
    """Per-image ``|R - R*|_F`` for rotation matrices ``[N, 3, 3]``."""
    return jnp.sqrt(jnp.sum((pred - target) ** 2, axis=(-2, -1)) + 1e-12)


def make_schedule(config: VisionExperiment, steps_per_epoch: int) -> optax.Schedule:
    total = config.epochs * steps_per_epoch
    return optax.warmup_cosine_decay_schedule(
        init_value=0.0,
        peak_value=config.learning_rate,
        warmup_steps=min(config.warmup_steps, total - 1),
        decay_steps=total,
        end_value=config.learning_rate * config.final_lr_fraction,
    )


def make_trainer(config: VisionExperiment, spec: TaskSpec, steps_per_epoch: int) -> VisionTrainer:
    """The model sees ``spec``'s camera images through ``spec``'s contract preprocessing."""
    model = PoseNet(config.model, spec.camera.resolution, rngs=nnx.Rngs(0))
    graphdef, _, _ = nnx.split(model, nnx.Param, nnx.BatchStat)
    optimizer = optax.chain(
        optax.clip_by_global_norm(config.grad_clip),
        optax.adamw(make_schedule(config, steps_per_epoch), weight_decay=config.weight_decay),
    )
    return VisionTrainer(config, spec, graphdef, optimizer)


def predict_all(
    trainer_predict: Callable, variables: Any, images: np.ndarray, batch: int, progress: bool = False
) -> np.ndarray:
    """Quaternions ``[N, 4]`` for uint8 images, in fixed-size batches (the last one padded,
    so one compiled shape serves every batch)."""
    out = []
    starts = range(0, len(images), batch)
    for start in tqdm(starts, desc="predict", unit="batch", disable=not progress, dynamic_ncols=True):
        chunk = images[start : start + batch]
        n = len(chunk)
        if n < batch:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch - n, axis=0)])
        out.append(np.asarray(trainer_predict(variables, chunk))[:n])
    return np.concatenate(out)


def angular_errors_deg(pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.degrees(np.asarray(quat.geodesic_angle(jnp.asarray(pred), jnp.asarray(labels))))


def epoch_order(key: Array, epoch: int, n: int) -> np.ndarray:
    """The training images' order in one epoch; a function of the run key and epoch only."""
    return np.asarray(jax.random.permutation(jax.random.fold_in(key, epoch), n))


class VisionProgram(loop.Program):
    """The CNN as the host loop runs it; the loop's step is the gradient step."""

    name = "vision steps"
    rate_key = "images_per_s"
    curve_keys = CURVE_KEYS
    curve_x = "epoch"

    def __init__(self, trainer: VisionTrainer, train_set: data_lib.ImageSet, val_set: data_lib.ImageSet, run_dir: Path):
        c = trainer.config
        self.trainer, self.train_set, self.val_set, self.run_dir = trainer, train_set, val_set, Path(run_dir)
        self.steps_per_epoch = len(train_set) // c.batch_size
        self.total = c.epochs * self.steps_per_epoch
        self.data_key = jax.random.fold_in(jax.random.PRNGKey(c.seed), 1)
        self._order = (-1, None)  # (epoch, its image order)

    def init(self) -> TrainState:
        return self.trainer.init(jax.random.PRNGKey(self.trainer.config.seed))

    def order(self, epoch: int) -> np.ndarray:
        if self._order[0] != epoch:
            self._order = (epoch, epoch_order(self.data_key, epoch, len(self.train_set)))
        return self._order[1]

    def chunk(self, state: TrainState, step: int, stop: int) -> loop.Chunk:
        """The steps up to the next metrics row: a multiple of log_every, the epoch's end, the end."""
        c, b, per_epoch = self.trainer.config, self.trainer.config.batch_size, self.steps_per_epoch
        end = min((step // c.log_every + 1) * c.log_every, (step // per_epoch + 1) * per_epoch, self.total, stop)
        window = []
        for s in range(step, end):
            epoch, i = divmod(s, per_epoch)
            rows = np.sort(self.order(epoch)[i * b : (i + 1) * b])
            state, metrics = self.trainer.update(state, self.train_set.images[rows], self.train_set.quats[rows])
            window.append(metrics)
        means = {k: float(np.mean([float(m[k]) for m in window])) for k in window[0]}
        return loop.Chunk(state, end, {"epoch": round(end / per_epoch, 3), **means}, work=len(window) * b)

    def evaluate(self, state: TrainState, step: int) -> dict:
        """Validation at each epoch's end."""
        if step % self.steps_per_epoch:
            return {}
        variables = (state.params, state.batch_stats)
        pred = predict_all(self.trainer.predict, variables, self.val_set.images, self.trainer.config.eval_batch)
        errors = angular_errors_deg(pred, self.val_set.quats)
        return {"val_mean_deg": float(errors.mean()), "val_median_deg": float(np.median(errors)),
                "val_p95_deg": float(np.percentile(errors, 95))}  # fmt: skip

    def save(self, state: TrainState, step: int) -> None:
        t = self.trainer
        model_io.save(self.run_dir / "model", t.config.model, t.spec.name, t.spec.camera.resolution, state.params,
                      state.batch_stats, {"step": step})  # fmt: skip

    def postfix(self, row: dict) -> dict:
        return {"loss": f"{row['loss']:.4f}", "med": f"{row['train_median_deg']:.2f}"}


def train(
    config: VisionExperiment,
    spec: TaskSpec,
    train_set: data_lib.ImageSet,
    val_set: data_lib.ImageSet,
    run_dir: Path,
    config_dict: dict,
    stop_after: int | None = None,
    progress: bool = True,
) -> tuple[VisionTrainer, TrainState, int]:
    """Train (or resume) to ``config.epochs`` epochs; ``stop_after`` stops after that many
    steps in total, as an interruption would. Returns the trainer, the final state and the
    run's total step count."""
    steps_per_epoch = len(train_set) // config.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"batch_size {config.batch_size} is larger than the training set ({len(train_set)} images)")
    program = VisionProgram(make_trainer(config, spec, steps_per_epoch), train_set, val_set, run_dir)
    state, _ = loop.run(program, run_dir, config_dict, steps_per_epoch, config.keep_checkpoints, stop_after, progress)
    return program.trainer, state, program.total
