"""Training the orientation CNN: a pure jitted step, and the host loop around it.

``make_trainer(config)`` returns a ``Trainer`` whose ``step(state, images, labels)`` is
one jitted update (augment -> contract preprocessing -> forward -> loss -> AdamW) and
whose ``predict(variables, images)`` is the eval-mode forward pass. ``train(...)`` is the
host loop: per-epoch permutations drawn from the run's key, progress bar, metrics JSONL,
validation each epoch, Orbax checkpoints (exact resume, also mid-epoch), Ctrl-C/SIGTERM
save, and the learning-curve PNG.

The loss is the Frobenius distance between predicted and true rotation matrices,
``|R - R*|_F = 2 sqrt(2) sin(theta / 2)``: about sqrt(2) times the geodesic angle for
small errors (an L1 loss on the angle, which is what the median rewards), smooth, and
blind to the quaternion sign by construction.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx, struct
from tqdm import tqdm

from orient_jax import dataclass_config, quat, runs
from orient_jax.checkpointing import Checkpoints
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
class Trainer:
    config: VisionExperiment
    graphdef: Any
    optimizer: optax.GradientTransformation
    init: Callable[[Array], TrainState]
    step: Callable[[TrainState, Array, Array], tuple[TrainState, dict]]
    predict: Callable[[Any, Array], Array]  # (variables, uint8 NHWC images) -> quats [N, 4]


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


def make_trainer(config: VisionExperiment, steps_per_epoch: int) -> Trainer:
    graphdef, _, _ = nnx.split(PoseNet(config.model, rngs=nnx.Rngs(0)), nnx.Param, nnx.BatchStat)
    optimizer = optax.chain(
        optax.clip_by_global_norm(config.grad_clip),
        optax.adamw(make_schedule(config, steps_per_epoch), weight_decay=config.weight_decay),
    )

    def init(key: Array) -> TrainState:
        key_model, key_run = jax.random.split(key)
        seed = int(jax.random.randint(key_model, (), 0, 2**31 - 1))
        model = PoseNet(config.model, rngs=nnx.Rngs(seed))
        if config.init_from:
            model, info = model_io.load(config.init_from)
            if info["model"] != dataclass_config.to_dict(config.model):
                raise ValueError(f"init_from={config.init_from} holds a different architecture: {info['model']}")
        _, params, batch_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
        return TrainState(params, batch_stats, optimizer.init(params), key_run, jnp.zeros((), jnp.int32))

    def step(state: TrainState, images: Array, labels: Array) -> tuple[TrainState, dict]:
        key_aug = jax.random.fold_in(state.key, state.step)
        x = data_lib.preprocess(data_lib.augment(key_aug, images, config.augmentation))
        target = quat.to_matrix(labels)

        def loss_fn(params):
            model = nnx.merge(graphdef, params, state.batch_stats, copy=True)
            model.train()
            pred = model.rotation(x)
            per_image = rotation_loss(pred, target)
            return jnp.mean(per_image), (pred, nnx.state(model, nnx.BatchStat))

        (loss, (pred, batch_stats)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        angle = jnp.degrees(quat.geodesic_angle(quat.from_matrix(pred), labels))
        metrics = {"loss": loss, "train_median_deg": jnp.median(angle), "grad_norm": optax.global_norm(grads)}
        return TrainState(params, batch_stats, opt_state, state.key, state.step + 1), metrics

    def predict(variables: Any, images: Array) -> Array:
        params, batch_stats = variables
        model = nnx.merge(graphdef, params, batch_stats, copy=True)
        model.eval()
        return model(data_lib.preprocess(images))

    return Trainer(config, graphdef, optimizer, init, jax.jit(step, donate_argnums=0), jax.jit(predict))


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


def train(
    config: VisionExperiment,
    train_set: data_lib.ImageSet,
    val_set: data_lib.ImageSet,
    run_dir: Path,
    config_dict: dict,
    stop_after: int | None = None,
    progress: bool = True,
) -> tuple[Trainer, TrainState, int]:
    """Train (or resume) to ``config.epochs`` epochs; ``stop_after`` stops after that many
    steps in total, as an interruption would. Exports ``run_dir/model`` at every checkpoint.
    Returns the trainer, the final state and the run's total step count."""
    run_dir = Path(run_dir)
    b = config.batch_size
    steps_per_epoch = len(train_set) // b
    if steps_per_epoch == 0:
        raise ValueError(f"batch_size {b} is larger than the training set ({len(train_set)} images)")
    total = config.epochs * steps_per_epoch
    end = total if stop_after is None else min(total, stop_after)
    trainer = make_trainer(config, steps_per_epoch)
    ckpt = Checkpoints(run_dir / "checkpoints", keep=config.keep_checkpoints)
    log = runs.MetricsLog(run_dir / "metrics.jsonl")
    state = trainer.init(jax.random.PRNGKey(config.seed))
    data_key = jax.random.fold_in(jax.random.PRNGKey(config.seed), 1)
    state, start, elapsed = runs.resume(run_dir, ckpt, log, state, config_dict)
    if start is not None:
        print(f"resumed {run_dir} at step {start} (epoch {start / steps_per_epoch:.2f})")
    step = int(state.step)

    def validate() -> dict:
        pred = predict_all(trainer.predict, (state.params, state.batch_stats), val_set.images, config.eval_batch)
        errors = angular_errors_deg(pred, val_set.quats)
        return {"val_mean_deg": float(errors.mean()), "val_median_deg": float(np.median(errors)),
                "val_p95_deg": float(np.percentile(errors, 95))}  # fmt: skip

    def checkpoint() -> None:
        ckpt.save(step, state, config_dict)
        model_io.save(run_dir / "model", config.model, state.params, state.batch_stats, {"step": step})

    bar = tqdm(total=total, initial=step, desc="vision steps", unit="step", disable=not progress, dynamic_ncols=True)
    window: list[dict] = []
    t_last = time.perf_counter()
    with runs.sigterm_as_interrupt():
        try:
            order = epoch_order(data_key, step // steps_per_epoch, len(train_set))
            while step < end:
                epoch, i = divmod(step, steps_per_epoch)
                rows = np.sort(order[i * b : (i + 1) * b])
                state, metrics = trainer.step(state, train_set.images[rows], train_set.quats[rows])
                window.append(metrics)
                step += 1
                bar.update(1)
                epoch_done = step % steps_per_epoch == 0
                if step % config.log_every == 0 or epoch_done or step == end:
                    means = {k: float(np.mean([float(m[k]) for m in window])) for k in window[0]}
                    now = time.perf_counter()
                    elapsed, dt, t_last = elapsed + now - t_last, now - t_last, now
                    row = {"update": step, "epoch": round(step / steps_per_epoch, 3), "wall_s": round(elapsed, 2),
                           "images_per_s": round(len(window) * b / dt, 1), **means}  # fmt: skip
                    if epoch_done:
                        row.update(validate())
                        t_last = time.perf_counter()  # validation time is not training throughput
                    log.write(row)
                    bar.set_postfix(loss=f"{means['loss']:.4f}", med=f"{means['train_median_deg']:.2f}")
                    window = []
                if epoch_done or step == end:
                    checkpoint()
                    if epoch_done and step < end:
                        order = epoch_order(data_key, epoch + 1, len(train_set))
        except KeyboardInterrupt:
            bar.close()
            if ckpt.latest_step() != step:
                checkpoint()
            print(f"\ninterrupted: saved step {step}; rerun with --run {run_dir} to resume")
            raise
        finally:
            bar.close()
            ckpt.close()
            runs.plot_curves(log.read(), CURVE_KEYS, run_dir / "learning_curve.png", x_key="epoch")
    return trainer, state, total
