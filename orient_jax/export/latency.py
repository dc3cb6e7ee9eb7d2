"""Batch-1 inference latency of an ONNX file with onnxruntime on the CPU.

The same measurement as the browser's hot loop: one session, one input of batch 1, run
``runs`` times after ``warmup`` untimed runs; each run is timed on its own with
``time.perf_counter``. The Node / onnxruntime-web (WASM) counterpart is
``web/bench/ort-latency.mjs``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import numpy as np

from orient_jax.export.contract import ModelContract

# The original product's published figure: ONNX inference on CUDA, 0.1224 s per 1,000
# runs (../shared/DESIGN.md, "The second product description"). Which model and batch it
# timed is not stated.
PUBLISHED_CUDA_S_PER_1000 = 0.1224


@dataclasses.dataclass(frozen=True)
class Latency:
    file: str
    runs: int
    mean_ms: float
    median_ms: float
    p90_ms: float
    min_ms: float
    threads: int  # onnxruntime intra-op threads (0: its default, one per core)
    cores: int

    @property
    def s_per_1000(self) -> float:
        return self.mean_ms  # 1,000 runs x mean ms / 1,000 ms per s

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "s_per_1000": self.s_per_1000}


def ort_cpu_latency(path: str | Path, model: ModelContract, runs: int = 1000, warmup: int = 50, threads: int = 0):
    """Batch-1 latency of ``path`` (which must keep ``model``'s contract)."""
    import onnxruntime as ort

    if runs <= 0 or warmup < 0:
        raise ValueError(f"runs must be > 0 and warmup >= 0, got {runs}, {warmup}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((1, *model.input.shape[1:])).astype(np.float32)
    feed, outputs = {model.input.name: x}, [model.output.name]
    for _ in range(warmup):
        session.run(outputs, feed)
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter()
        session.run(outputs, feed)
        times[i] = time.perf_counter() - start
    ms = times * 1e3
    return Latency(
        file=Path(path).name,
        runs=runs,
        mean_ms=float(ms.mean()),
        median_ms=float(np.median(ms)),
        p90_ms=float(np.percentile(ms, 90)),
        min_ms=float(ms.min()),
        threads=threads,
        cores=os.cpu_count() or 0,
    )
