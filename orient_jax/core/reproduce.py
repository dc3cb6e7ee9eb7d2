"""Re-running a run from its saved config, and comparing what the two runs ended with.

A run directory (``runs.write_metadata``) holds ``config.json`` (``{"preset", "experiment"}``)
and ``meta.json`` (seed, git SHA, packages, devices, input files' sha256). This module
says which experiment a run is, what its *final metrics* are (the last metrics row, the
final evaluation, and the sha256 of the final weights; wall-clock figures left out), how
two such sets differ, and how the environment of a re-run differs from the original's.
The re-run itself is the train command's (``experiments/reproduce.py``), and each kind's
``Kind`` is a row of the run-kind table there (``experiments/kinds.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import platform
from pathlib import Path

from orient_jax.core import runs


@dataclasses.dataclass(frozen=True)
class Kind:
    """What a re-run compares of one kind of run."""

    name: str  # e.g. "rotation" or "vision"
    eval_file: str  # its final evaluation, written when training finishes
    weights: str  # the final weights, relative to the run directory
    volatile: frozenset[str]  # keys that hold timings or paths, not results
    sections: tuple[str, ...]  # keys that only this experiment's config has: how a run is recognized


@dataclasses.dataclass(frozen=True)
class Row:
    key: str
    original: object
    rerun: object

    @property
    def same(self) -> bool:
        a, b = self.original, self.rerun
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return a == b and type(a) is type(b)


def run_kind(run_dir: Path, kinds: list[Kind]) -> Kind:
    """Which of ``kinds`` ``run_dir`` holds, from its config.json."""
    path = Path(run_dir) / "config.json"
    names = " or ".join(k.name for k in kinds)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {run_dir} a run directory ({names})?")
    experiment = json.loads(path.read_text()).get("experiment", {})
    for kind in kinds:
        if all(key in experiment for key in kind.sections):
            return kind
    raise ValueError(f"{path} is not the config of a {names} run")


def read_meta(run_dir: Path) -> dict:
    path = Path(run_dir) / "meta.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def last_update(run_dir: Path) -> int | None:
    rows = runs.MetricsLog(Path(run_dir) / "metrics.jsonl").read()
    return rows[-1]["update"] if rows else None


def final_metrics(run_dir: Path, kind: Kind) -> dict[str, object]:
    """The run's results, flat: ``metrics.KEY`` (last row), ``eval.KEY``, ``weights.sha256``."""
    run_dir = Path(run_dir)
    out: dict[str, object] = {}
    rows = runs.MetricsLog(run_dir / "metrics.jsonl").read()
    if rows:
        out.update({f"metrics.{k}": v for k, v in rows[-1].items() if k not in kind.volatile})
    eval_path = run_dir / kind.eval_file
    if eval_path.is_file():
        result = json.loads(eval_path.read_text())
        out.update({f"eval.{k}": v for k, v in result.items() if k not in kind.volatile and not isinstance(v, dict)})
    weights = run_dir / kind.weights
    if weights.is_file():
        out["weights.sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    return out


def compare(original: dict, rerun: dict) -> list[Row]:
    """Every key of either side, in the original's order; exact equality."""
    keys = list(original) + [k for k in rerun if k not in original]
    return [Row(k, original.get(k, "(missing)"), rerun.get(k, "(missing)")) for k in keys]


def environment_warnings(meta: dict) -> list[str]:
    """How this process's environment differs from the one ``meta`` recorded: git SHA,
    Python, package versions, devices, and the contents of the input files."""
    warnings = []
    sha = runs.git_sha()
    if meta.get("git_sha") and meta["git_sha"] != sha:
        warnings.append(f"git SHA differs: the run used {meta['git_sha']}, this checkout is {sha}")
    if meta.get("git_sha", "").endswith("-dirty") or sha.endswith("-dirty"):
        warnings.append("a working tree with uncommitted changes was involved: the SHA does not pin the code")
    if meta.get("python") and meta["python"] != platform.python_version():
        warnings.append(f"Python differs: {meta['python']} then, {platform.python_version()} now")
    now = runs.package_versions()
    for name, version in (meta.get("packages") or {}).items():
        if now.get(name, version) != version:
            warnings.append(f"{name} differs: {version} then, {now[name]} now")
    import jax

    devices = [str(d) for d in jax.devices()]
    if meta.get("devices") and meta["devices"] != devices:
        warnings.append(f"devices differ: {meta['devices']} then, {devices} now (results may differ in the last bits)")
    for name, record in (meta.get("inputs") or {}).items():
        current = runs.file_record(record["path"])["sha256"]
        if current != record.get("sha256"):
            state = "is missing" if current is None else "has other contents"
            warnings.append(f"input {name} ({record['path']}) {state} than when the run was made")
    return warnings


def format_table(rows: list[Row]) -> str:
    def show(v) -> str:
        if isinstance(v, float):
            return repr(v)
        return str(v)[:16] + "..." if isinstance(v, str) and len(v) > 20 else str(v)

    width = max([len(r.key) for r in rows] + [6])
    lines = [f"{'':2}{'metric':<{width}}  {'original':>24}  {'re-run':>24}"]
    for r in rows:
        lines.append(f"{'  ' if r.same else '! '}{r.key:<{width}}  {show(r.original):>24}  {show(r.rerun):>24}")
    return "\n".join(lines)
