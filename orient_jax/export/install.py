"""Install a profile's exported models into a runtime's own folder, and take them out again.

For a runtime that loads its models from inside its folder (the original page:
``static/models/``, ``artifacts.runtime_models_dir``), installing means:

1. the runtime's folder is the runtime, unchanged: each file the profile records of it
   (``runtime.files``: path, sha256) matches byte for byte;
2. the export folder passes the profile's contract check (``contract.check_dir``);
3. **the first install backs up** the model files as they are (``BACKUP``: a copy of each,
   and ``manifest.json`` with each file's sha256, or ``null`` for a file the folder did
   not have). The copies are written under temporary names, fsynced and renamed, and the
   folder only gets its final name once the manifest is in, so a backup that exists is
   complete. Later installs never touch it. The manifest says whether the files were the
   runtime's own (``runtime.models``: their git blob hashes at the recorded commit);
4. **the two models go in all or nothing**: each is written beside its target under a
   temporary name (created exclusively, never through a symlink) and fsynced; a journal
   naming them is written; then both are renamed in and the journal removed. A process
   killed between the renames leaves the journal, and the next install or restore
   finishes the swap (``recover``).

``restore`` checks the backup against its manifest (a damaged backup is refused, by
name, and nothing changes), then returns the folder to its state before the first
install: replaced files come back, files the runtime did not have are removed, and so
is the backup itself. A symlink anywhere in the paths written is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from orient_jax.export import contract
from orient_jax.profiles.spec import TaskSpec

BACKUP = "orient-jax-backup"  # in the runtime's models folder
MANIFEST = "manifest.json"
JOURNAL = ".orient-jax-install.json"  # the swap in progress
NEW = ".orient-jax-new"  # suffix of a staged model
FORMAT = "orient-jax-runtime-backup/1"


class InstallError(RuntimeError):
    """The runtime's folder, the export or the backup is not what the step needs; nothing was changed."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def git_blob_sha1(data: bytes) -> str:
    """The hash git names a file's content by (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


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


# -- files written safely -------------------------------------------------------------------
def _no_symlinks(runtime_dir: Path, path: Path) -> None:
    """Refuse ``path`` if it, or a folder between ``runtime_dir`` and it, is a symlink."""
    here = Path(runtime_dir)
    for part in path.relative_to(runtime_dir).parts:
        here = here / part
        if here.is_symlink():
            raise InstallError(f"{here} is a symlink; refusing to write through it (remove it and try again)")


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a file that must not exist yet, never following a symlink, and fsync it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        raise InstallError(f"{path} exists (a symlink or a file we did not expect); remove it and try again") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _clear_stale(path: Path) -> None:
    """Remove a temporary file of ours left by a process that was killed (never a symlink's target)."""
    if path.is_symlink() or path.is_file():
        path.unlink()


# -- the backup -----------------------------------------------------------------------------
def backup_dir(spec: TaskSpec, runtime_dir: str | Path) -> Path:
    return models_dir(spec, runtime_dir) / BACKUP


def read_backup(spec: TaskSpec, runtime_dir: str | Path) -> dict | None:
    """The backup's manifest after checking every file it names (None: there is no backup).
    A damaged backup raises ``InstallError`` naming what is wrong."""
    folder = backup_dir(spec, runtime_dir)
    if not folder.exists():
        return None
    if folder.is_symlink() or not folder.is_dir():
        raise InstallError(f"the backup {folder} is not a folder; restore by hand from your checkout")
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InstallError(f"the backup {folder} is damaged: its {MANIFEST} is unreadable ({e})") from None
    if manifest.get("format") != FORMAT or set(files) != set(model_files(spec)):
        raise InstallError(f"the backup {folder} is damaged: its {MANIFEST} does not list {model_files(spec)}")
    for name, digest in files.items():
        if digest is None:
            continue
        copy = folder / name
        if copy.is_symlink() or not copy.is_file():
            raise InstallError(f"the backup {folder} is damaged: {name} is missing")
        if _sha256(copy) != digest:
            raise InstallError(f"the backup {folder} is damaged: {name} differs from its sha256 in {MANIFEST}")
    return manifest


def _make_backup(spec: TaskSpec, runtime_dir: Path, target: Path) -> dict:
    """Back up the model files as they are now (module doc, step 3); returns the manifest."""
    folder = backup_dir(spec, runtime_dir)
    partial = target / f".{BACKUP}.partial"  # a backup cut short: the live files are still the ones to keep
    _no_symlinks(runtime_dir, partial)
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    try:
        manifest = _write_backup(spec, target, partial)
    except OSError:  # a full disk, a read-only file system: report it, leave the folder as it was
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(folder)
    _fsync_dir(target)
    return manifest


def _write_backup(spec: TaskSpec, target: Path, partial: Path) -> dict:
    own = dict(spec.runtime.models)
    files, theirs = {}, {}
    for name in model_files(spec):
        live = target / name
        if not live.exists():
            files[name] = None
            continue
        data = live.read_bytes()
        _write_new(partial / f".{name}.tmp", data)
        os.replace(partial / f".{name}.tmp", partial / name)
        files[name] = hashlib.sha256(data).hexdigest()
        theirs[name] = own.get(f"{spec.artifacts.runtime_models_dir}/{name}") == git_blob_sha1(data)
    manifest = {
        "format": FORMAT,
        "runtime": spec.runtime.source,
        "files": files,  # null: the folder did not have it; restore removes ours
        "runtime_own": theirs,  # whether each file was the runtime's own at its recorded commit
    }
    _write_new(partial / f".{MANIFEST}.tmp", (json.dumps(manifest, indent=2) + "\n").encode())
    os.replace(partial / f".{MANIFEST}.tmp", partial / MANIFEST)
    _fsync_dir(partial)
    return manifest


# -- the swap -------------------------------------------------------------------------------
def recover(spec: TaskSpec, runtime_dir: str | Path) -> str | None:
    """Finish a swap that was cut short (its journal is there), or clear staged files that
    never got one. What it did, in words (None: nothing)."""
    target = models_dir(spec, runtime_dir)
    journal = target / JOURNAL
    staged = [target / f".{n}{NEW}" for n in model_files(spec)]
    trash = target / f".{BACKUP}.restored"  # a restore that finished but for deleting its backup
    if trash.is_dir() and not trash.is_symlink():
        shutil.rmtree(trash)
    if journal.is_file() and not journal.is_symlink():
        for name in json.loads(journal.read_text())["files"]:
            new = target / f".{name}{NEW}"
            if new.is_file() and not new.is_symlink():
                os.replace(new, target / name)
        _fsync_dir(target)
        journal.unlink()
        return f"finished an install that was interrupted between its renames in {target}"
    for path in staged:
        if path.exists() or path.is_symlink():
            _clear_stale(path)
    return None


def _swap_in(target: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        _write_new(target / f".{name}{NEW}", data)
    _write_new(target / JOURNAL, (json.dumps({"files": sorted(files)}) + "\n").encode())
    _fsync_dir(target)
    for name in files:
        os.replace(target / f".{name}{NEW}", target / name)
    _fsync_dir(target)
    (target / JOURNAL).unlink()


def install(export_dir: str | Path, runtime_dir: str | Path, spec: TaskSpec, how_to_get: str = "") -> dict:
    """Check, back up (the first time) and swap in (module docstring). Returns {"installed":
    [paths], "unchanged": [paths], "backup": path, "backup_made": bool}."""
    export_dir, runtime_dir = Path(export_dir), Path(runtime_dir)
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
    names = model_files(spec)
    for path in (target, *(target / n for n in names), *(target / f".{n}{NEW}" for n in names), target / JOURNAL):
        _no_symlinks(runtime_dir, path)
    if not target.is_dir():
        raise InstallError(f"{target} is not a folder: {runtime_dir} is not the runtime {spec.runtime.source}")
    recover(spec, runtime_dir)
    made = read_backup(spec, runtime_dir) is None
    if made:
        _make_backup(spec, runtime_dir, target)
    new = {n: (export_dir / n).read_bytes() for n in names}
    changed = [n for n in names if not ((target / n).is_file() and (target / n).read_bytes() == new[n])]
    if changed:
        _swap_in(target, {n: new[n] for n in changed})
    return {
        "installed": [str(target / n) for n in changed],
        "unchanged": [str(target / n) for n in names if n not in changed],
        "backup": str(backup_dir(spec, runtime_dir)),
        "backup_made": made,
    }


def restore(runtime_dir: str | Path, spec: TaskSpec) -> dict:
    """Put the folder back as it was before the first install (module docstring). Returns
    {"restored": [paths], "removed": [paths], "backup": path}."""
    runtime_dir = Path(runtime_dir)
    target = models_dir(spec, runtime_dir)
    for path in (target, *(target / n for n in model_files(spec))):
        _no_symlinks(runtime_dir, path)
    manifest = read_backup(spec, runtime_dir)
    if manifest is None:
        raise InstallError(f"no backup in {target}: nothing to restore")
    recover(spec, runtime_dir)
    folder = backup_dir(spec, runtime_dir)
    restored, removed = [], []
    for name, digest in manifest["files"].items():
        live = target / name
        if digest is None:
            if live.exists():
                live.unlink()
                removed.append(str(live))
            continue
        if live.is_file() and _sha256(live) == digest:
            continue
        staged = target / f".{name}{NEW}"
        _clear_stale(staged)
        _write_new(staged, (folder / name).read_bytes())
        os.replace(staged, live)
        restored.append(str(live))
    _fsync_dir(target)
    trash = target / f".{BACKUP}.restored"
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(trash)
    folder.rename(trash)  # the backup goes last, once every file is back
    shutil.rmtree(trash)
    return {"restored": restored, "removed": removed, "backup": str(folder)}
