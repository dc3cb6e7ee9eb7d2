"""Angular error figures, the error histogram, and the error model the env loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from orient_jax.envs import noise

ACCURACY_AT_DEG = (5.0, 10.0, 15.0)


def summarize(errors_deg: np.ndarray) -> dict:
    """Mean, median, p95, max and accuracy within 5/10/15 degrees of geodesic errors (degrees)."""
    e = np.asarray(errors_deg, np.float64)
    if e.ndim != 1 or not len(e):
        raise ValueError("need a non-empty 1-D array of errors")
    out = {
        "n": len(e),
        "mean_deg": float(e.mean()),
        "median_deg": float(np.median(e)),
        "p90_deg": float(np.percentile(e, 90)),
        "p95_deg": float(np.percentile(e, 95)),
        "p99_deg": float(np.percentile(e, 99)),
        "max_deg": float(e.max()),
    }
    for t in ACCURACY_AT_DEG:
        out[f"acc_{t:g}deg"] = float(np.mean(e <= t))
    return out


def error_quantiles(errors_deg: np.ndarray, points: int = 101) -> list[float]:
    """The empirical error distribution at ``points`` evenly spaced levels (0 %, 1 %, ..., 100 %)."""
    q = np.percentile(np.asarray(errors_deg, np.float64), np.linspace(0.0, 100.0, points))
    return [round(float(v), 4) for v in q]


def write_error_model(errors_deg: np.ndarray, path: Path, source: str) -> None:
    """Write the errors as the env's observation-noise model (``orient_jax.envs.noise``):
    sampling it draws a rotation whose angle follows the measured error distribution."""
    noise.save(path, error_quantiles(errors_deg), source)


def plot_histogram(errors_deg: np.ndarray, png: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    e = np.asarray(errors_deg)
    s = summarize(e)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    top = max(10.0, float(np.percentile(e, 99.5)))
    ax.hist(np.clip(e, 0, top), bins=80, range=(0, top), color="#3b6ea8")
    for key, style in (("median_deg", "-"), ("p95_deg", "--")):
        ax.axvline(s[key], color="k", linestyle=style, label=f"{key[:-4]} {s[key]:.2f} deg")
    ax.set_xlabel("geodesic error (deg)" + (f", clipped at {top:.0f}" if e.max() > top else ""))
    ax.set_ylabel("images")
    ax.set_title(f"{title} (n={len(e)})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
