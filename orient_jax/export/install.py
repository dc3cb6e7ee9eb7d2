"""Install a profile's exported models into a runtime's own folder: check, back up, copy.

For a runtime that loads its models from inside its folder (the original page:
``static/models/``, ``artifacts.runtime_models_dir``), installing means:

1. the runtime's folder is the runtime, unchanged: each file the profile records of it
   (``runtime.files``: path, sha256) matches byte for byte;
2. the export folder passes the profile's contract check (``contract.check_dir``: names,
   shapes, opsets, determinism, ``task.json``, ``manifest.json``'s hashes);
3. every file that would be replaced and differs is first copied to
   ``<models dir>/backup-<UTC time>/`` (never overwritten: each install gets its own);
4. the models are copied in, each through a temporary file and an atomic rename, so a
   crash leaves either the old file or the new one, never half of one.

``restore`` copies the newest backup's files back (the backup itself is kept).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
from pathlib import Path

from orient_jax.export import contract
from orient_jax.profiles.spec import TaskSpec

BACKUP_PREFIX = "backup-"


class InstallError(RuntimeError):
    """The runtime's folder or the export is not what installing needs; nothing was changed."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_runtime(runtime_dir: str | Path, spec: TaskSpec, how_to_get: str = "") -> None:
    """Raise ``InstallError`` unless every file the profile records of its runtime
    (``runtime.files``: path, sha256) is in ``runtime_dir`` byte for byte."""
    runtime_dir = Path(runtime_dir)
    hint = f"; {how_to_get}" if how_to_get else ""
    if not runtime_dir.is_dir():
        raise InstallError(f"{runtime_dir} is not a folder{hint}")
    for name, want in spec.runtime.files:
        path = runtime_dir / name
        if not path.is_file():
            raise InstallError(f"{path} is missing: {runtime_dir} is not the runtime {spec.runtime.source}{hint}")
        got = _sha256(path)
        if got != want:
            raise InstallError(
                f"{path} differs from {spec.runtime.source} (sha256 {got[:12]}, expected {want[:12]}): install only "
                "into an unchanged checkout"
            )


def model_files(spec: TaskSpec) -> tuple[str, str]:
    return spec.artifacts.pose_file, spec.artifacts.policy_file


def models_dir(spec: TaskSpec, runtime_dir: str | Path) -> Path:
    if not spec.artifacts.runtime_models_dir:
        raise InstallError(f"task profile {spec.name!r} has no runtime to install into (it reads its export folder)")
    return Path(runtime_dir) / spec.artifacts.runtime_models_dir


def install(export_dir: str | Path, runtime_dir: str | Path, spec: TaskSpec, how_to_get: str = "",
            now: datetime.datetime | None = None) -> dict:  # fmt: skip
    """Check, back up and copy (module docstring). Returns {"installed": [paths], "unchanged":
    [paths], "backup": path or None}."""
    export_dir = Path(export_dir)
    verify_runtime(runtime_dir, spec, how_to_get)
    if not export_dir.is_dir():
        raise InstallError(
            f"{export_dir} is not a folder; export first: python -m experiments.export --task {spec.name}"
        )
    report = contract.check_dir(export_dir, spec)
    if not report.ok:
        raise InstallError(
            f"{export_dir} fails its contract check ({len(report.problems)} problem(s); python -m experiments."
            f"check_onnx {export_dir} --task {spec.name} lists them), nothing installed: {report.problems[0]}"
        )
    target = models_dir(spec, runtime_dir)
    target.mkdir(parents=True, exist_ok=True)
    changed, unchanged = [], []
    for name in model_files(spec):
        source, dest = export_dir / name, target / name
        (unchanged if dest.is_file() and _sha256(dest) == _sha256(source) else changed).append(name)
    backup = None
    replaced = [n for n in changed if (target / n).is_file()]
    if replaced:
        stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%SZ")
        backup = target / f"{BACKUP_PREFIX}{stamp}"
        if backup.exists():
            raise InstallError(f"{backup} exists already; wait a second and install again")
        backup.mkdir()
        for name in replaced:
            shutil.copy2(target / name, backup / name)
    for name in changed:
        _atomic_copy(export_dir / name, target / name)
    return {"installed": [str(target / n) for n in changed], "unchanged": [str(target / n) for n in unchanged],
            "backup": None if backup is None else str(backup)}  # fmt: skip


def backups(spec: TaskSpec, runtime_dir: str | Path) -> list[Path]:
    """The runtime's backups, oldest first."""
    target = models_dir(spec, runtime_dir)
    return sorted(p for p in target.glob(f"{BACKUP_PREFIX}*") if p.is_dir()) if target.is_dir() else []


def restore(runtime_dir: str | Path, spec: TaskSpec) -> dict:
    """Copy the newest backup's files back over the installed ones. Returns {"restored": [paths], "backup": path}."""
    found = backups(spec, runtime_dir)
    if not found:
        raise InstallError(f"no backup in {models_dir(spec, runtime_dir)}: nothing to restore")
    latest, target = found[-1], models_dir(spec, runtime_dir)
    restored = []
    for path in sorted(latest.iterdir()):
        _atomic_copy(path, target / path.name)
        restored.append(str(target / path.name))
    return {"restored": restored, "backup": str(latest)}


def _atomic_copy(source: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.installing")
    shutil.copyfile(source, tmp)
    os.replace(tmp, dest)
