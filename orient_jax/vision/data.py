"""Data for the orientation CNN: labels, splits, preprocessing, augmentation.

* **Labels.** The renders jitter the camera a few degrees around the spec camera, and
  a camera turn is invisible against a plain background: the image only fixes the
  object's rotation *relative to the camera*. ``view_labels`` therefore re-expresses
  each label as the rotation that gives the same view from the profile's (browser)
  camera looking straight at the box: ``R_view = C_spec^T C_image R``, where ``C`` maps
  world to camera axes and ``C_image`` is the image's camera turned to face the box. The
  browser's camera is the profile's, so this is what the model must predict there; on a
  set rendered without camera jitter it is the stored label.
* **Splits** are by index: validation is the last ``val_count`` images of the training
  set; the test set is a separately rendered dataset with its own seed (``data/test``).
* **Preprocessing** is the profile's ONNX contract, written once (``preprocess``); the
  augmentation works on 8-bit RGB before it, like a camera would, and touches only
  what leaves the label unchanged (exposure, contrast, white balance, sensor noise).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from orient_jax import quat
from orient_jax.profiles.spec import Camera, OnnxContract, TaskSpec
from orient_jax.vision import dataset as dataset_lib

Array = jax.Array


def camera_rotation(position: np.ndarray, target: np.ndarray, roll_deg: np.ndarray) -> np.ndarray:
    """World -> camera rotations ``[N, 3, 3]`` (rows: right, up, forward) of cameras at
    ``position`` looking at ``target`` with world +Y up, rolled by ``roll_deg`` about the
    viewing axis (the renderer's convention, as in ``render/label_check.py``)."""
    forward = np.asarray(target, float) - np.asarray(position, float)
    forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    up = np.cross(right, forward)
    angle = np.radians(np.asarray(roll_deg, float))[..., None]
    axis = -forward  # Rodrigues about the backward axis; right and up are orthogonal to it
    right, up = (v * np.cos(angle) + np.cross(axis, v) * np.sin(angle) for v in (right, up))
    return np.stack([right, up, forward], axis=-2)


def turned_camera_rotation(position: np.ndarray, target: np.ndarray, roll_deg: np.ndarray) -> np.ndarray:
    """World -> camera rotations ``[N, 3, 3]`` of the cameras at ``position`` aimed at ``target``
    (``camera_rotation``), each turned by the smallest rotation that makes it look at the
    origin: a turn about an axis across its view, never about it, so the picture it would
    take is the real one moved in the frame (a homography), not rolled."""
    real = camera_rotation(position, target, roll_deg)
    forward = real[:, 2]
    towards = -np.asarray(position, float) / np.linalg.norm(position, axis=-1, keepdims=True)
    v = np.cross(forward, towards)  # sin(angle) x the turn's axis
    c = np.sum(forward * towards, axis=-1)  # cos(angle); a camera aimed near the box never turns ~180 deg
    k = np.zeros((len(v), 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -v[:, 2], v[:, 1], -v[:, 0]
    k -= np.transpose(k, (0, 2, 1))
    turn = np.eye(3) + k + (k @ k) / (1.0 + c)[:, None, None]  # Rodrigues: forward -> towards
    return real @ np.transpose(turn, (0, 2, 1))  # each camera axis (a row) turned


def spec_camera_rotation(cam: Camera) -> np.ndarray:
    """World -> camera rotation of the profile's camera, looking straight at the box."""
    el, az = math.radians(cam.elevation_deg), math.radians(cam.azimuth_deg)
    position = cam.distance * np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])
    return camera_rotation(position[None], np.zeros((1, 3)), np.zeros(1))[0]


def view_labels(quats: np.ndarray, params: dict[str, np.ndarray], cam: Camera) -> np.ndarray:
    """Labels as seen from the profile's camera ``cam`` (see the module docstring); ``[N, 4]``
    float32, w >= 0.

    The box centre is the world origin in every render. A camera aimed elsewhere
    (``cam_target``) sees the box off the centre of its frame; the label is what that camera,
    turned by the smallest rotation until it looks straight at the box
    (``turned_camera_rotation``), would see. (Until 2026-12-08 it was the camera built anew by
    look-at towards the box with the image's roll: that differs from the turned one by a roll
    that follows the box's place in the frame, 0.36 deg median over `full`'s cameras.)
    """
    if "cam_position" not in params:
        raise dataset_lib.DatasetError("the dataset has no per-image camera parameters (cam_position, cam_roll_deg)")
    n = len(quats)
    target = params.get("cam_target", np.zeros((n, 3)))
    image_cam = turned_camera_rotation(params["cam_position"], target, params["cam_roll_deg"])
    correction = spec_camera_rotation(cam).T @ image_cam  # [N, 3, 3]
    q = quat.multiply(quat.from_matrix(jnp.asarray(correction, jnp.float32)), jnp.asarray(quats))
    return np.asarray(quat.canonical(quat.normalize(q)), np.float32)


@dataclasses.dataclass(frozen=True)
class ImageSet:
    """Images and the labels the model learns (``view_labels``), in memory."""

    images: np.ndarray  # [N, 224, 224, 3] uint8 RGB
    quats: np.ndarray  # [N, 4] float32 (x, y, z, w), w >= 0, as seen from the spec camera
    indices: np.ndarray  # [N] the images' indices in their dataset
    source: str

    def __len__(self) -> int:
        return len(self.images)

    def take(self, rows: np.ndarray | slice) -> ImageSet:
        return ImageSet(self.images[rows], self.quats[rows], self.indices[rows], self.source)


def load(root, spec: TaskSpec, checksums: bool = True) -> ImageSet:
    """A validated dataset rendered for ``spec`` (``orient_jax.vision.dataset.load``), with view labels."""
    data = dataset_lib.load(root, spec, checksums=checksums)
    labels = view_labels(data.quats, data.params, spec.camera)
    return ImageSet(data.images, labels, np.arange(len(data)), str(root))


def split(data: ImageSet, val_count: int) -> tuple[ImageSet, ImageSet]:
    """(train, val): validation is the last ``val_count`` images, by index."""
    if not 0 < val_count < len(data):
        raise ValueError(f"val_count must be in (0, {len(data)}), got {val_count}")
    return data.take(slice(0, len(data) - val_count)), data.take(slice(len(data) - val_count, len(data)))


def preprocess(images: Array, onnx: OnnxContract) -> Array:
    """8-bit (or [0, 255] float) RGB ``[N, H, W, 3]`` -> the contract's input ``[N, 3, H, W]``:
    divide by 255, subtract the contract's mean (ImageNet's), divide by its std, channels first."""
    mean = jnp.asarray(onnx.image_mean, jnp.float32)
    std = jnp.asarray(onnx.image_std, jnp.float32)
    x = (jnp.asarray(images, jnp.float32) / 255.0 - mean) / std
    return jnp.transpose(x, (0, 3, 1, 2))


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """Photometric augmentation on 8-bit RGB, before ``preprocess``; all label-preserving."""

    exposure: float = 0.15  # brightness x U[1 - e, 1 + e]
    contrast: float = 0.15  # about the image mean, x U[1 - c, 1 + c]
    white_balance: float = 0.05  # per channel x U[1 - w, 1 + w]
    noise_sigma: float = 3.0  # 8-bit levels, sigma drawn from U[0, this]

    def __post_init__(self):
        if any(v < 0 for v in dataclasses.astuple(self)) or self.exposure >= 1 or self.contrast >= 1:
            raise ValueError(f"augmentation strengths must be >= 0 (and < 1 for exposure and contrast): {self}")


def augment(key: Array, images: Array, aug: Augmentation) -> Array:
    """uint8 ``[N, H, W, 3]`` -> augmented float ``[N, H, W, 3]`` in [0, 255]."""
    n = images.shape[0]
    k_exp, k_con, k_wb, k_sig, k_noise = jax.random.split(key, 5)
    x = jnp.asarray(images, jnp.float32)
    exposure = jax.random.uniform(k_exp, (n, 1, 1, 1), minval=1 - aug.exposure, maxval=1 + aug.exposure)
    contrast = jax.random.uniform(k_con, (n, 1, 1, 1), minval=1 - aug.contrast, maxval=1 + aug.contrast)
    balance = jax.random.uniform(k_wb, (n, 1, 1, 3), minval=1 - aug.white_balance, maxval=1 + aug.white_balance)
    mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
    x = ((x - mean) * contrast + mean) * exposure * balance
    sigma = jax.random.uniform(k_sig, (n, 1, 1, 1), maxval=aug.noise_sigma)
    x = x + sigma * jax.random.normal(k_noise, x.shape)
    return jnp.clip(x, 0.0, 255.0)
