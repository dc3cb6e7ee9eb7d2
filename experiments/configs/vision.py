"""Orientation-CNN presets. Pick one with ``--config NAME``; override fields with
``section.key=value`` arguments (e.g. ``epochs=10 model.hidden=128``)."""

from __future__ import annotations

import dataclasses

from experiments.configs import Presets
from orient_jax.vision.config import VisionExperiment
from orient_jax.vision.data import Augmentation
from orient_jax.vision.model import ModelConfig

PRESETS = Presets(
    "vision",
    {
        # The 2-core CPU machine: 130-195 images/s, ~140 s per epoch of data/full, 70 minutes (measured).
        "cpu": lambda: VisionExperiment(epochs=30),
        # `make demo` (experiments/demo.py): the quick render set, sized so the whole pipeline
        # fits 30 minutes on the 2-core CPU. Held out: data/test, as for the other presets.
        "demo": lambda: VisionExperiment(data="data/quick", val_count=256, epochs=16, warmup_steps=100, log_every=20),
        # The CNN that holds under shift (docs/vision.md, "Under shift"): the cpu preset's weights
        # (models/pose) fine-tuned on the `wide` renders (every randomization of `full` widened
        # beyond the shift suite's sets), with stronger photometric augmentation. Held out: data/test.
        "wide": lambda: VisionExperiment(
            data="data/wide",
            init_from="models/pose",
            epochs=8,
            learning_rate=1e-3,
            warmup_steps=200,
            augmentation=Augmentation(exposure=0.2, contrast=0.2, white_balance=0.1, noise_sigma=4.0),
        ),
        # The same on the `wide-mix` renders: the training look with one or more groups (lights,
        # background, object, sensor, camera) shifted as in `wide`, each with probability 0.35.
        "wide_mix": lambda: dataclasses.replace(PRESETS.get("wide"), data="data/wide-mix", learning_rate=5e-4),
        # One GPU: a wider network, bigger batches and more epochs over the same renders.
        "gpu": lambda: VisionExperiment(
            model=ModelConfig(widths=(32, 64, 128, 256), blocks=(0, 1, 1, 1), hidden=512),
            batch_size=128,
            epochs=120,
            learning_rate=3e-3,
            eval_batch=1024,
        ),
        # The original runtime's motor (task profile `original`): its renders through the page's
        # camera and lights (make data TASK=original PRESET=original RUNTIME_DIR=...), the cpu
        # preset's network over 20 epochs (~47 min on the 2-core machine; the cpu preset's 30 took
        # 70). Held out: data/original-test (seed 1, the page's camera).
        "original": lambda: VisionExperiment(
            task="original", data="data/original", test_data="data/original-test", epochs=20
        ),
        # `make original` (experiments/original.py): the cube CNN's weights (models/pose, the
        # same network and image size) fine-tuned on 20,480 renders of the motor for 16 epochs
        # (4 epochs on 6,144 renders: 23.6 deg validation median from these weights, 43.1 deg
        # from a random start).
        "original_pipeline": lambda: VisionExperiment(
            task="original",
            data="data/original-pipeline",
            test_data="data/original-pipeline-test",
            val_count=512,
            init_from="models/pose",
            epochs=16,
            warmup_steps=100,
            log_every=20,
        ),
    },
    gpu={"gpu"},  # the train command refuses it on the CPU without --allow-cpu
)
