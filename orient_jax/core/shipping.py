"""Replacing a shipped folder all or nothing: stage it beside the target, then swap by renames.

    staging = shipping.stage(target)        # an empty folder beside target
    ... write every file into staging ...
    shipping.commit(staging, target)        # target now holds exactly what staging held

A folder of several files (``policy.json`` + ``policy.msgpack``) cannot be replaced by one
rename, so ``commit`` renames the old folder aside, renames the staged one in, and only
then deletes the old one. A process killed at any point leaves either the old folder or
the new one complete, never a mix: while the staged copy is being written the target is
untouched; between the two renames the old folder sits complete at ``.NAME-previous``,
and ``recover`` (which every ``stage`` runs first) puts it back. Same file system only:
staging lives in the target's parent.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def _staging(target: Path) -> Path:
    return target.parent / f".{target.name}-staging"


def _previous(target: Path) -> Path:
    return target.parent / f".{target.name}-previous"


def recover(target: Path) -> str | None:
    """Finish or undo a commit that was cut short; what it did, in words (None: nothing)."""
    target, previous = Path(target), _previous(Path(target))
    if not previous.exists():
        return None
    if target.exists():  # killed after the new folder went in: the old one only awaits deletion
        shutil.rmtree(previous)
        return f"removed {previous} (left by a ship that had finished)"
    previous.rename(target)  # killed between the renames: the old folder goes back
    return f"restored {target} from {previous} (a ship was interrupted before its new folder went in)"


def stage(target: Path) -> Path:
    """An empty staging folder beside ``target`` (any stale one is cleared)."""
    target = Path(target)
    recover(target)
    staging = _staging(target)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def commit(staging: Path, target: Path) -> None:
    """Put ``staging`` in place of ``target`` by renames."""
    target, previous = Path(target), _previous(Path(target))
    if target.exists():
        target.rename(previous)
    Path(staging).rename(target)
    if previous.exists():
        shutil.rmtree(previous)
