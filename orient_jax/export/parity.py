"""ONNX (onnxruntime, CPU) versus JAX on the same inputs: the maximum absolute difference.

Inputs are streamed in batches, so the ONNX file's dynamic batch dimension is exercised
at the batch size used here and at batch 1 (``single``: the first inputs again, one at a
time). Random inputs come from a seeded NumPy generator: they are test probes, not
training randomness.

* Pose: random 8-bit RGB images through the contract's preprocessing (``random_images``),
  and real renders from a dataset (``rendered_images``).
* Policy: random raw observations (``random_observations``) spread well past the range
  the env produces, and with a few huge values, so that the folded normalization's clip
  and the tanh bound are exercised too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from orient_jax.agents.normalization import RunningStats
from orient_jax.agents.ppo.networks import Networks, Params, make_policy
from orient_jax.export import contract
from orient_jax.profiles.spec import TaskSpec
from orient_jax.vision import dataset as dataset_lib
from orient_jax.vision.data import preprocess
from orient_jax.vision.model import PoseNet

TOLERANCE = 1e-4  # max absolute difference the export accepts


@dataclasses.dataclass(frozen=True)
class Parity:
    inputs: str  # what was compared, in words
    n: int
    max_abs: float  # max |onnx - jax| over every output value
    mean_abs: float
    batch: int  # the batch size the inputs were streamed at
    single_max_abs: float  # max |onnx at batch 1 - jax| over the first `single` inputs
    single: int

    def ok(self, tolerance: float = TOLERANCE) -> bool:
        return self.max_abs <= tolerance and self.single_max_abs <= tolerance

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def ort_session(model: bytes | str | Path):
    import onnxruntime as ort

    data = Path(model).read_bytes() if isinstance(model, str | Path) else model
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def compare(
    jax_fn: Callable[[np.ndarray], np.ndarray],
    session,
    batches: Iterable[np.ndarray],
    inputs: str,
    single: int = 4,
) -> Parity:
    """Run both on every batch; also run the first ``single`` inputs through ONNX at batch 1."""
    in_name, out_name = session.get_inputs()[0].name, session.get_outputs()[0].name
    n, batch, worst, total, count, worst_single, done_single = 0, 0, 0.0, 0.0, 0, 0.0, 0
    for x in batches:
        x = np.asarray(x, np.float32)
        want = np.asarray(jax_fn(x))
        got = session.run([out_name], {in_name: x})[0]
        if got.shape != want.shape:
            raise ValueError(f"ONNX output shape {got.shape} != JAX output shape {want.shape} for {inputs}")
        diff = np.abs(got.astype(np.float64) - want)
        worst, total, count = max(worst, float(diff.max())), total + float(diff.sum()), count + diff.size
        for i in range(min(single - done_single, len(x))):
            one = session.run([out_name], {in_name: x[i : i + 1]})[0]
            worst_single = max(worst_single, float(np.max(np.abs(one[0].astype(np.float64) - want[i]))))
            done_single += 1
        n, batch = n + len(x), max(batch, len(x))
    if n == 0:
        raise ValueError(f"no inputs to compare ({inputs})")
    return Parity(inputs, n, worst, total / count, batch, worst_single, done_single)


# --- JAX reference functions --------------------------------------------------------------


def pose_fn(model: PoseNet) -> Callable[[np.ndarray], np.ndarray]:
    """The model on contract inputs (already preprocessed)."""
    graphdef, state = nnx.split(model)

    @jax.jit
    def apply(state, images):
        return nnx.merge(graphdef, state)(images)

    return lambda x: np.asarray(apply(state, x))


def policy_fn(networks: Networks, params: Params, normalizer: RunningStats) -> Callable[[np.ndarray], np.ndarray]:
    policy = jax.jit(make_policy(networks, params, normalizer))
    return lambda x: np.asarray(policy(x))


# --- inputs -------------------------------------------------------------------------------


def random_images(spec: TaskSpec, n: int, batch: int = 50, seed: int = 0) -> Iterator[np.ndarray]:
    """``n`` uniformly random 8-bit RGB images of ``spec``'s camera size, preprocessed to its
    contract input, in batches."""
    rng = np.random.default_rng(seed)
    size = spec.camera.resolution
    for start in range(0, n, batch):
        pixels = rng.integers(0, 256, (min(batch, n - start), size, size, 3), dtype=np.uint8)
        yield np.asarray(preprocess(pixels, spec.onnx))


def rendered_images(root: str | Path, spec: TaskSpec, n: int | None = None, batch: int = 64) -> Iterator[np.ndarray]:
    """The first ``n`` (all when None) images of a dataset rendered for ``spec``, preprocessed,
    in batches."""
    dataset_lib.check_spec(dataset_lib.read_manifest(Path(root)), Path(root), spec)
    left = n
    for shard in dataset_lib.iter_shards(Path(root)):
        images = shard[dataset_lib.IMAGES]
        if left is not None:
            images, left = images[:left], left - min(left, len(images))
        for start in range(0, len(images), batch):
            yield np.asarray(preprocess(images[start : start + batch], spec.onnx))
        if left == 0:
            return


def random_observations(n: int, size: int, seed: int = 0) -> np.ndarray:
    """``[n, size]`` raw observations: mostly N(0, 2^2), every 10th row scaled by 1e3."""
    rng = np.random.default_rng(seed)
    obs = rng.normal(0.0, 2.0, (n, size))
    obs[::10] *= 1e3
    return obs.astype(np.float32)


def fixed_input(shape: tuple[int, ...]) -> np.ndarray:
    """``sin(12.9898 i) / 2`` for i = 0, 1, ... in row-major order: the input that
    ``web/bench/ort-latency.mjs`` feeds, so its outputs can be compared with this side's."""
    return (np.sin(np.arange(int(np.prod(shape))) * 12.9898) * 0.5).astype(np.float32).reshape(shape)


def web_runtime_parity(directory: str | Path, spec: TaskSpec, bench_result: dict) -> dict[str, float]:
    """Max |onnxruntime-web - onnxruntime CPU| per file on the fixed input, from the JSON
    line that ``web/bench/ort-latency.mjs`` prints for ``spec``'s files."""
    diffs = {}
    by_file = {c.file: c for c in contract.contracts(spec).values()}
    for entry in bench_result.get("results", []):
        if "output_for_fixed_input" not in entry:
            continue
        c = by_file[entry["file"]]
        x = fixed_input((1, *c.input.shape[1:]))
        y = ort_session(Path(directory) / c.file).run([c.output.name], {c.input.name: x})[0].ravel()
        web = np.asarray(entry["output_for_fixed_input"], np.float64)
        if web.shape != y.shape:
            raise ValueError(f"{c.file}: the web runtime returned {web.size} values, onnxruntime {y.size}")
        diffs[c.file] = float(np.max(np.abs(web - y)))
    return diffs


def batched(x: np.ndarray, batch: int) -> Iterator[np.ndarray]:
    for start in range(0, len(x), batch):
        yield x[start : start + batch]
