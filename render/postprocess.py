"""From Blender's RGBA render to the stored image: background, blur, noise, 8 bits.

Blender writes display-referred (Standard view transform, i.e. plain sRGB) RGBA with
straight alpha over a transparent film. Here, in display values as Three.js's canvas
composites them: the object goes over the background colour, the whole frame is
blurred (a slightly soft lens), and sensor noise is added before rounding to 8 bits.
The shift suite (``render.shifts``) adds a textured background, an exposure error and
JPEG coding; the training presets leave them off.
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


def value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth noise ``[size, size, 3]`` in [-1, 1]: uniform values on a ``(cells + 1)^2`` grid
    per channel, blended between grid points with smoothstep weights."""
    grid = rng.uniform(-1.0, 1.0, (cells + 1, cells + 1, 3))
    t = np.linspace(0.0, cells, size, endpoint=False) + cells / (2 * size)  # pixel centres
    i = np.minimum(t.astype(int), cells - 1)
    f = t - i
    w = (f * f * (3 - 2 * f))[:, None]  # smoothstep
    rows = grid[i] * (1 - w[:, :, None]) + grid[i + 1] * w[:, :, None]  # [size, cells + 1, 3]
    return rows[:, i] * (1 - w.T[:, :, None]) + rows[:, i + 1] * w.T[:, :, None]


def background(rgb, size: int, texture: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """The background behind the object, float32 ``[size, size, 3]`` in 8-bit display units:
    the colour ``rgb`` (display values in [0, 1]), times ``1 + texture * n`` where ``n`` is two
    octaves of value noise (4 and 16 cells across, weights 0.65 and 0.35) drawn from ``rng``."""
    plain = np.broadcast_to(np.asarray(rgb, np.float32) * np.float32(255), (size, size, 3))
    if texture <= 0:
        return plain
    n = 0.65 * value_noise(rng, size, 4) + 0.35 * value_noise(rng, size, 16)
    return np.clip(plain * (1.0 + texture * n), 0.0, 255.0).astype(np.float32)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """uint8 RGB through a JPEG encoder and decoder (Pillow; 4:2:0 chroma, as cameras and browsers code)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, format="JPEG", quality=int(quality), subsampling=2)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def finish(
    rgba: np.ndarray,
    background_image: np.ndarray,
    blur_sigma: float,
    noise_sigma: float,
    noise_rng,
    exposure: float = 1.0,
    jpeg_quality: int = 0,
) -> np.ndarray:
    """uint8 RGBA ``[H, W, 4]`` -> uint8 RGB ``[H, W, 3]``, the stored image.

    ``background_image``: ``background(...)``, or a colour in display values [0, 1]; then the
    exposure (a factor, saturating at 255), blur, noise (``noise_sigma`` in 8-bit levels),
    rounding to 8 bits and, with ``jpeg_quality`` > 0, JPEG coding. Float32 throughout.
    """
    background_image = np.asarray(background_image, dtype=np.float32)
    if background_image.ndim == 1:
        background_image = background(background_image, rgba.shape[0])
    alpha = rgba[..., 3:].astype(np.float32) * np.float32(1 / 255)
    image = rgba[..., :3].astype(np.float32) * alpha + background_image * (np.float32(1) - alpha)
    if exposure != 1.0:
        image = np.minimum(image * np.float32(exposure), np.float32(255))
    image = gaussian_blur(image, float(blur_sigma))
    image += noise_rng.standard_normal(image.shape, dtype=np.float32) * np.float32(noise_sigma)
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return jpeg(image, jpeg_quality) if jpeg_quality else image
