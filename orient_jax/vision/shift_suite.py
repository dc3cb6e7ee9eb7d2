"""Scoring a pose model on the shift suite's sets (``render.shifts``): one row of figures per
set, the tail included, and one contact sheet of each set's worst images.

The sets are rendered by ``experiments.shift_suite``; this module only reads them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from orient_jax.vision import metrics

WORST = 16  # images per set on the contact sheet


def model_sha256(model_dir: Path) -> str:
    """sha256 of a model folder's weights (``model.msgpack``): which model a figure is of."""
    h = hashlib.sha256()
    with open(Path(model_dir) / "model.msgpack", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def row(shift, errors: np.ndarray, root: str) -> dict:
    """One set's figures (``metrics.summarize``, the tail included) and what the set is."""
    return {
        "shift": shift.name,
        "group": shift.group,
        "what": shift.what,
        "seed": shift.seed,
        "overrides": list(shift.overrides),
        "data": str(root),
        **metrics.summarize(errors),
    }


def worst(images: np.ndarray, errors: np.ndarray, k: int = WORST) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` images with the largest errors, largest first, and their errors."""
    order = np.argsort(-errors, kind="stable")[:k]
    return images[order], errors[order]


def contact_sheet(rows: list[tuple[str, np.ndarray, np.ndarray]], path: Path, thumb: int = 112) -> Path:
    """One PNG: a row per set (its name, median and p95 on the left) of its worst images,
    each marked with its error in degrees. ``rows``: (label, images [k, H, W, 3] uint8, errors [k])."""
    from PIL import Image, ImageDraw  # noqa: PLC0415  (Pillow: pinned, main venv)

    label_w, cols = 190, max((len(images) for _, images, _ in rows), default=1)
    sheet = Image.new("RGB", (label_w + cols * thumb, len(rows) * thumb), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (label, images, errors) in enumerate(rows):
        y = r * thumb
        draw.multiline_text((6, y + 8), label, fill="black", spacing=4)
        for c, (image, error) in enumerate(zip(images, errors)):
            x = label_w + c * thumb
            sheet.paste(Image.fromarray(image).resize((thumb, thumb), Image.Resampling.BILINEAR), (x, y))
            text = f"{error:.1f}"
            box = draw.textbbox((x + 3, y + 2), text)
            draw.rectangle((box[0] - 2, box[1] - 1, box[2] + 2, box[3] + 1), fill="black")
            draw.text((x + 3, y + 2), text, fill="white")
        draw.line((0, y, sheet.width, y), fill=(160, 160, 160))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # 256 colours (flat faces and pale backgrounds lose nothing to see): a fifth of the bytes
    sheet.quantize(256, method=Image.Quantize.MEDIANCUT).save(tmp, format="PNG", optimize=True)
    tmp.replace(path)
    return path


def sheet_label(result: dict) -> str:
    return f"{result['shift']}\nmedian {result['median_deg']:.2f} deg\np95 {result['p95_deg']:.2f} deg"


def table(results: list[dict]) -> str:
    """The suite as a Markdown table, one row per set."""
    lines = ["| shift | images | median | p95 | p99 | max |", "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        figures = " | ".join(f"{r[k]:.2f}°" for k in ("median_deg", "p95_deg", "p99_deg", "max_deg"))
        lines.append(f"| {r['shift']} | {r['n']} | {figures} |")
    return "\n".join(lines)
