"""Per-image random draws: the label and every domain-randomization parameter.

Image ``i`` of a dataset with seed ``s`` draws everything from its own generator,
``SeedSequence(s, spawn_key=(i,))``, so an image depends only on (config, i): not on
the worker that renders it, the order, or how the index range was split.

Everything is in the task profile's world frame (Y up, camera on the +Z side at azimuth 0).
"""

from __future__ import annotations

import colorsys
import dataclasses
import math

import numpy as np

from orient_jax.profiles.spec import Camera
from render import asset
from render.config import GROUPS, CommonRandomization, RenderConfig

# Every per-image parameter, its shape (after the image axis) and its meaning. The
# renderer stores them all in each shard as ``param_<name>`` (float64 unless noted).
PARAMS: dict[str, tuple[tuple[int, ...], str]] = {
    "cam_position": ((3,), "camera position, world frame, m"),
    "cam_target": ((3,), "point the camera looks at, world frame, m (the box centre is the origin)"),
    "cam_roll_deg": ((), "roll about the viewing axis, deg; + turns the camera anticlockwise seen from behind"),
    "cam_fov_deg": ((), "vertical field of view, deg"),
    "key_direction": ((3,), "unit vector towards the key light (parallel rays), world frame"),
    "key_rgb": ((3,), "key light colour, linear, brightest channel 1"),
    "key_strength": ((), "key light irradiance (Blender sun strength), W/m^2"),
    "fill_direction": ((3,), "unit vector towards the fill light, world frame"),
    "fill_rgb": ((3,), "fill light colour, linear"),
    "fill_strength": ((), "fill light irradiance, W/m^2"),
    "sky_rgb": ((3,), "hemisphere ambient for normals along world +Y, linear radiance scale"),
    "ground_rgb": ((3,), "hemisphere ambient for normals along world -Y"),
    "background_rgb": ((3,), "background colour, display (sRGB) values in [0, 1]"),
    "face_rgb": ((6, 3), "base colour per face (+X,-X,+Y,-Y,+Z,-Z), linear"),
    "roughness": ((), "Principled BSDF roughness, all faces"),
    "specular": ((), "Principled BSDF specular IOR level, all faces"),
    "blur_sigma": ((), "Gaussian blur sigma, px (0 = none)"),
    "noise_sigma": ((), "Gaussian sensor noise sigma, 8-bit levels"),
    "cycles_seed": ((), "Cycles sampling seed (int64)"),
    "background_texture": ((), "amplitude of the background's texture (0 = plain; render.postprocess.background)"),
    "exposure": ((), "the frame's exposure factor, before blur and noise (1 = as rendered)"),
    "jpeg_quality": ((), "JPEG quality the finished frame was coded at (int64; 0 = not JPEG-coded)"),
    "wide_groups": ((), "groups of render.config.GROUPS drawn from the config's `wide` (int64 bit mask; 0 = none)"),
    "bbox": ((4,), "object silhouette bounds from the render's alpha: x0, y0, x1, y1 in px, exclusive (int64)"),
}


def child_generator(seed: int, index: int, child: int) -> np.random.Generator:
    """Image ``index``'s generator number ``child``: ``SeedSequence(seed, spawn_key=(index,))``'s
    child, so each is independent of the others and adding one changes no draw of the rest.
    0: scene parameters, 1: sensor noise, 2: the background's texture, 3: the ``wide`` groups."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(index, child))))


def image_generators(seed: int, index: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Two independent generators for image ``index``: scene parameters, sensor noise."""
    return child_generator(seed, index, 0), child_generator(seed, index, 1)


def image_randomization(config, index: int) -> tuple[CommonRandomization, int]:
    """Image ``index``'s randomization and which groups of it come from ``config.wide``: each
    group of ``GROUPS`` independently with probability ``config.wide_prob``, drawn from the
    image's fourth generator, so the other draws are the same whatever the mix. Returns
    ``(randomization, bit mask in GROUPS order)``."""
    if config.wide_prob == 0.0:
        return config.dr, 0
    rng = child_generator(config.seed, index, 3)
    chosen = rng.random(len(GROUPS)) < config.wide_prob
    fields = {f.name for f in dataclasses.fields(config.dr)}
    changes = {name: getattr(config.wide, name) for group, pick in zip(GROUPS.values(), chosen) if pick
               for name in group if name in fields}  # fmt: skip
    return dataclasses.replace(config.dr, **changes), int(sum(1 << i for i, pick in enumerate(chosen) if pick))


def uniform_quaternion(rng: np.random.Generator) -> np.ndarray:
    """A uniformly distributed (Haar) rotation, as a unit quaternion (x, y, z, w) with w >= 0.

    Shoemake's subgroup algorithm ("Uniform random rotations", Graphics Gems III,
    1992): with u1, u2, u3 ~ U[0, 1), the quaternion
    (sqrt(1-u1) sin 2pi u2, sqrt(1-u1) cos 2pi u2, sqrt(u1) sin 2pi u3, sqrt(u1) cos 2pi u3)
    is uniform on the unit 3-sphere, hence its rotation is uniform on SO(3). q and -q
    are the same rotation; the sign with w >= 0 is kept.
    """
    u1, u2, u3 = rng.random(3)
    a, b = math.sqrt(1.0 - u1), math.sqrt(u1)
    q = np.array([a * math.sin(2 * math.pi * u2), a * math.cos(2 * math.pi * u2),
                  b * math.sin(2 * math.pi * u3), b * math.cos(2 * math.pi * u3)])  # fmt: skip
    return -q if q[3] < 0 else q


def _direction(elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """Unit vector at this elevation above the horizontal plane and azimuth about +Y (0 = +Z)."""
    el, az = math.radians(elevation_deg), math.radians(azimuth_deg)
    return np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])


def _tint(rng: np.random.Generator, jitter: float) -> np.ndarray:
    rgb = 1.0 - jitter * rng.random(3)
    return rgb / rgb.max()


def _jitter_colour(rng: np.random.Generator, rgb: np.ndarray, dr) -> np.ndarray:
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    h = (h + rng.uniform(-dr.hue_jitter, dr.hue_jitter)) % 1.0
    s = min(1.0, s * rng.uniform(1 - dr.saturation_jitter, 1 + dr.saturation_jitter))
    v = min(1.0, v * rng.uniform(1 - dr.value_jitter, 1 + dr.value_jitter))
    return np.array(colorsys.hsv_to_rgb(h, s, v))


def sample_camera(rng: np.random.Generator, cam: Camera, dr: CommonRandomization) -> dict[str, np.ndarray]:
    """A jittered copy of the profile's camera ``cam``, as its four ``cam_*`` params; both
    object kinds draw it right after the label.

    The draws, in this order: elevation, azimuth, distance, target (3), roll, field of
    view. The order is part of every dataset's bytes: changing it changes every draw
    after it, so every image of every dataset (tests/test_render_golden.py pins it).
    """
    el = cam.elevation_deg + rng.uniform(-1, 1) * dr.camera_angle_jitter_deg
    az = cam.azimuth_deg + rng.uniform(-1, 1) * dr.camera_angle_jitter_deg
    dist = cam.distance * (1.0 + rng.uniform(-1, 1) * dr.camera_distance_jitter)
    target = rng.uniform(-1, 1, 3) * dr.camera_target_jitter
    roll = rng.uniform(-1, 1) * dr.camera_roll_deg
    fov = cam.fov_deg + rng.uniform(-1, 1) * dr.fov_jitter_deg
    return {
        "cam_target": target,
        "cam_position": target + dist * _direction(el, az),
        "cam_roll_deg": np.float64(roll),
        "cam_fov_deg": np.float64(fov),
    }


def sample_sensor(rng: np.random.Generator, dr: CommonRandomization) -> dict[str, np.ndarray]:
    """The sensor's blur and noise and the Cycles seed, as their params; both object kinds
    draw them last.

    The draws, in this order: blur sigma, whether to blur (``blur_prob``), noise sigma,
    Cycles seed. As in ``sample_camera``, the order is part of every dataset's bytes.
    """
    blur = rng.uniform(*dr.blur_sigma)
    return {
        "blur_sigma": np.float64(blur if rng.random() < dr.blur_prob else 0.0),
        "noise_sigma": np.float64(rng.uniform(*dr.noise_sigma)),
        "cycles_seed": np.int64(rng.integers(0, 2**31 - 1)),
    }


def sample_frame(rng: np.random.Generator, dr: CommonRandomization, background_rgb) -> dict[str, np.ndarray]:
    """What the frame goes through after the render, beyond blur and noise (the fields the
    training presets leave at their defaults; ``render.shifts`` moves them): the background's
    brightness (folded into ``background_rgb``) and texture, the exposure, the JPEG coding.
    Both object kinds draw them after ``sample_sensor``, in this order: brightness, texture,
    exposure, whether to JPEG-code, its quality. At the defaults the draws change nothing
    (brightness is exactly 1): a preset that leaves them there renders the pixels it rendered
    before they existed.
    """
    brightness = rng.uniform(*dr.background_brightness)
    texture = rng.uniform(*dr.background_texture)
    exposure = rng.uniform(*dr.exposure)
    coded = rng.random() < dr.jpeg_prob
    quality = rng.integers(dr.jpeg_quality[0], dr.jpeg_quality[1] + 1)
    return {
        "background_rgb": np.asarray(background_rgb) * brightness,
        "background_texture": np.float64(texture),
        "exposure": np.float64(exposure),
        "jpeg_quality": np.int64(quality if coded else 0),
    }


def sample_image(
    config: RenderConfig, index: int, cam: Camera
) -> tuple[np.ndarray, dict[str, np.ndarray], np.random.Generator]:
    """The label, the scene parameters and the noise generator of image ``index``, seen
    by a jittered copy of the task profile's camera ``cam``.

    Returns ``(quat_xyzw, params, noise_rng)``. The quaternion is rounded to float32
    (what the dataset stores) before anything uses it, so the stored label is exactly
    the rotation that was rendered. ``params`` holds every entry of ``PARAMS`` except
    ``bbox``, which the render measures.
    """
    rng, noise_rng = image_generators(config.seed, index)
    dr, wide_groups = image_randomization(config, index)
    quat = uniform_quaternion(rng).astype(np.float32)
    p = sample_camera(rng, cam, dr)
    key_az = cam.azimuth_deg + rng.uniform(*dr.key_azimuth_deg)
    p["key_direction"] = _direction(rng.uniform(*dr.key_elevation_deg), key_az)
    p["key_rgb"] = _tint(rng, dr.light_color_jitter)
    p["key_strength"] = np.float64(rng.uniform(*dr.key_strength))
    p["fill_direction"] = _direction(
        rng.uniform(*dr.fill_elevation_deg), key_az + rng.uniform(*dr.fill_azimuth_offset_deg)
    )
    p["fill_rgb"] = _tint(rng, dr.light_color_jitter)
    p["fill_strength"] = np.float64(rng.uniform(*dr.fill_strength))
    sky = rng.uniform(*dr.sky_strength) * _tint(rng, dr.ambient_color_jitter)
    p["sky_rgb"] = sky
    p["ground_rgb"] = sky * rng.uniform(*dr.ground_fraction) * _tint(rng, dr.ambient_color_jitter)
    p["background_rgb"] = np.asarray(cam.background_rgb) * rng.uniform(dr.background_min, 1.0, 3)
    p["face_rgb"] = np.stack([_jitter_colour(rng, rgb, dr) for rgb in asset.FACE_RGB])
    p["roughness"] = np.float64(rng.uniform(*dr.roughness))
    p["specular"] = np.float64(rng.uniform(*dr.specular))
    p.update(sample_sensor(rng, dr))
    p.update(sample_frame(rng, dr, p["background_rgb"]))
    p["wide_groups"] = np.int64(wide_groups)
    return quat, p, noise_rng


def mesh_params(lights: int) -> dict[str, tuple[tuple[int, ...], str]]:
    """A runtime's own mesh, lit by the profile's ``lights`` point lights: every per-image parameter."""
    return {
        k: (tuple(lights if d == "L" else d for d in shape), meaning) for k, (shape, meaning) in _MESH_PARAMS.items()
    }


_MESH_PARAMS: dict[str, tuple[tuple, str]] = {
    "cam_position": ((3,), "camera position, world frame, m"),
    "cam_target": ((3,), "point the camera looks at, world frame, m (the object's origin is the world's)"),
    "cam_roll_deg": ((), "roll about the viewing axis, deg; + turns the camera anticlockwise seen from behind"),
    "cam_fov_deg": ((), "vertical field of view, deg"),
    "light_position": (("L", 3), "each point light's position, world frame, m"),
    "light_power": (("L",), "each point light's power, W (Blender; 4 pi I falloff(d) d^2 matches Three.js)"),
    "light_rgb": (("L", 3), "each point light's colour, linear, brightest channel 1"),
    "background_rgb": ((3,), "background colour, display (sRGB) values in [0, 1]"),
    "albedo": ((), "multiplier on the textures' base colour"),
    "roughness": ((), "Principled BSDF roughness, every material"),
    "specular": ((), "Principled BSDF specular IOR level, every material"),
    "blur_sigma": ((), "Gaussian blur sigma, px (0 = none)"),
    "noise_sigma": ((), "Gaussian sensor noise sigma, 8-bit levels"),
    "cycles_seed": ((), "Cycles sampling seed (int64)"),
    "background_texture": ((), "amplitude of the background's texture (0 = plain; render.postprocess.background)"),
    "exposure": ((), "the frame's exposure factor, before blur and noise (1 = as rendered)"),
    "jpeg_quality": ((), "JPEG quality the finished frame was coded at (int64; 0 = not JPEG-coded)"),
    "wide_groups": ((), "groups of render.config.GROUPS drawn from the config's `wide` (int64 bit mask; 0 = none)"),
    "bbox": ((4,), "object silhouette bounds from the render's alpha: x0, y0, x1, y1 in px, exclusive (int64)"),
}


def matched_power(light) -> float:
    """The Blender point-lamp power (W) whose irradiance at the world origin equals the
    runtime's Three.js point light's: a lamp of power P gives P / (4 pi d^2); Three.js gives
    I * falloff(d) (``PointLight.falloff``)."""
    d = math.dist(light.position, (0.0, 0.0, 0.0))
    return 4 * math.pi * light.intensity * light.falloff(d) * d * d


def sample_mesh_image(config, index: int, spec) -> tuple[np.ndarray, dict[str, np.ndarray], np.random.Generator]:
    """As ``sample_image``, for a ``MeshRenderConfig`` and the profile ``spec`` (its camera
    and its point lights, ``spec.runtime.point_lights``)."""
    rng, noise_rng = image_generators(config.seed, index)
    (dr, wide_groups), cam = image_randomization(config, index), spec.camera
    quat = uniform_quaternion(rng).astype(np.float32)
    p = sample_camera(rng, cam, dr)
    lights = spec.runtime.point_lights
    p["light_position"] = np.stack([np.asarray(lt.position) + rng.uniform(-1, 1, 3) * dr.light_position_jitter
                                    for lt in lights])  # fmt: skip
    p["light_power"] = np.array([matched_power(lt) * rng.uniform(*dr.light_power) for lt in lights])
    p["light_rgb"] = np.stack([_tint(rng, dr.light_color_jitter) for _ in lights])
    p["background_rgb"] = np.asarray(cam.background_rgb) * rng.uniform(dr.background_min, 1.0, 3)
    p["albedo"] = np.float64(rng.uniform(*dr.albedo))
    p["roughness"] = np.float64(rng.uniform(*dr.roughness))
    p["specular"] = np.float64(rng.uniform(*dr.specular))
    p.update(sample_sensor(rng, dr))
    p.update(sample_frame(rng, dr, p["background_rgb"]))
    p["wide_groups"] = np.int64(wide_groups)
    return quat, p, noise_rng
