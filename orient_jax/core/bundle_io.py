"""Trained weights on disk: ``NAME.json`` (format tag, how to rebuild the network, meta)
beside ``NAME.msgpack`` (flax-serialized arrays). The policy (``models/rotation_policy``)
and the orientation CNN (``models/pose``) both use it, in run directories too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flax import serialization


def write(directory: str | Path, name: str, payload: Any, info: dict) -> Path:
    """Write the arrays atomically (never a half-written file), then the JSON."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f"{name}.msgpack.tmp"
    tmp.write_bytes(serialization.to_bytes(payload))
    tmp.replace(directory / f"{name}.msgpack")
    (directory / f"{name}.json").write_text(json.dumps(info, indent=2) + "\n")
    return directory


def read_info(path: str | Path, name: str, fmt: str, what: str, hint: str) -> tuple[Path, dict]:
    """Find the bundle in ``path`` or ``path/name`` (a run directory) and read its JSON;
    when it is not there, the error names ``what`` was looked for and ends with ``hint``."""
    path = Path(path)
    if (path / name).is_dir():
        path = path / name
    info_path, blob_path = path / f"{name}.json", path / f"{name}.msgpack"
    if not info_path.is_file() or not blob_path.is_file():
        raise FileNotFoundError(f"no {what} at {path} (expected {info_path.name} and {blob_path.name}); {hint}")
    info = json.loads(info_path.read_text())
    if info.get("format") != fmt:
        raise ValueError(f"{info_path}: unknown {name} format {info.get('format')!r}, expected {fmt!r}")
    return path, info


def read_arrays(path: Path, name: str, template: Any) -> Any:
    """The arrays, in the structure of ``template``; a damaged file says so."""
    blob_path = path / f"{name}.msgpack"
    try:
        return serialization.from_bytes(template, blob_path.read_bytes())
    except Exception as e:
        raise ValueError(f"{blob_path} is corrupt or does not match {path / f'{name}.json'}: {e}") from e
