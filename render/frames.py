"""The one place where the spec's frame meets Blender's.

The spec's world is **Y up** (Three.js / glTF); Blender's is **Z up**. The map from
spec coordinates to Blender coordinates is a proper rotation, +90 degrees about X:

    spec (x, y, z)  ->  Blender (x, -z, y)

It is the inverse of what Blender's glTF exporter applies with ``export_yup=True``
(Blender (x, y, z) -> glTF (x, z, -y)). So a mesh built here from body-frame
vertices mapped through :func:`spec_to_blender` is exported to ``object.glb`` with
its vertices back in the body frame, exactly, and an object whose Blender rotation is
:func:`quat_spec_to_blender` of a spec label looks, in the rendered image, the way
the label says (checked independently of Blender by ``render.label_check``).

Everything else in ``render/`` computes in the spec frame and crosses into Blender
only through these two functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Columns are the spec axes expressed in Blender coordinates: spec +X -> Blender +X,
# spec +Y (up) -> Blender +Z (up), spec +Z (towards the camera) -> Blender -Y.
SPEC_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def spec_to_blender(v: Sequence[float] | np.ndarray) -> np.ndarray:
    """Map spec-frame vectors ``[..., 3]`` (points or directions) to Blender's frame."""
    return np.asarray(v, dtype=np.float64) @ SPEC_TO_BLENDER.T


def quat_spec_to_blender(q_xyzw: Sequence[float]) -> tuple[float, float, float, float]:
    """A spec quaternion (x, y, z, w; body -> world) as Blender's (w, x, y, z).

    Conjugating a rotation by the proper rotation ``SPEC_TO_BLENDER`` keeps its angle
    and maps its axis like any vector, so the vector part goes through
    :func:`spec_to_blender` and the scalar part is unchanged.
    """
    x, y, z, w = (float(c) for c in q_xyzw)
    bx, by, bz = spec_to_blender((x, y, z))
    return (w, float(bx), float(by), float(bz))


def look_at_matrix(position: Sequence[float], target: Sequence[float], roll_deg: float) -> np.ndarray:
    """Camera-to-world rotation ``[3, 3]`` in the spec frame.

    Columns are the camera's right, up and backward axes (a camera looks along its
    local -Z with local +Y up, in Blender and Three.js alike). World +Y is up; the
    camera is then rolled by ``roll_deg`` about its viewing axis: positive turns the
    camera anticlockwise as seen from behind it, so the image content turns clockwise.
    """
    position, target = np.asarray(position, float), np.asarray(target, float)
    back = position - target
    back /= np.linalg.norm(back)
    right = np.cross([0.0, 1.0, 0.0], back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    roll = np.radians(roll_deg)
    right, up = np.cos(roll) * right + np.sin(roll) * up, -np.sin(roll) * right + np.cos(roll) * up
    return np.stack([right, up, back], axis=1)
