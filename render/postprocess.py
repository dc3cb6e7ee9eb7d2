"""From Blender's RGBA render to the stored image: background, blur, noise, 8 bits.

Blender writes display-referred (Standard view transform, i.e. plain sRGB) RGBA with
straight alpha over a transparent film. Here, in display values as Three.js's canvas
composites them: the object goes over the background colour, the whole frame is
blurred (a slightly soft lens), and sensor noise is added before rounding to 8 bits.
"""

from __future__ import annotations

import numpy as np


def read_tga(path) -> np.ndarray:
    """Read an uncompressed 32-bit TGA (what Blender's TARGA_RAW writes) as uint8 RGBA ``[H, W, 4]``, top row first."""
    data = np.fromfile(path, dtype=np.uint8)
    id_len, cmap_type, img_type = int(data[0]), int(data[1]), int(data[2])
    width, height = int(data[12]) | int(data[13]) << 8, int(data[14]) | int(data[15]) << 8
    bpp, descriptor = int(data[16]), int(data[17])
    if cmap_type != 0 or img_type != 2 or bpp != 32:
        raise ValueError(f"{path}: expected an uncompressed 32-bit true-colour TGA, got type {img_type} bpp {bpp}")
    start = 18 + id_len
    bgra = data[start : start + width * height * 4].reshape(height, width, 4)
    rgba = bgra[..., [2, 1, 0, 3]]
    if not descriptor & 0x20:  # origin at the bottom left: flip so row 0 is the top
        rgba = rgba[::-1]
    return np.ascontiguousarray(rgba)


def silhouette_bbox(alpha: np.ndarray, threshold: int = 128) -> np.ndarray:
    """``[x0, y0, x1, y1]`` (exclusive) of pixels with alpha >= threshold; zeros if none."""
    mask = alpha >= threshold
    if not mask.any():
        return np.zeros(4, dtype=np.int64)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.int64)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of ``[H, W, C]`` float, kernel cut at 3 sigma, edges replicated."""
    if sigma <= 0:
        return image
    radius = max(1, int(np.ceil(3 * sigma)))
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel = (kernel / kernel.sum()).astype(image.dtype)
    h, w = image.shape[:2]
    padded = np.pad(image, ((radius, radius), (0, 0), (0, 0)), mode="edge")
    rows = sum(k * padded[i : i + h] for i, k in enumerate(kernel))
    padded = np.pad(rows, ((0, 0), (radius, radius), (0, 0)), mode="edge")
    return sum(k * padded[:, i : i + w] for i, k in enumerate(kernel))


def finish(rgba: np.ndarray, background_rgb, blur_sigma: float, noise_sigma: float, noise_rng) -> np.ndarray:
    """uint8 RGBA ``[H, W, 4]`` -> uint8 RGB ``[H, W, 3]``, the stored image.

    ``background_rgb`` in display values [0, 1]; ``noise_sigma`` in 8-bit levels.
    Float32 throughout: the result is rounded to 8 bits.
    """
    alpha = rgba[..., 3:].astype(np.float32) * np.float32(1 / 255)
    background = np.asarray(background_rgb, dtype=np.float32) * np.float32(255)
    image = rgba[..., :3].astype(np.float32) * alpha + background * (np.float32(1) - alpha)
    image = gaussian_blur(image, float(blur_sigma))
    image += noise_rng.standard_normal(image.shape, dtype=np.float32) * np.float32(noise_sigma)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
