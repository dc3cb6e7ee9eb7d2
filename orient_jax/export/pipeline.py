"""The export command's work: load the models, export, check, compare, ship, record.

Everything is first written into a staging folder inside the output directory. The
contract checker and the parity comparison run on the staged *files* (what will ship, not
the in-memory protos), and only when both pass do the files replace the shipped ones, one
atomic rename each, ``manifest.json`` last. A failure leaves the output directory as it
was and raises ``ExportError`` with every problem listed.

Everything follows one task profile (``ExportOptions.task``): the file and tensor names,
the shapes, the preprocessing, ``task.json`` and the default output folder. Sources:
``--policy-run`` / ``--vision-run`` (a run directory or a model folder), else the shipped
``models/rotation_policy`` / ``models/pose``. With no pose model anywhere the policy is
exported alone and the result says so; no placeholder pose file is written.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from orient_jax import paths, profiles
from orient_jax.core import runs
from orient_jax.export import contract, onnx_export, parity
from orient_jax.profiles.spec import SPEC_VERSION, TaskSpec, write_task_json
from orient_jax.tasks.rotation import run as rotation_run
from orient_jax.vision import dataset as dataset_lib
from orient_jax.vision import model_io

MANIFEST_FORMAT = "orient-jax-onnx-manifest/1"
VERSIONED = ("jax2onnx", "onnx", "onnxruntime", "onnx-ir", "jax", "jaxlib", "flax", "numpy")
_SOURCE_KEYS = ("run_dir", "update", "step", "seed", "shipped_eval")


class ExportError(RuntimeError):
    """The export cannot run (missing or corrupt inputs, bad options)."""


class RefusedError(ExportError):
    """The export ran, but what it produced breaks the contract or parity: nothing was shipped."""


def default_out(spec: TaskSpec) -> Path:
    """Where a profile's files go unless told otherwise (``cube``: web/public/models)."""
    return paths.REPO / spec.artifacts.export_dir


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    task: str = "cube"  # the task profile the files are for
    out: Path | None = None  # None: the profile's export folder (default_out)
    vision_run: Path | None = None  # None: models/pose if it exists, else no pose export
    no_pose: bool = False  # export the policy alone, whatever vision_run says
    policy_run: Path | None = None  # None: models/rotation_policy
    parity_random: int = 1000  # random inputs per model
    parity_data: Path | None = paths.DATA / "test"  # real renders for the pose parity; None: skip
    parity_real: int | None = None  # how many of them (None: all)
    tolerance: float = parity.TOLERANCE
    seed: int = 0  # for the random parity inputs

    def __post_init__(self):
        profiles.get(self.task)  # an unknown profile says which exist
        if self.parity_random <= 0:
            raise ValueError(f"parity_random must be positive, got {self.parity_random}")
        if self.parity_real is not None and self.parity_real <= 0:
            raise ValueError(f"parity_real must be positive, got {self.parity_real}")
        if not self.tolerance > 0:
            raise ValueError(f"tolerance must be positive, got {self.tolerance}")


@dataclasses.dataclass
class _Source:
    kind: str  # "run" or "shipped"
    path: Path
    info: dict

    def to_dict(self) -> dict:
        picked = {k: self.info[k] for k in _SOURCE_KEYS if k in self.info}
        return {"kind": self.kind, "path": _display(self.path), **picked}


@dataclasses.dataclass
class _Staged:
    """One exported model in the staging folder, with what it came from."""

    contract: contract.ModelContract
    source: _Source
    jax_fn: Callable[[np.ndarray], np.ndarray]  # the JAX model it must match


def run_export(options: ExportOptions, log=print) -> dict:
    """Export, check and ship; return the manifest written. Raises ``ExportError`` (``RefusedError``
    when the exported files fail the contract or parity)."""
    spec = profiles.get(options.task)
    out = Path(options.out) if options.out is not None else default_out(spec)
    vision_path = None if options.no_pose else _pose_source_path(options.vision_run)
    if options.no_pose:
        log(f"note: --vision-run none: exporting the policy alone; {spec.artifacts.pose_file} is not written")
    elif vision_path is None:
        log(
            f"note: no pose model ({_display(paths.SHIPPED_POSE_MODEL)} does not exist and --vision-run was not "
            "given): exporting the policy alone; pose.onnx is not written"
        )
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-staging-", dir=out))
    steps = 4 + 2 * (vision_path is not None)  # per model: export and parity; then check and ship
    bar = tqdm(total=steps, desc="export", unit="step")

    def step(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update()

    try:
        staged = {"policy": _stage_policy(options.policy_run, spec, staging)}
        step("policy exported")
        if vision_path is not None:
            kind = "run" if options.vision_run is not None else "shipped"
            staged["pose"] = _stage_pose(vision_path, kind, spec, staging)
            step("pose exported")
        task_file = spec.artifacts.task_file
        write_task_json(spec, staging / task_file)
        report = contract.check_dir(staging, spec, models=tuple(sorted(staged)))
        step("contract checked")
        if not report.ok:
            raise RefusedError(
                "the exported files break the browser contract; nothing was shipped:\n  " + "\n  ".join(report.problems)
            )
        parities = {}
        for name, item in staged.items():
            parities[name] = _compare(name, item, spec, staging, options, log)
            step(f"{name} parity")
        failures = [
            f"{name}.onnx on {p.inputs}: max |onnx - jax| {max(p.max_abs, p.single_max_abs):.3g} "
            f"> {options.tolerance:g}"
            for name, ps in parities.items()
            for p in ps
            if not p.ok(options.tolerance)
        ]
        if failures:
            raise RefusedError("ONNX and JAX disagree; nothing was shipped:\n  " + "\n  ".join(failures))
        manifest = _manifest(staging, spec, staged, parities, report, options.tolerance)
        for name in [item.contract.file for item in staged.values()] + [task_file]:
            (staging / name).replace(out / name)  # atomic per file; the manifest goes last
        onnx_export.save_atomic(json.dumps(manifest, indent=2).encode() + b"\n", out / contract.MANIFEST_FILE)
        step("shipped")
    except (FileNotFoundError, ValueError, dataset_lib.DatasetError) as e:
        raise ExportError(str(e)) from e
    finally:
        bar.close()
        shutil.rmtree(staging, ignore_errors=True)
    stale = out / spec.artifacts.pose_file
    if "pose" not in staged and stale.exists():
        log(f"warning: {_display(stale)} is left from an earlier export and is not in the new manifest")
    return manifest


def _stage_policy(policy_run: Path | None, spec: TaskSpec, staging: Path) -> _Staged:
    source = _policy_source(policy_run)
    networks, params, normalizer, _ = rotation_run.load_rotation_policy(source.path, spec)
    c = contract.policy_contract(spec)
    onnx_export.save_atomic(onnx_export.export_policy(networks, params, normalizer, spec), staging / c.file)
    return _Staged(c, source, parity.policy_fn(networks, params, normalizer))


def _stage_pose(path: Path, kind: str, spec: TaskSpec, staging: Path) -> _Staged:
    model, info = model_io.load(path)
    if info["task"] != spec.name:
        raise ExportError(f"the pose model at {_display(path)} was trained for task profile {info['task']!r}, "
                          f"not {spec.name!r}")  # fmt: skip
    c = contract.pose_contract(spec)
    onnx_export.save_atomic(onnx_export.export_pose(model, spec), staging / c.file)
    return _Staged(c, _Source(kind, path, info), parity.pose_fn(model))


def _compare(
    name: str, item: _Staged, spec: TaskSpec, staging: Path, options: ExportOptions, log
) -> list[parity.Parity]:
    """Parity of a staged file: random inputs, and for the pose model the renders too."""
    session = parity.ort_session(staging / item.contract.file)
    n, seed = options.parity_random, options.seed
    if name == "policy":
        inputs = parity.batched(parity.random_observations(n, spec.observation.size, seed=seed), 100)
        return [parity.compare(item.jax_fn, session, inputs, f"{n} random observations")]
    random_images = parity.random_images(spec, n, seed=seed)
    results = [parity.compare(item.jax_fn, session, random_images, f"{n} random images")]
    if options.parity_data is None:
        log("note: pose parity on real renders skipped (no --parity-data)")
        return results
    if not Path(options.parity_data).exists():
        raise ExportError(
            f"--parity-data {options.parity_data} does not exist; render it (`make data PRESET=...`) or pass "
            "--parity-data none to compare on random inputs only"
        )
    where = _display(Path(options.parity_data))
    images = parity.rendered_images(options.parity_data, spec, options.parity_real)
    p = parity.compare(item.jax_fn, session, images, f"renders from {where}")
    results.append(dataclasses.replace(p, inputs=f"{p.n} renders from {where}"))
    return results


def _pose_source_path(vision_run: Path | None) -> Path | None:
    if vision_run is not None:
        if not Path(vision_run).exists():
            raise ExportError(f"--vision-run {vision_run} does not exist (give a vision run directory or model folder)")
        return Path(vision_run)
    shipped = paths.SHIPPED_POSE_MODEL
    return shipped if shipped.exists() else None


def _policy_source(policy_run: Path | None) -> _Source:
    if policy_run is None:
        path = paths.SHIPPED_POLICY
        if not path.exists():
            raise ExportError(
                f"no shipped policy at {_display(path)}; pass --policy-run RUN or ship one with "
                "`python -m experiments.ship rotation`"
            )
        return _Source("shipped", path, _read_info(path / "policy.json"))
    if not Path(policy_run).exists():
        raise ExportError(f"--policy-run {policy_run} does not exist (give a rotation run directory or policy folder)")
    path = Path(policy_run)
    folder = path / "policy" if (path / "policy").is_dir() else path
    return _Source("run", path, {**_read_info(folder / "policy.json"), "run_dir": _display(path)})


def _manifest(
    staging: Path, spec: TaskSpec, staged: dict, parities: dict, report: contract.Report, tolerance: float
) -> dict:
    infos = {f.file: f.info for f in report.files}
    files = {}
    for name, item in sorted(staged.items()):
        c, source = item.contract, item.source
        data = (staging / c.file).read_bytes()
        info = infos.get(c.file, {})
        files[c.file] = {
            "sha256": contract.sha256_hex(data),
            "bytes": len(data),
            "source": source.to_dict(),
            "ir_version": info.get("ir_version"),
            "opsets": info.get("opsets"),
            "input": {"name": c.input.name, "shape": _shape(c.input.shape), "dtype": "float32"},
            "output": {"name": c.output.name, "shape": _shape(c.output.shape), "dtype": "float32"},
            "ops": info.get("ops"),
            "parity": [p.to_dict() for p in parities.get(name, [])],
        }
    task = (staging / spec.artifacts.task_file).read_bytes()
    files[spec.artifacts.task_file] = {
        "sha256": contract.sha256_hex(task),
        "bytes": len(task),
        "spec_version": SPEC_VERSION,
    }
    return {
        "format": MANIFEST_FORMAT,
        "exported": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_sha": runs.git_sha(),
        "task": spec.name,
        "models": sorted(staged),
        "pose_exported": "pose" in staged,
        "target_runtime": contract.WEB_RUNTIME,
        "limits": {"max_ir_version": contract.MAX_IR_VERSION, "max_opset": contract.MAX_OPSET},
        "parity_tolerance": tolerance,
        "versions": {name: _version(name) for name in VERSIONED},
        "files": files,
    }


def _shape(shape: tuple) -> list:
    return [onnx_export.BATCH_DIM if d is None else d for d in shape]


def _read_info(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _display(path: Path) -> str:
    path = Path(path).resolve()
    try:
        return str(path.relative_to(paths.REPO))
    except ValueError:
        return str(path)
