"""``test_box``: a test-only profile that proves the profile machinery.

It is ``cube`` with a few constants changed, each one read by a different consumer:
a smaller, lighter box (the MJX model, the render, the asset), a closer camera at a
smaller resolution (the render, the CNN's input, the pose ONNX shape), a shorter
episode (the env, the evaluation) and its own output folder. Tests train nothing
meaningful on it; they check that each consumer follows the profile it is given.
"""

from __future__ import annotations

import dataclasses

from orient_jax.profiles import cube

PROFILE = dataclasses.replace(
    cube.PROFILE,
    name="test_box",
    physics=dataclasses.replace(cube.PHYSICS, box_size=0.15, box_mass=0.2, drop_height=0.3),
    actuation=dataclasses.replace(cube.PROFILE.actuation, episode_seconds=2.0),
    success=dataclasses.replace(cube.PROFILE.success, within_seconds=2.0),
    camera=dataclasses.replace(cube.PROFILE.camera, distance=0.45, resolution=96),
    artifacts=dataclasses.replace(cube.PROFILE.artifacts, export_dir="runs/export/test_box"),
)
