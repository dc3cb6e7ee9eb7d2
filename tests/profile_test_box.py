"""``test_box``: a test-only profile that proves the profile machinery.

Not one of the product's profiles: the tests register it through the registry's extension
point (``ORIENT_JAX_PROFILE_MODULES=tests.profile_test_box``, set by ``tests/conftest.py``),
so the commands the tests start (the renderer in its own venv, ``python -m
orient_jax.profiles``) see it too. Standard library only, like every profile module.

It is ``cube`` with a few constants changed, each one read by a different consumer:
a smaller, lighter box (the MJX model, the render, the asset), a closer camera at a
smaller resolution (the render, the CNN's input, the pose ONNX shape), a shorter
episode (the env, the evaluation) and its own output folder. Tests train nothing
meaningful on it; they check that each consumer follows the profile it is given.
"""

from __future__ import annotations

import dataclasses

from orient_jax import profiles

CUBE = profiles.get("cube")  # the registry answers for its own profiles while it imports this module

PROFILE = dataclasses.replace(
    CUBE,
    name="test_box",
    physics=dataclasses.replace(CUBE.physics, box_size=0.15, box_mass=0.2, drop_height=0.3),
    actuation=dataclasses.replace(CUBE.actuation, episode_seconds=2.0),
    success=dataclasses.replace(CUBE.success, within_seconds=2.0),
    camera=dataclasses.replace(CUBE.camera, distance=0.45, resolution=96),
    artifacts=dataclasses.replace(CUBE.artifacts, export_dir="runs/export/test_box"),
)
