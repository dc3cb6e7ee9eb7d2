"""Render configs: frozen dataclasses, named presets, ``a.b=value`` overrides.

Only what changes the pixels or labels, or what the label check accepts, lives in a
config (and so in its hash); how the work is spread (workers, threads, index range) is a command-line matter and
never changes the result. The camera, box size and image size come from the task
profile (``orient_jax.profiles``, chosen with ``--task``) and are not repeated here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from orient_jax.core.dataclass_config import apply_overrides, from_dict, to_dict  # noqa: F401  (used as render.config.*)

Range = tuple[float, float]


@dataclasses.dataclass(frozen=True)
class CommonRandomization:
    """What both object kinds randomize alike, and the one set of checks of either kind's
    randomization: the camera's jitter around the profile's camera (``render.sampling.sample_camera``),
    the light colour, the background, the material's gloss and the sensor. Each kind's
    randomization derives from this and gives its own values to the fields without a
    default here. The fields serialise flat, beside the kind's own (``dr.<name>``)."""

    # Light colour: each RGB channel scaled by U[1 - jitter, 1], then renormalized so
    # that the brightest channel is 1 (tints from warm to cool, never dark).
    light_color_jitter: float
    # Background: the profile's background (white) times U[background_min, 1] per channel,
    # in display (sRGB) values.
    background_min: float
    roughness: Range  # Principled BSDF roughness, one per image
    specular: Range  # Principled BSDF "Specular IOR Level", one per image
    blur_sigma: Range  # px, the sensor's blur (see blur_prob)
    # Camera: small jitter around the profile's camera.
    camera_target_jitter: float  # m, per axis, where the camera points
    camera_distance_jitter: float = 0.04  # relative
    camera_angle_jitter_deg: float = 3.0  # elevation and azimuth, each +-
    camera_roll_deg: float = 3.0  # +-
    fov_jitter_deg: float = 1.0  # +-
    # Sensor: Gaussian blur (applied with probability blur_prob) then Gaussian noise,
    # both in display space; noise sigma in 8-bit units.
    blur_prob: float = 0.5
    noise_sigma: Range = (0.0, 4.0)  # 8-bit levels
    # Drawn after everything above (``render.sampling.sample_sensor``); their defaults change
    # nothing, so the training presets leave them there and the shift suite (``render.shifts``)
    # moves them. The background's brightness: its colour x U[range], all channels alike.
    background_brightness: Range = (1.0, 1.0)
    # A texture behind the object: the background x (1 + a x smooth noise in [-1, 1]), a ~ U[range]
    # per image (0: plain). Two octaves of value noise (4 and 16 cells across), per channel.
    background_texture: Range = (0.0, 0.0)
    # Exposure: the composited frame x U[range] before blur and noise, saturating at 255.
    exposure: Range = (1.0, 1.0)
    # JPEG: with probability jpeg_prob the finished frame is JPEG-coded (Pillow, 4:2:0) at a
    # quality drawn uniformly from jpeg_quality (whole numbers, both ends included).
    jpeg_prob: float = 0.0
    jpeg_quality: tuple[int, int] = (75, 95)

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple) and not value[0] <= value[1]:
                raise ValueError(f"dr.{f.name} must be a range (low, high) with low <= high, got {value}")
        if not all(0.0 <= v <= 1.0 for v in (self.background_min, self.blur_prob, self.jpeg_prob)):
            raise ValueError("dr.background_min, dr.blur_prob and dr.jpeg_prob must be in [0, 1]")
        if self.background_brightness[0] < 0 or self.background_texture[0] < 0 or self.exposure[0] <= 0:
            raise ValueError("dr.background_brightness and dr.background_texture must be >= 0, dr.exposure > 0")
        if not 1 <= self.jpeg_quality[0] <= self.jpeg_quality[1] <= 100:
            raise ValueError(f"dr.jpeg_quality must be a range of qualities in [1, 100], got {self.jpeg_quality}")
        if self.blur_sigma[0] < 0 or self.noise_sigma[0] < 0:
            raise ValueError("dr.blur_sigma and dr.noise_sigma must be >= 0")
        if self.blur_sigma[1] > 2.5:
            raise ValueError("dr.blur_sigma must be at most 2.5 px (the blur kernel is cut at 3 sigma <= 7 px)")


# The randomization's fields by what they change, for ``wide_prob`` (a mix of shifted groups) and
# the shift suite's groups (``render.shifts``). A field of neither kind is in no group: it never
# comes from ``wide``.
GROUPS: dict[str, tuple[str, ...]] = {
    "lights": ("key_elevation_deg", "key_azimuth_deg", "key_strength", "fill_elevation_deg",
               "fill_azimuth_offset_deg", "fill_strength", "light_color_jitter", "sky_strength", "ground_fraction",
               "ambient_color_jitter", "light_position_jitter", "light_power"),
    "background": ("background_min", "background_brightness", "background_texture"),
    "object": ("hue_jitter", "saturation_jitter", "value_jitter", "roughness", "specular", "albedo"),
    "sensor": ("blur_sigma", "blur_prob", "noise_sigma", "exposure", "jpeg_prob", "jpeg_quality"),
    "camera": ("camera_target_jitter", "camera_distance_jitter", "camera_angle_jitter_deg", "camera_roll_deg",
               "fov_jitter_deg"),
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Randomization(CommonRandomization):
    """Domain randomization of the procedural cube: each image draws every quantity
    uniformly from its range (the shared ones are described in ``CommonRandomization``).

    Lights are modelled on what Three.js offers, so the browser's scene sits inside
    the training distribution: two directional lights ("key" and "fill", Blender sun
    lamps with hard shadows) and a hemisphere ambient term (sky colour for normals
    pointing up, ground colour for normals pointing down, blended linearly by
    ``0.5 * n_y + 0.5``), as in Three.js's ``HemisphereLight``.
    """

    # Key light: direction *towards* the light; elevation above the horizontal
    # plane, azimuth about world +Y measured from the camera's azimuth.
    key_elevation_deg: Range = (10.0, 80.0)
    key_azimuth_deg: Range = (-110.0, 110.0)
    key_strength: Range = (1.5, 4.5)  # Blender sun strength, W/m^2
    # Fill light: azimuth offset from the key's; usually from the other side.
    fill_elevation_deg: Range = (-30.0, 60.0)
    fill_azimuth_offset_deg: Range = (120.0, 240.0)
    fill_strength: Range = (0.0, 1.5)
    light_color_jitter: float = 0.15
    sky_strength: Range = (0.1, 0.5)  # hemisphere ambient, radiance scale, linear
    ground_fraction: Range = (0.2, 0.8)  # ground colour = sky colour * this
    ambient_color_jitter: float = 0.1
    background_min: float = 0.9
    # Material: per face, hue shift (fraction of the colour wheel), and saturation and
    # value multipliers; one roughness and specular level per image.
    hue_jitter: float = 0.02
    saturation_jitter: float = 0.12
    value_jitter: float = 0.15
    roughness: Range = (0.35, 1.0)
    specular: Range = (0.1, 0.6)
    camera_target_jitter: float = 0.012
    blur_sigma: Range = (0.3, 1.2)


@dataclasses.dataclass(frozen=True)
class RenderConfig:
    """Everything that defines a dataset's pixels and labels."""

    preset: str = "quick"
    count: int = 4096  # images, indices [0, count)
    seed: int = 0
    shard_size: int = 256  # images per shard file; the unit of resume and of --start/--stop
    # Cycles samples per pixel. The shading is noise-free (see render.scene), so they
    # only anti-alias -- but each sample lights a pixel with one of the two lamps, and
    # only a power of two splits them evenly. 2 is the speed/quality trade-off
    # measured in docs/dataset.md; 4 renders smoother edges at ~60% of the speed.
    samples: int = 2
    pixel_filter_width: float = 1.5  # px, Blackman-Harris
    dr: Randomization = Randomization()
    # A second, wider randomization: per image, each group of fields (``GROUPS``) comes from
    # ``wide`` instead of ``dr`` with probability ``wide_prob`` (0: never, ``wide`` unused), so
    # a set mixes the training look with one, two, ... groups shifted beyond it.
    wide: Randomization = Randomization()
    wide_prob: float = 0.0
    # The fraction of the label check's colour checks that may fail, never a silhouette
    # (``render.label_check.LabelReport.passes``): 0 for sets that look like the training
    # sets; a set whose look is shifted beyond what those checks assume allows a little.
    label_check_tolerance: float = 0.0

    def __post_init__(self):
        if self.count <= 0 or self.shard_size <= 0:
            raise ValueError("count and shard_size must be positive")
        if not 0.0 <= self.wide_prob <= 1.0:
            raise ValueError(f"wide_prob must be in [0, 1], got {self.wide_prob}")
        if not 0.0 <= self.label_check_tolerance <= 0.05:
            raise ValueError(f"label_check_tolerance must be in [0, 0.05], got {self.label_check_tolerance}")
        if self.samples < 2 or self.samples & (self.samples - 1):
            raise ValueError(
                f"samples must be a power of two >= 2 (each sample picks one of two lamps), got {self.samples}"
            )
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be in [0, 2**63), got {self.seed}")

    @property
    def num_shards(self) -> int:
        return -(-self.count // self.shard_size)

    def shard_range(self, shard: int) -> tuple[int, int]:
        """Image indices ``[start, stop)`` of one shard."""
        start = shard * self.shard_size
        return start, min(start + self.shard_size, self.count)


@dataclasses.dataclass(frozen=True)
class MeshRandomization(CommonRandomization):
    """Domain randomization for a runtime's own mesh, lit by the profile's point lights
    (``runtime.point_lights``): each image draws every quantity uniformly from its range
    (the shared ones are described in ``CommonRandomization``)."""

    light_position_jitter: float = 0.4  # m, per axis, around each light's position
    light_power: Range = (0.7, 1.35)  # x the power that matches the runtime's light at the object
    light_color_jitter: float = 0.08
    # Blender point lamps cast no shadows (the runtime's inference renderer has its shadow
    # map off) and have no size: the runtime's are points.
    background_min: float = 0.92
    albedo: Range = (0.8, 1.25)  # the textures' base colour x this (one factor per image)
    roughness: Range = (0.35, 0.7)  # the runtime's material says 0.5
    specular: Range = (0.3, 0.7)  # 0.5 is Three.js's F0 = 0.04
    camera_target_jitter: float = 0.05
    blur_sigma: Range = (0.3, 1.0)


@dataclasses.dataclass(frozen=True)
class MeshRenderConfig:
    """Everything that defines the pixels and labels of a dataset of a runtime's mesh
    (a profile whose object is ``runtime_mesh``); fields as in ``RenderConfig``."""

    preset: str = "original"
    count: int = 23040
    seed: int = 0
    shard_size: int = 256
    samples: int = 4  # textured and specular: 4 samples (2 left visible speckle on the highlights)
    pixel_filter_width: float = 1.5
    dr: MeshRandomization = MeshRandomization()
    wide: MeshRandomization = MeshRandomization()
    wide_prob: float = 0.0
    label_check_tolerance: float = 0.0  # a mesh's check is its silhouette only: nothing to tolerate

    __post_init__ = RenderConfig.__post_init__
    num_shards = RenderConfig.num_shards
    shard_range = RenderConfig.shard_range


# Every range of the cube's training randomization widened beyond the shift suite's sets
# (render/shifts.py): lights from any side, dim to bright, strongly tinted; the background
# tinted, dimmed and textured; face colours and gloss varied further; more blur and noise, an
# exposure error and JPEG coding; the camera jittered more (docs/vision.md, "Under shift").
WIDE = Randomization(
    key_elevation_deg=(-45.0, 85.0),
    key_azimuth_deg=(-180.0, 180.0),
    key_strength=(0.4, 8.5),
    fill_strength=(0.0, 2.5),
    light_color_jitter=0.55,
    sky_strength=(0.02, 0.9),
    ambient_color_jitter=0.45,
    background_min=0.25,
    background_brightness=(0.1, 1.0),
    background_texture=(0.0, 0.7),
    hue_jitter=0.06,
    saturation_jitter=0.4,
    value_jitter=0.4,
    roughness=(0.03, 1.0),
    specular=(0.05, 1.0),
    blur_sigma=(0.3, 2.5),
    blur_prob=0.6,
    noise_sigma=(0.0, 16.0),
    exposure=(0.45, 1.8),
    jpeg_prob=0.35,
    jpeg_quality=(10, 95),
    camera_angle_jitter_deg=10.0,
    camera_roll_deg=10.0,
    camera_distance_jitter=0.14,
    camera_target_jitter=0.045,
    fov_jitter_deg=5.0,
)


PRESETS: dict[str, RenderConfig | MeshRenderConfig] = {
    # For tests: four shards, so resume and range merges have something to split.
    "tiny": RenderConfig(preset="tiny", count=32, shard_size=8),
    # The demo: a CNN trains on it in minutes on a CPU.
    "quick": RenderConfig(preset="quick", count=4096),
    # The full set: 90 shards of 256.
    "full": RenderConfig(preset="full", count=23040),
    # Held out for the orientation CNN: a seed no training set uses, seen through the
    # browser's camera exactly (no camera jitter; lights, materials and sensor still
    # randomized), so an error measured on it is the error the browser sees.
    "test": RenderConfig(
        preset="test",
        count=2048,
        seed=1,
        dr=Randomization(
            camera_distance_jitter=0.0,
            camera_angle_jitter_deg=0.0,
            camera_roll_deg=0.0,
            camera_target_jitter=0.0,
            fov_jitter_deg=0.0,
        ),
    ),
    # Training renders that cover the shift suite (render/shifts.py) and go beyond it: every
    # range of `full` widened, the background dimmed, tinted and textured, the frame's
    # exposure and JPEG coding varied, and the camera jittered more (docs/vision.md, "Under
    # shift"). Seed 2: no other set uses it.
    "wide": RenderConfig(
        preset="wide",
        count=23040,
        seed=2,
        label_check_tolerance=0.05,  # dim, tinted, glossy faces fail some colour checks (4.7 % of 56,451)
        dr=WIDE,
    ),
    # The training look mixed with `wide`'s: per image, each group of fields (lights, background,
    # object, sensor, camera) from `wide` with probability 0.35, so 12 % of the images look like
    # `full`, 31 % have one group shifted, 33 % two, 24 % three or more. Seed 3.
    "wide-mix": RenderConfig(
        preset="wide-mix", count=23040, seed=3, wide=WIDE, wide_prob=0.35, label_check_tolerance=0.05
    ),
}


# The `original` profile's motor (its runtime's engine.glb): the training set, a held-out
# set through the page's own camera (seed 1, no camera jitter), and a tiny set for tests.
_NO_CAMERA_JITTER = {
    "camera_distance_jitter": 0.0, "camera_angle_jitter_deg": 0.0, "camera_roll_deg": 0.0,
    "camera_target_jitter": 0.0, "fov_jitter_deg": 0.0,
}  # fmt: skip
PRESETS.update({
    "original": MeshRenderConfig(preset="original", count=23040),
    "original-quick": MeshRenderConfig(preset="original-quick", count=4096),
    "original-test": MeshRenderConfig(preset="original-test", count=2048, seed=1,
                                      dr=MeshRandomization(**_NO_CAMERA_JITTER)),
    "original-tiny": MeshRenderConfig(preset="original-tiny", count=16, shard_size=8),
    # `make original` (experiments/original.py): 20,480 renders (the full set's 23,040 less a
    # ninth) for a CNN that starts from the cube CNN's weights, and half the held-out set for
    # its error model. A quarter of the set (6,144) left the CNN at 6.5 deg median and 17 deg
    # p95 on the page's frames, failing the pose goal (docs/original_runtime.md).
    "original-pipeline": MeshRenderConfig(preset="original-pipeline", count=20480),
    "original-pipeline-test": MeshRenderConfig(preset="original-pipeline-test", count=1024, seed=1,
                                               dr=MeshRandomization(**_NO_CAMERA_JITTER)),
    "original-tiny-test": MeshRenderConfig(preset="original-tiny-test", count=16, shard_size=8, seed=1,
                                           dr=MeshRandomization(**_NO_CAMERA_JITTER)),
})  # fmt: skip


def config_class(spec) -> type:
    """The config type of the profile's object kind (``artifacts.object_kind``)."""
    return MeshRenderConfig if spec.artifacts.object_kind == "runtime_mesh" else RenderConfig


def get_preset(name: str) -> RenderConfig | MeshRenderConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown render preset {name!r}; choose from {', '.join(sorted(PRESETS))}")
    return PRESETS[name]


def config_hash(identity: dict) -> str:
    """A short, stable hash of everything that defines a dataset's contents."""
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
