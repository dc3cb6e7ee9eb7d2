"""Figures over seeds: the interquartile mean and bootstrap confidence intervals.

A method's result is a handful of seeds. Following Agarwal et al. (2021, "Deep RL at the
edge of the statistical precipice", rliable), each figure is reported as the interquartile
mean (the mean of the middle 50 % of the seeds: robust to one outlier, less noisy than the
median), beside the mean and the median, with a 95 % percentile-bootstrap interval over
seeds. For one task the stratified bootstrap of rliable is the plain bootstrap over runs,
which SciPy computes (``scipy.stats.bootstrap``); the IQM is SciPy's 25 % trimmed mean.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000


def iqm(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The interquartile mean: the mean after trimming 25 % from each end."""
    return stats.trim_mean(np.asarray(x, np.float64), 0.25, axis=axis)


STATISTICS = {"iqm": iqm, "mean": np.mean, "median": np.median}


def interval(x: np.ndarray, statistic=iqm, seed: int = 0) -> tuple[float, float] | None:
    """The 95 % percentile-bootstrap interval of ``statistic`` over the seeds ``x`` (None
    for fewer than two seeds, or seeds that all agree: there is no spread to resample)."""
    x = np.asarray(x, np.float64)
    if x.size < 2 or np.all(x == x[0]):
        return None
    result = stats.bootstrap(
        (x,), statistic, n_resamples=RESAMPLES, confidence_level=CONFIDENCE, method="percentile",
        rng=np.random.default_rng(seed), vectorized=True, axis=-1,
    )  # fmt: skip
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def summary(x) -> dict:
    """IQM, mean and median of the seeds ``x``, each with its interval, and the seed count."""
    x = np.asarray(x, np.float64)
    out = {"seeds": int(x.size)}
    for name, fn in STATISTICS.items():
        out[name] = float(fn(x, axis=-1))
        ci = interval(x, fn)
        out[f"{name}_ci95"] = None if ci is None else [ci[0], ci[1]]
    return out
