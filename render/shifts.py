"""The shift suite: held-out render sets that each change one thing beyond the training range.

A pose model that only works on its own training distribution is a toy. Each shift here is
one named override of a held-out preset (the object kind's ``test`` preset: the browser's
camera exactly, everything else randomized as in training), with a seed no training set
uses, so a model can be scored with one thing changed at a time:
``python -m experiments.evaluate vision --shift-suite`` renders the sets it lacks and
scores a model on every one (``docs/vision.md``, "Under shift").

The overrides are the renderer's own config fields (``render/config.py``), as
``dr.<field>=<value>`` arguments of ``python -m render render``, so any set can be rendered
by hand too. Standard library only: both venvs import it.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Shift:
    name: str
    group: str  # lights, background, object, sensor, camera, or none (in distribution)
    what: str  # one line a reader understands without render/config.py
    seed: int  # of its renders: no training or test preset uses it
    overrides: tuple[str, ...]  # on top of the kind's held-out preset


# What both object kinds shift alike: the background, the sensor and the camera.
_COMMON = (
    Shift("background-colour", "background", "strongly tinted background (each channel x U[0.3, 1]; training 0.9)",
          105, ("dr.background_min=0.3",)),
    Shift("background-dark", "background", "dark background (x U[0.15, 0.5]; training: white, tinted <= 10 %)",
          106, ("dr.background_brightness=0.15,0.5",)),
    Shift("background-texture", "background", "textured background: smooth noise of amplitude U[0.3, 0.6]",
          107, ("dr.background_texture=0.3,0.6",)),
    Shift("sensor-blur", "sensor", "every frame blurred, sigma U[1.2, 2.5] px (training: half, 0.3-1.2)",
          110, ("dr.blur_sigma=1.2,2.5", "dr.blur_prob=1")),
    Shift("sensor-noise", "sensor", "sensor noise sigma U[6, 14] levels (training 0-4)",
          111, ("dr.noise_sigma=6,14",)),
    Shift("sensor-jpeg", "sensor", "JPEG-coded at quality 15-50 (training: never)",
          112, ("dr.jpeg_prob=1", "dr.jpeg_quality=15,50")),
    Shift("sensor-exposure", "sensor", "exposure x U[0.5, 1.7], saturating (training: x 0.85-1.15 augmentation)",
          113, ("dr.exposure=0.5,1.7",)),
    Shift("camera", "camera", "camera jitter beyond training: +-8 deg angles and roll, +-12 % distance, "
          "4 cm aim, +-4 deg field of view (training 3 deg, 4 %, 1.2 cm, 1 deg)",
          114, ("dr.camera_angle_jitter_deg=8", "dr.camera_roll_deg=8", "dr.camera_distance_jitter=0.12",
                "dr.camera_target_jitter=0.04", "dr.fov_jitter_deg=4")),
)  # fmt: skip

_NONE = Shift("none", "none", "in distribution: the held-out preset itself, another seed", 100, ())

# The procedural cube: two sun lamps and a hemisphere ambient term, six coloured faces.
CUBE = (
    _NONE,
    Shift("light-dim", "lights", "dim lights: key 0.5-1.5, fill 0-0.5, ambient 0.03-0.1 (training 1.5-4.5, 0-1.5, "
          "0.1-0.5)", 101, ("dr.key_strength=0.5,1.5", "dr.fill_strength=0,0.5", "dr.sky_strength=0.03,0.1")),
    Shift("light-bright", "lights", "bright lights: key 4.5-8, fill 1-2.5, ambient 0.5-0.9", 102,
          ("dr.key_strength=4.5,8", "dr.fill_strength=1,2.5", "dr.sky_strength=0.5,0.9")),
    Shift("light-colour", "lights", "coloured lights: each lamp's channels x U[0.5, 1], the ambient's x U[0.6, 1] "
          "(training 0.85, 0.9)",
          103, ("dr.light_color_jitter=0.5", "dr.ambient_color_jitter=0.4")),
    Shift("light-direction", "lights", "key light from behind and below: azimuth 110-250 deg from the camera's, "
          "elevation -40-10 (training -110-110, 10-80)", 104,
          ("dr.key_azimuth_deg=110,250", "dr.key_elevation_deg=-40,10")),
    *_COMMON[:3],
    Shift("object-colour", "object", "face colours: hue +-0.05, saturation and value x U[0.65, 1.35] "
          "(training +-0.02, 0.12, 0.15)", 108,
          ("dr.hue_jitter=0.05", "dr.saturation_jitter=0.35", "dr.value_jitter=0.35")),
    Shift("object-material", "object", "glossy: roughness 0.05-0.35, specular 0.6-1.0 (training 0.35-1, 0.1-0.6)",
          109, ("dr.roughness=0.05,0.35", "dr.specular=0.6,1")),
    *_COMMON[3:],
)  # fmt: skip

# A runtime's own textured mesh, lit by its page's point lights.
MESH = (
    _NONE,
    Shift("light-dim", "lights", "dim lights: power x U[0.3, 0.7] (training 0.7-1.35)", 101,
          ("dr.light_power=0.3,0.7",)),
    Shift("light-bright", "lights", "bright lights: power x U[1.35, 2.5]", 102, ("dr.light_power=1.35,2.5",)),
    Shift("light-colour", "lights", "coloured lights: each channel x U[0.5, 1] (training 0.92)", 103,
          ("dr.light_color_jitter=0.5",)),
    Shift("light-direction", "lights", "lights moved up to 1.5 m per axis (training 0.4)", 104,
          ("dr.light_position_jitter=1.5",)),
    *_COMMON[:3],
    Shift("object-colour", "object", "albedo x U[0.5, 1.6] (training 0.8-1.25)", 108, ("dr.albedo=0.5,1.6",)),
    Shift("object-material", "object", "glossy: roughness 0.05-0.3, specular 0.7-1.0 (training 0.35-0.7, 0.3-0.7)",
          109, ("dr.roughness=0.05,0.3", "dr.specular=0.7,1")),
    *_COMMON[3:],
)  # fmt: skip

# Per object kind (``artifacts.object_kind``): the held-out preset the shifts start from, and the shifts.
SUITES: dict[str, tuple[str, tuple[Shift, ...]]] = {
    "marked_cube": ("test", CUBE),
    "runtime_mesh": ("original-test", MESH),
}


def suite(object_kind: str) -> tuple[str, tuple[Shift, ...]]:
    """The held-out preset and the shifts of an object kind."""
    if object_kind not in SUITES:
        raise ValueError(f"no shift suite for object kind {object_kind!r}; there is one for {', '.join(SUITES)}")
    return SUITES[object_kind]


def select(shifts: tuple[Shift, ...], names: list[str] | None) -> tuple[Shift, ...]:
    """The named shifts, in the suite's order (``None``: all); an unknown name is an error listing them."""
    if not names:
        return shifts
    known = {s.name for s in shifts}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown shift(s) {', '.join(unknown)}; the suite has {', '.join(s.name for s in shifts)}")
    return tuple(s for s in shifts if s.name in names)


# The renderer's label check proves every label by its silhouette, and the cube's by the colours
# of its faces and discs too; those colour checks assume the training sets' look, and a dim
# light or a coloured one fails a few of them on right labels (1 of 1,400 in light-dim). A
# wrong label fails them on almost every image, so the suite's sets let 1 % of them fail
# (``label_check_tolerance``, a field of the render config like the others).
LABEL_CHECK_TOLERANCE = 0.01


def render_arguments(preset: str, shift: Shift, count: int) -> list[str]:
    """``python -m render render`` arguments after ``--out``: the preset and every override."""
    return ["--preset", preset, f"count={count}", f"seed={shift.seed}",
            f"label_check_tolerance={LABEL_CHECK_TOLERANCE}", *shift.overrides]  # fmt: skip
