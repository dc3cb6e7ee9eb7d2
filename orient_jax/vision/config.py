"""The orientation CNN's experiment config (frozen; presets in ``experiments/configs/vision.py``)."""

from __future__ import annotations

import dataclasses

from orient_jax import profiles
from orient_jax.profiles.spec import TaskSpec
from orient_jax.vision.data import Augmentation
from orient_jax.vision.model import ModelConfig


@dataclasses.dataclass(frozen=True)
class VisionExperiment:
    task: str = "cube"  # the task profile (orient_jax.profiles): camera, image contract, dataset check
    seed: int = 0
    data: str = "data/full"  # training renders; validation is their last val_count images
    val_count: int = 1024
    test_data: str = "data/test"  # held-out renders (their own seed), for the final eval
    model: ModelConfig = ModelConfig()
    init_from: str = ""  # a model folder or vision run to start from (fine-tuning); "" = random init
    augmentation: Augmentation = Augmentation()
    batch_size: int = 64
    epochs: int = 40
    learning_rate: float = 2e-3  # peak of a warmup + cosine schedule
    warmup_steps: int = 500
    final_lr_fraction: float = 0.01
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    log_every: int = 50  # steps between metrics rows
    eval_batch: int = 256
    keep_checkpoints: int = 2

    def __post_init__(self):
        profiles.get(self.task)  # an unknown profile says which exist
        positive = ("batch_size", "epochs", "log_every", "eval_batch", "keep_checkpoints")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.learning_rate <= 0 or self.weight_decay < 0 or self.grad_clip <= 0 or self.warmup_steps < 0:
            raise ValueError("learning_rate and grad_clip must be > 0, weight_decay and warmup_steps >= 0")
        if not 0 <= self.final_lr_fraction <= 1:
            raise ValueError(f"final_lr_fraction must be in [0, 1], got {self.final_lr_fraction}")
        if self.val_count <= 0:
            raise ValueError(f"val_count must be positive, got {self.val_count}")

    @property
    def spec(self) -> TaskSpec:
        return profiles.get(self.task)
