"""The browser contract for the shipped ONNX files, and the checker that enforces it.

A task profile's export directory (``web/public/models`` for ``cube``) holds its pose
model, its policy, its ``task.json`` (file names and tensor names from the profile) and
``manifest.json``. ``check_file`` loads one ONNX file with onnx and onnxruntime and
lists every way in which it breaks its contract; ``check_dir`` does that for the whole
directory and also checks ``task.json`` against the profile and every file against the
hashes in ``manifest.json``. Problems are sentences that name the file, the tensor or
node, what was expected and what was found. The Humanoid policies have fixed contracts
of their own (``HUMANOID``), checked the same way.

What is checked, per file:

* it parses, is self-contained (no external data) and passes
  ``onnx.checker.check_model(full_check=True)`` (which re-runs strict shape inference, so
  wrong intermediate shapes are caught);
* IR version and opsets are ones onnxruntime-web runs (``MAX_IR_VERSION``, ``MAX_OPSET``);
  no operator domain the web runtime lacks;
* no random-sampling operator anywhere (``RANDOM_OPS``, subgraphs and functions included);
* exactly one input and one output, with the contract's names, float32, and shapes with a
  dynamic batch dimension;
* onnxruntime loads it without a single warning (e.g. ``MergeShapeInfo``: declared
  shapes that disagree with the graph), runs it at batch 1 and 3 with outputs of the
  declared shape, finite, identical on a repeat run; a bounded output (the policy's
  actions) stays in its range even for huge inputs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx

from orient_jax.profiles.spec import TaskSpec

# onnxruntime-web 1.30 is what the browser runs. ONNX Runtime's compatibility table
# (onnxruntime.ai/docs/reference/compatibility.html, "ONNX opset support") lists
# ORT 1.18-1.20 as implementing ONNX opset 21, ONNX-ML opset 4 and IR version 10, and
# every later release supports all models that earlier ones ran ("Backwards
# compatibility"). Capping the files at those numbers therefore makes them run on 1.30
# (and on any web runtime back to 1.18), whatever newer opsets 1.30 may add.
MAX_IR_VERSION = 10
MAX_OPSET = 21
MAX_ML_OPSET = 4
WEB_RUNTIME = "onnxruntime-web 1.30"

# Operators that draw random numbers. The original runtime's policy file contained
# RandomNormalLike, so the browser acted stochastically; none may appear.
RANDOM_OPS = frozenset(
    {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial", "Bernoulli"}
)
_DEFAULT_DOMAINS = ("", "ai.onnx")
_ML_DOMAIN = "ai.onnx.ml"
_ORT_LOG_MARKERS = ("[W:onnxruntime", "[E:onnxruntime")
_HUGE = 1e6  # input scale for the bounded-output probe


@dataclasses.dataclass(frozen=True)
class TensorContract:
    name: str
    shape: tuple[int | None, ...]  # None: the dynamic batch dimension N
    dtype: int = onnx.TensorProto.FLOAT

    def describe(self) -> str:
        return f"'{self.name}' {_dtype_name(self.dtype)} {_shape_str(self.shape)}"


@dataclasses.dataclass(frozen=True)
class ModelContract:
    file: str
    input: TensorContract
    output: TensorContract
    output_range: tuple[float, float] | None = None  # closed interval every output value must lie in


def pose_contract(spec: TaskSpec) -> ModelContract:
    """The profile's pose CNN: its camera image in, a quaternion out."""
    r = spec.camera.resolution
    return ModelContract(
        spec.artifacts.pose_file,
        TensorContract(spec.onnx.pose_input, (None, 3, r, r)),
        TensorContract(spec.onnx.pose_output, (None, 4)),
    )


def policy_contract(spec: TaskSpec) -> ModelContract:
    """The profile's deterministic policy: its observation in, actions in [-1, 1] out."""
    return ModelContract(
        spec.artifacts.policy_file,
        TensorContract(spec.onnx.policy_input, (None, spec.observation.size)),
        TensorContract(spec.onnx.policy_output, (None, spec.action.size)),
        output_range=(-1.0, 1.0),
    )


PROFILE_MODELS = ("pose", "policy")
# The Humanoid policies (not part of a browser demo): Gymnasium Humanoid-v4 observations
# in, motor controls in its action box out.
HUMANOID_OBS, HUMANOID_ACT, HUMANOID_LIMIT = 376, 17, 0.4
HUMANOID_DQN = ModelContract(
    "humanoid_dqn.onnx",
    TensorContract("obs", (None, HUMANOID_OBS)),
    TensorContract("action", (None, HUMANOID_ACT)),
    output_range=(-HUMANOID_LIMIT, HUMANOID_LIMIT),
)
HUMANOID_PPO = dataclasses.replace(HUMANOID_DQN, file="humanoid_ppo.onnx")
HUMANOID = {"humanoid_dqn": HUMANOID_DQN, "humanoid_ppo": HUMANOID_PPO}
MODELS = (*PROFILE_MODELS, *HUMANOID)  # every model name check_dir knows


def contracts(spec: TaskSpec | None) -> dict[str, ModelContract]:
    """Every contract by model name: the profile's pose and policy (with a spec), and the Humanoid's."""
    own = {"pose": pose_contract(spec), "policy": policy_contract(spec)} if spec is not None else {}
    return {**own, **HUMANOID}


MANIFEST_FILE = "manifest.json"  # what the exporter wrote, beside the files (hashes, sources, parity)


@dataclasses.dataclass
class FileReport:
    file: str
    problems: list[str] = dataclasses.field(default_factory=list)
    info: dict = dataclasses.field(default_factory=dict)  # ir_version, opsets, ops, ...

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.file}: {message}")


@dataclasses.dataclass
class Report:
    directory: str
    files: list[FileReport]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    @property
    def problems(self) -> list[str]:
        return [p for f in self.files for p in f.problems]

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "directory": self.directory,
            "problems": self.problems,
            "files": {f.file: {"ok": f.ok, "problems": f.problems, **f.info} for f in self.files},
        }

    def format(self) -> str:
        lines = []
        for f in self.files:
            lines.append(f"{'ok  ' if f.ok else 'FAIL'} {f.file}")
            lines.extend(f"     - {p}" for p in f.problems)
        lines.append(f"contract {'passed' if self.ok else 'FAILED'}: {self.directory}")
        return "\n".join(lines)


# --- one ONNX file ----------------------------------------------------------------------


def check_file(path: str | Path, contract: ModelContract) -> FileReport:
    """Every contract problem of one ONNX file (see the module docstring)."""
    path = Path(path)
    report = FileReport(contract.file if path.name == contract.file else str(path))
    if not path.is_file():
        report.fail(f"missing ({path} does not exist)")
        return report
    data = path.read_bytes()
    try:
        model = onnx.load_from_string(data)
    except Exception as e:  # protobuf raises DecodeError and friends
        report.fail(f"is not a readable ONNX file (corrupt or truncated?): {type(e).__name__}: {e}")
        return report
    if not model.graph.node:
        report.fail("is not an ONNX model (empty graph: corrupt, truncated or not an .onnx file)")
        return report
    report.info.update(
        ir_version=model.ir_version,
        opsets={imp.domain or "ai.onnx": imp.version for imp in model.opset_import},
        ops=sorted({n.op_type for n in _all_nodes(model)}),
        bytes=len(data),
    )
    _check_self_contained(model, report)
    _check_versions(model, report)
    _check_random_ops(model, report)
    io_ok = _check_io(model, contract, report)
    _check_onnx_checker(model, report)
    session = _load_session(data, report)
    if session is not None and io_ok:
        _check_runs(session, contract, report)
    return report


def _all_nodes(model: onnx.ModelProto) -> Iterator[onnx.NodeProto]:
    def walk(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
        for node in graph.node:
            yield node
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    yield from walk(attr.g)
                for g in attr.graphs:
                    yield from walk(g)

    yield from walk(model.graph)
    for function in model.functions:
        yield from function.node


def _check_self_contained(model: onnx.ModelProto, report: FileReport) -> None:
    external = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        report.fail(
            f"keeps {len(external)} initializer(s) in external data files (e.g. '{external[0]}'); the browser "
            "fetches one self-contained .onnx file"
        )


def _check_versions(model: onnx.ModelProto, report: FileReport) -> None:
    if model.ir_version > MAX_IR_VERSION:
        report.fail(
            f"IR version {model.ir_version} is newer than {WEB_RUNTIME} is known to run (max {MAX_IR_VERSION}); "
            f"export with an IR version <= {MAX_IR_VERSION}"
        )
    local = {f.domain for f in model.functions}  # domains defined inside the file itself
    for imp in model.opset_import:
        if imp.domain in _DEFAULT_DOMAINS:
            if imp.version > MAX_OPSET:
                report.fail(
                    f"opset {imp.version} is newer than {WEB_RUNTIME} is known to run (max {MAX_OPSET}); "
                    f"export with opset={MAX_OPSET}"
                )
        elif imp.domain == _ML_DOMAIN:
            if imp.version > MAX_ML_OPSET:
                report.fail(f"ai.onnx.ml opset {imp.version} is newer than {WEB_RUNTIME} runs (max {MAX_ML_OPSET})")
        elif imp.domain not in local:
            report.fail(f"imports operator domain '{imp.domain}', which {WEB_RUNTIME} does not provide")


def _check_random_ops(model: onnx.ModelProto, report: FileReport) -> None:
    for node in _all_nodes(model):
        if node.op_type in RANDOM_OPS:
            report.fail(
                f"node '{node.name or '(unnamed)'}' is a random-sampling {node.op_type} op; the exported model "
                "must be deterministic (export the mean action, not a sampler)"
            )


def _check_io(model: onnx.ModelProto, contract: ModelContract, report: FileReport) -> bool:
    initializers = {t.name for t in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in initializers]
    ok = True
    for kind, values, expected in (("input", inputs, contract.input), ("output", model.graph.output, contract.output)):
        found = [_describe_value(v) for v in values]
        report.info[f"{kind}s"] = found
        if len(values) != 1:
            report.fail(f"has {len(values)} {kind}s ({', '.join(found) or 'none'}), expected exactly one: "
                        f"{expected.describe()}")  # fmt: skip
            ok = False
            continue
        value = values[0]
        if value.name != expected.name:
            report.fail(f"{kind} is named '{value.name}', expected '{expected.name}' (found {found[0]})")
            ok = False
        tensor = value.type.tensor_type
        if not value.type.HasField("tensor_type") or tensor.elem_type != expected.dtype:
            want = _dtype_name(expected.dtype)
            report.fail(f"{kind} '{value.name}' has type {_type_name(value.type)}, expected {want}")
            ok = False
            continue
        got = _dims(tensor)
        if (
            got is None
            or len(got) != len(expected.shape)
            or not all(_dim_matches(g, e) for g, e in zip(got, expected.shape))
        ):
            hint = ""
            if got and isinstance(got[0], int) and expected.shape[0] is None:
                hint = f"; the batch dimension is fixed at {got[0]}, the contract needs it dynamic (N)"
            want = _shape_str(expected.shape)
            report.fail(f"{kind} '{value.name}' has shape {_shape_str(got)}, expected {want}{hint}")
            ok = False
    return ok


def _check_onnx_checker(model: onnx.ModelProto, report: FileReport) -> None:
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # ValidationError, InferenceError
        message = str(e).strip().splitlines()
        more = f" (and {len(message) - 3} more lines)" if len(message) > 3 else ""
        report.fail(f"fails onnx.checker.check_model(full_check=True): {' | '.join(message[:3])}{more}")


def _load_session(data: bytes, report: FileReport):
    import onnxruntime as ort

    _start_ort_environment()
    options = ort.SessionOptions()
    options.log_severity_level = 2  # warnings and errors: a clean file loads silently
    try:
        with capture_native_stderr() as captured:
            session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as e:
        report.fail(f"onnxruntime cannot load it: {str(e).strip()[:500]}")
        return None
    warnings = [line.strip() for line in captured.text.splitlines() if any(m in line for m in _ORT_LOG_MARKERS)]
    if warnings:
        more = f" (and {len(warnings) - 2} more)" if len(warnings) > 2 else ""
        report.fail(
            f"onnxruntime printed {len(warnings)} warning(s) while loading it, e.g. {_strip_ansi(warnings[0])}"
            + (f" | {_strip_ansi(warnings[1])}" if len(warnings) > 1 else "")
            + more
            + " (typically declared shapes or types that disagree with the graph; re-export: the exporter "
            "re-infers them)"
        )
    return session


@functools.cache
def _start_ort_environment() -> None:
    """Create onnxruntime's process-wide environment outside the captured load: on some
    machines it logs device-discovery warnings that say nothing about the file."""
    import onnxruntime as ort

    make = onnx.helper
    x, y = (make.make_tensor_value_info(name, onnx.TensorProto.FLOAT, [1]) for name in ("x", "y"))
    graph = make.make_graph([make.make_node("Identity", ["x"], ["y"])], "warmup", [x], [y])
    model = make.make_model(graph, opset_imports=[make.make_opsetid("", MAX_OPSET)], ir_version=MAX_IR_VERSION)
    ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _check_runs(session, contract: ModelContract, report: FileReport) -> None:
    rng = np.random.default_rng(0)  # a fixed probe, not training randomness
    in_shape = contract.input.shape[1:]
    for batch in (1, 3):
        x = rng.standard_normal((batch, *in_shape)).astype(np.float32)
        try:
            first = session.run([contract.output.name], {contract.input.name: x})[0]
            second = session.run([contract.output.name], {contract.input.name: x})[0]
        except Exception as e:
            report.fail(f"onnxruntime fails to run it at batch {batch}: {str(e).strip()[:300]}")
            return
        want = (batch, *contract.output.shape[1:])
        if tuple(first.shape) != want:
            report.fail(f"at batch {batch} output '{contract.output.name}' has shape {list(first.shape)}, "
                        f"expected {list(want)}")  # fmt: skip
            return
        if not np.all(np.isfinite(first)):
            report.fail(f"at batch {batch} output '{contract.output.name}' is not finite")
        if not np.array_equal(first, second):
            report.fail(
                f"is not deterministic: the same input at batch {batch} gave outputs differing by up to "
                f"{float(np.max(np.abs(first - second))):.3g} (a random op or sampler inside?)"
            )
    if contract.output_range is not None:
        lo, hi = (float(np.float32(v)) for v in contract.output_range)  # the bound as float32 holds it
        x = (rng.standard_normal((64, *in_shape)) * _HUGE).astype(np.float32)
        y = session.run([contract.output.name], {contract.input.name: x})[0]
        if not (np.all(np.isfinite(y)) and y.min() >= lo and y.max() <= hi):
            report.fail(
                f"output '{contract.output.name}' leaves [{lo:g}, {hi:g}] for large inputs "
                f"(min {np.nanmin(y):.4g}, max {np.nanmax(y):.4g}); bound it (tanh) in the graph"
            )


# --- the shipped directory --------------------------------------------------------------


def check_dir(directory: str | Path, spec: TaskSpec | None, models: tuple[str, ...] = PROFILE_MODELS) -> Report:
    """Check the named models (``MODELS``), and manifest.json when there is one. With a
    profile model among them, the contracts and task.json are ``spec``'s."""
    directory = Path(directory)
    known = contracts(spec)
    unknown = [m for m in models if m not in known]
    if unknown:
        raise ValueError(f"no contract for {unknown} (profile models need a task profile); known: {sorted(known)}")
    files = [check_file(directory / known[m].file, known[m]) for m in models]
    if spec is not None and any(m in PROFILE_MODELS for m in models):
        files.append(check_task_json(directory / spec.artifacts.task_file, spec))
    if (directory / MANIFEST_FILE).exists():
        files.append(check_manifest(directory))
    return Report(str(directory), files)


def check_task_json(path: Path, spec: TaskSpec) -> FileReport:
    report = FileReport(path.name)
    if not path.is_file():
        report.fail(f"missing ({path}); write it with `python -m orient_jax.profiles {spec.name}` or the export")
        return report
    try:
        shipped = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        report.fail(f"is not valid JSON: {e}")
        return report
    expected = spec.to_dict()
    if shipped != expected:
        keys = sorted(k for k in expected.keys() | shipped.keys() if shipped.get(k) != expected.get(k))
        report.fail(
            f"does not match task profile {spec.name!r} (differs in: {', '.join(keys)}); it is stale or another "
            f"profile's: re-export, or run `python -m orient_jax.profiles {spec.name}`"
        )
    return report


def check_manifest(directory: Path) -> FileReport:
    """Every file the manifest lists exists and has the recorded sha256 and size."""
    report = FileReport(MANIFEST_FILE)
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text())
        entries = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        report.fail(f"is unreadable or has no 'files' map: {e}")
        return report
    for name, entry in entries.items():
        path = directory / name
        if not path.is_file():
            report.fail(f"lists {name}, which is missing")
            continue
        data = path.read_bytes()
        if len(data) != entry.get("bytes") or sha256_hex(data) != entry.get("sha256"):
            report.fail(f"{name} changed after export (its size or sha256 differs from the manifest); re-export it")
    return report


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- helpers ----------------------------------------------------------------------------


class _Captured:
    text = ""


@contextlib.contextmanager
def capture_native_stderr() -> Iterator[_Captured]:
    """Capture what native code (onnxruntime's logger) writes to file descriptor 2."""
    captured = _Captured()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            captured.text = tmp.read().decode("utf-8", "replace")


def _dims(tensor: onnx.TypeProto.Tensor) -> list[int | str | None] | None:
    if not tensor.HasField("shape"):
        return None
    dims = []
    for d in tensor.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or None))
    return dims


def _dim_matches(got: int | str | None, expected: int | None) -> bool:
    if expected is None:  # dynamic batch: a symbolic or unknown dimension, never a number
        return not isinstance(got, int)
    return got == expected


def _shape_str(shape) -> str:
    if shape is None:
        return "(no shape)"
    return "[" + ",".join("N" if d is None else str(d) for d in shape) + "]"


def _dtype_name(dtype: int) -> str:
    try:
        return onnx.helper.tensor_dtype_to_np_dtype(dtype).name
    except (KeyError, ValueError, TypeError):
        return onnx.TensorProto.DataType.Name(dtype) if dtype in onnx.TensorProto.DataType.values() else str(dtype)


def _type_name(t: onnx.TypeProto) -> str:
    return _dtype_name(t.tensor_type.elem_type) if t.HasField("tensor_type") else t.WhichOneof("value") or "unknown"


def _describe_value(v: onnx.ValueInfoProto) -> str:
    if not v.type.HasField("tensor_type"):
        return f"'{v.name}' {_type_name(v.type)}"
    return f"'{v.name}' {_type_name(v.type)} {_shape_str(_dims(v.type.tensor_type))}"


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
