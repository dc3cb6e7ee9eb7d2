"""The rendered image dataset: its on-disk format (defined here, once) and a loader
that validates it.

numpy only: the renderer (``render/``, in its own venv with numpy 1.26) writes shards
with :func:`write_shard`, and the training side (main venv, numpy 2) reads them with
:func:`load` or :func:`iter_shards`. Every problem stops with a :class:`DatasetError`
that says what is wrong and the command that fixes it.

A dataset directory (``data/<preset>/``)::

    plan.json          written when rendering starts: what the dataset will be
                       (preset, task profile, seed, count, shard size, config, the
                       profile's camera and box size, asset, versions)
    shard-00000.npz    images [n, 224, 224, 3] uint8 (RGB, row 0 at the top),
    shard-00001.npz    quat_xyzw [n, 4] float32, index [n] int64, config_hash (a
    ...                string), and param_<name> [n, ...]: every randomized quantity
    manifest.json      written when every shard is in place and checked: the plan plus
                       each shard's index range, size and sha256, and the label check
    samples.png        the first images, and the same with their labels drawn on
    samples_labels.png
    render_log.jsonl   timings of each render command (not part of the format)

Labels: ``quat_xyzw`` is a unit quaternion (x, y, z, w), w >= 0, in the task profile's
frame (``orient_jax.profiles``: world Y up, rotates body-frame vectors into the world frame).
Shard ``k`` holds images ``[k * shard_size, min((k + 1) * shard_size, count))``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from orient_jax import paths

FORMAT_VERSION = 1
PLAN_FILE = "plan.json"
# How to make one (the render presets live in render/config.py, outside this venv).
RENDER_HINT = "`make data PRESET=quick` (the render presets: `.render-venv/bin/python -m render render --help`)"
MANIFEST_FILE = "manifest.json"
LOG_FILE = "render_log.jsonl"
IMAGES, QUATS, INDEX, CONFIG_HASH = "images", "quat_xyzw", "index", "config_hash"
PARAM_PREFIX = "param_"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so that equal arrays give equal bytes


class DatasetError(RuntimeError):
    """The dataset is missing, incomplete, corrupt or does not match the spec."""


def shard_name(shard: int) -> str:
    return f"shard-{shard:05d}.npz"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_shard(path: Path, arrays: dict[str, np.ndarray]) -> str:
    """Write ``arrays`` as an uncompressed ``.npz`` atomically; return its sha256.

    Uncompressed: the images carry sensor noise, so deflate saves only ~45% of the
    bytes and costs ~2.5 ms per image on the renderer's one effective core.

    The bytes depend only on the arrays (fixed zip timestamps, keys in the given
    order), so a resumed or re-rendered shard is byte-identical. The file appears
    under its final name only when complete: written to a temporary name in the same
    directory, then renamed.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asarray(value), allow_pickle=False)
    data = buffer.getvalue()
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return sha256_bytes(data)


def fix_command(root: Path, meta: dict) -> str:
    """The command that renders (or resumes, or repairs) the dataset at ``root``, from its
    plan or manifest ``meta`` (its preset and task profile)."""
    root, preset, task = Path(root), meta.get("preset"), meta.get("task", "cube")
    if preset and root.resolve() == (paths.DATA / preset).resolve():
        return f"make data PRESET={preset}" + (f" TASK={task}" if task != "cube" else "")
    return f".render-venv/bin/python -m render render --preset {preset or '<preset>'} --task {task} --out {root}"


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DatasetError(f"{path}: cannot read the {what} ({e}); delete it and re-render") from None


def _expected_shapes(plan: dict, n: int) -> dict[str, tuple[tuple[int, ...], str]]:
    res = plan["image_size"]
    shapes = {IMAGES: ((n, res, res, 3), "uint8"), QUATS: ((n, 4), "float32"), INDEX: ((n,), "int64")}
    for name, spec in plan["params"].items():
        shapes[PARAM_PREFIX + name] = ((n, *spec["shape"]), spec["dtype"])
    return shapes


def decode_shard(data: bytes, name: str, plan: dict, start: int, stop: int) -> dict[str, np.ndarray]:
    """Parse and validate one shard's bytes: keys, shapes, dtypes, indices, config hash.

    Raises :class:`DatasetError` naming the shard. Reading every member also checks
    each one's CRC-32, so a flipped byte anywhere is caught even without a manifest.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DatasetError(f"shard {name} is unreadable ({type(e).__name__}: {e})") from None
    expected = _expected_shapes(plan, stop - start)
    missing = sorted(set(expected) - set(arrays))
    if missing or CONFIG_HASH not in arrays:
        raise DatasetError(f"shard {name} lacks arrays {missing or [CONFIG_HASH]}")
    for key, (shape, dtype) in expected.items():
        if arrays[key].shape != shape or arrays[key].dtype != np.dtype(dtype):
            raise DatasetError(
                f"shard {name}: {key} is {arrays[key].dtype}{list(arrays[key].shape)}, expected {dtype}{list(shape)}"
            )
    if str(arrays[CONFIG_HASH]) != plan["config_hash"]:
        raise DatasetError(
            f"shard {name} belongs to another dataset "
            f"(config hash {arrays[CONFIG_HASH]}, this one is {plan['config_hash']})"
        )
    if not np.array_equal(arrays[INDEX], np.arange(start, stop)):
        raise DatasetError(f"shard {name} holds indices {arrays[INDEX][:3].tolist()}..., expected [{start}, {stop})")
    norms = np.linalg.norm(arrays[QUATS].astype(np.float64), axis=1)
    if not np.all(np.abs(norms - 1.0) < 1e-5):
        raise DatasetError(f"shard {name}: labels are not unit quaternions")
    return arrays


def shard_ranges(count: int, shard_size: int) -> list[tuple[int, int]]:
    return [(s, min(s + shard_size, count)) for s in range(0, count, shard_size)]


def spec_record(spec) -> dict:
    """What a dataset records of the task profile it was rendered for: everything of it
    that shapes the pixels and labels (the camera and the box size). ``spec`` is a
    ``orient_jax.profiles.spec.TaskSpec``."""
    return {"camera": json.loads(json.dumps(dataclasses.asdict(spec.camera))), "box_size": spec.physics.box_size}


def check_spec(meta: dict, root: Path, spec) -> None:
    """The dataset (its plan or manifest ``meta``) must have been rendered for ``spec``."""
    now = spec_record(spec)
    if meta.get("spec") != now:
        rendered = f"task profile {meta['task']!r}" if "task" in meta else "another task profile"
        raise DatasetError(
            f"{root} was rendered for {rendered} ({meta.get('spec')}), not for {spec.name!r} ({now}); render a "
            f"dataset for it: `{fix_command(root, {**meta, 'task': spec.name})}` into an empty directory"
        )
    if meta.get("image_size") != spec.camera.resolution:
        raise DatasetError(
            f"{root} holds {meta.get('image_size')}-pixel images, but {spec.name!r} takes "
            f"{spec.camera.resolution}-pixel ones; render a dataset for it: "
            f"`{fix_command(root, {**meta, 'task': spec.name})}` into an empty directory"
        )


def read_manifest(root: Path) -> dict:
    """The manifest of a complete dataset; a clear error for anything less."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"no dataset at {root}: render it with " + RENDER_HINT)
    manifest_path, plan_path = root / MANIFEST_FILE, root / PLAN_FILE
    if not manifest_path.exists():
        if not plan_path.exists():
            raise DatasetError(
                f"{root} is not a dataset (no {MANIFEST_FILE} or {PLAN_FILE}); render one with " + RENDER_HINT
            )
        plan = _read_json(plan_path, "plan")
        ranges = shard_ranges(plan["count"], plan["shard_size"])
        present = [k for k in range(len(ranges)) if (root / shard_name(k)).exists()]
        absent = [shard_name(k) for k in range(len(ranges)) if k not in set(present)]
        listing = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
        state = f"{len(present)} of {len(ranges)} shards are rendered" + (
            f" (missing: {listing})" if absent else ", but it was not finalized"
        )
        raise DatasetError(f"the dataset at {root} is incomplete: {state}. Resume with `{fix_command(root, plan)}`")
    manifest = _read_json(manifest_path, "manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise DatasetError(
            f"{root} has format version {manifest.get('format_version')}, this loader reads {FORMAT_VERSION}; "
            f"re-render it into an empty directory: {fix_command(root, manifest)}"
        )
    _check_manifest_fields(manifest, root)
    shards = manifest["shards"]
    if [(s["start"], s["stop"]) for s in shards] != shard_ranges(manifest["count"], manifest["shard_size"]):
        raise DatasetError(
            f"{root}/{MANIFEST_FILE} lists shards that do not tile [0, {manifest['count']}); re-render the dataset"
        )
    return manifest


# What the loader reads from a manifest, and each shard entry; JSON types.
MANIFEST_FIELDS = {"count": int, "shard_size": int, "image_size": int, "params": dict, "shards": list, "spec": dict}
SHARD_FIELDS = {"name": str, "start": int, "stop": int, "bytes": int, "sha256": str}


def _check_manifest_fields(manifest: dict, root: Path) -> None:
    """Every field the loader reads is there with its type: a damaged or hand-edited
    manifest is named, key and shard, never a KeyError."""
    where = f"{root}/{MANIFEST_FILE}"
    fix = "re-render the dataset into an empty directory, or restore the manifest"

    def check(record: object, fields: dict, what: str) -> None:
        if not isinstance(record, dict):
            raise DatasetError(f"{where}: {what} is not an object; {fix}")
        for key, kind in fields.items():
            if key not in record:
                raise DatasetError(f"{where}: {what} has no {key!r}; {fix}")
            value = record[key]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise DatasetError(f"{where}: {what}'s {key!r} is {value!r}, not {kind.__name__}; {fix}")

    check(manifest, MANIFEST_FIELDS, "the manifest")
    for i, entry in enumerate(manifest["shards"]):
        check(
            entry,
            SHARD_FIELDS,
            f"shard entry {i}"
            + (f" ({entry['name']})" if isinstance(entry, dict) and isinstance(entry.get("name"), str) else ""),
        )
        # The loader opens only the files the renderer writes, in the dataset's own folder: a
        # name with a folder in it (../elsewhere/..., /etc/...) is never read.
        if entry["name"] != shard_name(i):
            raise DatasetError(f"{where}: shard entry {i} names {entry['name']!r}, not {shard_name(i)!r}; {fix}")


def _read_shard_bytes(root: Path, manifest: dict, entry: dict, checksums: bool) -> bytes:
    path = root / entry["name"]
    fix = fix_command(root, manifest)
    what = f"shard {entry['name']} (images {entry['start']}..{entry['stop'] - 1})"
    if not path.exists():
        raise DatasetError(
            f"{what} is missing from {root}; re-render it with `{fix}` "
            "(it resumes: only missing or corrupt shards are rendered)"
        )
    data = path.read_bytes()
    if len(data) != entry["bytes"] or (checksums and sha256_bytes(data) != entry["sha256"]):
        raise DatasetError(
            f"{what} is corrupt: its size or sha256 does not match {MANIFEST_FILE}; "
            f"re-render it with `{fix}` (it replaces corrupt shards)"
        )
    return data


def verify(root: Path, checksums: bool = True) -> dict:
    """Check a whole dataset without keeping it in memory; return its manifest."""
    for _ in iter_shards(root, checksums=checksums):
        pass
    return read_manifest(root)


def iter_shards(root: Path, checksums: bool = True) -> Iterator[dict[str, np.ndarray]]:
    """Yield each shard's validated arrays in index order (streaming; one shard in memory)."""
    root = Path(root)
    manifest = read_manifest(root)
    for entry in manifest["shards"]:
        data = _read_shard_bytes(root, manifest, entry, checksums)
        try:
            yield decode_shard(data, entry["name"], manifest, entry["start"], entry["stop"])
        except DatasetError as e:
            raise DatasetError(f"{e} in {root}; re-render it with `{fix_command(root, manifest)}`") from None


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A whole dataset in memory."""

    root: Path
    manifest: dict
    images: np.ndarray  # [N, H, W, 3] uint8, RGB, row 0 at the top
    quats: np.ndarray  # [N, 4] float32, (x, y, z, w), w >= 0, body -> world, spec frame
    params: dict[str, np.ndarray]  # name -> [N, ...], see manifest["params"] for meanings

    def __len__(self) -> int:
        return len(self.images)


def load(root: Path, spec, checksums: bool = True, params: bool = True) -> Dataset:
    """Load and validate a complete dataset rendered for the task profile ``spec``
    (``params=False`` skips the per-image parameters)."""
    root = Path(root)
    manifest = read_manifest(root)
    check_spec(manifest, root, spec)
    n, res = manifest["count"], manifest["image_size"]
    images = np.empty((n, res, res, 3), dtype=np.uint8)
    quats = np.empty((n, 4), dtype=np.float32)
    extra: dict[str, list[np.ndarray]] = {name: [] for name in manifest["params"]} if params else {}
    for entry, arrays in zip(manifest["shards"], iter_shards(root, checksums)):
        images[entry["start"] : entry["stop"]] = arrays[IMAGES]
        quats[entry["start"] : entry["stop"]] = arrays[QUATS]
        for name in extra:
            extra[name].append(arrays[PARAM_PREFIX + name])
    return Dataset(root, manifest, images, quats, {k: np.concatenate(v) for k, v in extra.items()})
