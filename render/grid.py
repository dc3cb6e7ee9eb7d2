"""The sample grids saved with every dataset: look at them before training on the data.

``samples.png`` tiles the first images as stored. ``samples_labels.png`` tiles the same
images with each label drawn on top, as ``render.label_check.label_axes`` projects it
through the image's pinhole camera: a dark line from the object's centre along the
body's up axis (+Y, through the top face and its marking) and a white one along +X (the
marking's side). If the labels or frames were wrong, the lines would not match the
pictures. This module only draws and writes: it is given the images and the projected axes.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write uint8 RGB ``[H, W, 3]`` as an 8-bit PNG (zlib, no filters), atomically."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[row].tobytes() for row in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(png)
    tmp.replace(path)


def tile(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """``[N, H, W, 3]`` -> one image, ``columns`` wide, grey gaps."""
    n, h, w, _ = images.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + gap) + gap, columns * (w + gap) + gap, 3), 128, dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        out[gap + r * (h + gap) : gap + r * (h + gap) + h, gap + c * (w + gap) : gap + c * (w + gap) + w] = img
    return out


def _draw_line(img: np.ndarray, a: np.ndarray, b: np.ndarray, colour, width: int = 1) -> None:
    n = int(np.ceil(np.abs(b - a).max())) * 2 + 1
    for t in np.linspace(0.0, 1.0, n):
        x, y = np.rint(a + t * (b - a)).astype(int)
        img[max(0, y - width) : y + width + 1, max(0, x - width) : x + width + 1] = colour


def annotate(image: np.ndarray, axes_px: np.ndarray) -> np.ndarray:
    """A copy of ``image`` with the label's axes drawn on it: ``axes_px`` ``[3, 2]`` holds the
    pixel coordinates of the object's centre, of the end of its +Y axis (drawn dark) and of
    its +X axis (drawn white)."""
    img = image.copy()
    centre, up, x = axes_px
    _draw_line(img, centre, x, (255, 255, 255))
    _draw_line(img, centre, up, (20, 20, 20))
    return img


def save_grids(directory: Path, images: np.ndarray, axes_px: np.ndarray, columns: int = 6) -> list[Path]:
    """Write ``samples.png`` and ``samples_labels.png`` for up to ``columns**2`` images; ``axes_px``
    ``[N, 3, 2]``: each image's label axes, as ``annotate`` takes them."""
    n = min(len(images), columns * columns)
    plain = tile(images[:n], columns)
    annotated = np.stack([annotate(images[i], axes_px[i]) for i in range(n)])
    paths = [directory / "samples.png", directory / "samples_labels.png"]
    write_png(paths[0], plain)
    write_png(paths[1], tile(annotated, columns))
    return paths
