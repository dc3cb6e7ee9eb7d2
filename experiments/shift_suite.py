"""The shift suite, run: render the held-out shift sets a model lacks, score it on each.

    python -m experiments.evaluate vision --shift-suite                      # the shipped CNN
    python -m experiments.evaluate vision --shift-suite --run runs/vision/x --shifts none,sensor-jpeg
    python -m experiments.eval_vision --shift-suite --out docs/results       # the recorded figures

The sets (``render.shifts``: one named override of the held-out preset each, its own seed)
are rendered by the render venv into ``DATA_ROOT/<task>-<count>/<shift>`` the first time,
then reused (the renderer resumes an interrupted set and re-checks a finished one). Writes
``OUT/vision_shift.json`` (per shift: median, p95, p99, max and mean in degrees, with the
model's sha256) after every set, so a run cut short keeps what it scored, and
``OUT/vision_shift_worst.png``: each set's 16 worst images, largest error first.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from orient_jax import paths, profiles
from orient_jax.core import runs
from orient_jax.vision import data as data_lib
from orient_jax.vision import model_io, shift_suite
from orient_jax.vision import run as vision_run
from orient_jax.vision import train as train_lib
from render import shifts as render_shifts

RESULT_FILE = "vision_shift.json"
SHEET_FILE = "vision_shift_worst.png"


class SuiteError(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class SuiteArgs:
    model: Path | None  # a model folder or vision run; None: the shipped model
    out: Path
    count: int = 512
    shifts: tuple[str, ...] = ()  # () = every shift of the model's object kind
    data_root: Path = paths.DATA / "shifts"
    render_python: Path = paths.REPO / ".render-venv" / "bin" / "python"
    workers: int = 2
    runtime_dir: Path | None = None  # a profile whose object is its runtime's mesh reads it here
    batch: int = 256


def command(args: SuiteArgs) -> str:
    """The command that scores this suite again (the sets it needs are found where they are)."""
    parts = ["python -m experiments.evaluate vision --shift-suite"]
    if args.model is not None:
        parts.append(f"--run {shown(args.model)}")
    if args.shifts:
        parts.append(f"--shifts {','.join(args.shifts)}")
    parts.append(f"--count {args.count} --data-root {shown(args.data_root)} --out {shown(args.out)}")
    return " ".join(parts)


def shown(path: Path) -> str:
    """A path as a command line in the repository would write it (relative where it is inside)."""
    path = Path(path).resolve()
    return str(path.relative_to(paths.REPO)) if path.is_relative_to(paths.REPO) else str(path)


def render_set(args: SuiteArgs, task: str, preset: str, shift: render_shifts.Shift) -> Path:
    """``DATA_ROOT/<task>-<count>/<shift>``, rendered (or resumed, or re-checked) by the render venv."""
    root = args.data_root / f"{task}-{args.count}" / shift.name
    if not args.render_python.exists():
        raise SuiteError(f"{args.render_python} not found: run `make render-setup` to render the shift sets")
    argv = [str(args.render_python), "-m", "render", "render", "--task", task, "--out", str(root),
            "--workers", str(args.workers), *render_shifts.render_arguments(preset, shift, args.count)]  # fmt: skip
    if args.runtime_dir is not None:
        argv += ["--runtime-dir", str(Path(args.runtime_dir).resolve())]
    if not sys.stdout.isatty():
        argv.append("--no-progress")
    print(f"shift {shift.name}: {shift.what}\n    $ {' '.join(argv)}", flush=True)
    done = subprocess.run(argv, cwd=paths.REPO)
    if done.returncode:
        raise SuiteError(f"rendering {root} failed (exit {done.returncode}); re-run the same command to resume")
    return root


def run(args: SuiteArgs) -> dict:
    """Render what is missing, score the model on every set; returns (and writes) the document."""
    if args.count <= 0:
        raise ValueError(f"--count must be positive, got {args.count}")
    model_dir, _ = model_io.read_info(args.model)
    model, info = model_io.load(args.model)
    spec = profiles.get(info["task"])
    preset, suite = render_shifts.suite(spec.artifacts.object_kind)
    chosen = render_shifts.select(suite, list(args.shifts))
    if spec.runtime.mesh and args.runtime_dir is None:
        raise ValueError(f"task profile {spec.name!r} renders its runtime's mesh: pass --runtime-dir")
    doc = {
        "model": str(args.model or "shipped"),
        "model_sha256": shift_suite.model_sha256(model_dir),
        "task": spec.name,
        "held_out_preset": preset,
        "count": args.count,
        "command": command(args),
        "shifts": [],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    sheet_rows = []
    for shift in chosen:
        root = render_set(args, spec.name, preset, shift)
        data = data_lib.load(root, spec)
        pred = vision_run.predict(model, data.images, spec.onnx, args.batch)
        errors = train_lib.angular_errors_deg(pred, data.quats)
        result = shift_suite.row(shift, errors, shown(root))
        doc["shifts"].append(result)
        sheet_rows.append((shift_suite.sheet_label(result), *shift_suite.worst(data.images, errors)))
        runs.write_atomically(args.out / RESULT_FILE, json.dumps(doc, indent=2, allow_nan=False) + "\n")  # as it goes
        print(
            f"  {shift.name}: median {result['median_deg']:.2f} deg, p95 {result['p95_deg']:.2f}, "
            f"p99 {result['p99_deg']:.2f}, max {result['max_deg']:.2f}",
            flush=True,
        )
    shift_suite.contact_sheet(sheet_rows, args.out / SHEET_FILE)
    return doc
