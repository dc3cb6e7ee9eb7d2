"""Render, resume, merge and finalize a dataset directory.

* **Plan.** ``plan.json`` fixes what the directory holds (config, spec, asset,
  software versions and their hash) before any shard is written; a later command
  with a different config is refused instead of mixing two datasets.
* **Resume.** Shards are the unit of work. A shard file exists only once complete
  (temporary name, then rename), so after an interruption the same command renders
  exactly the shards that are missing (or corrupt), and since every image depends
  only on (config, index) the finished set is byte-identical to an uninterrupted one.
* **Ranges.** ``--start/--stop`` (shard boundaries) select a part, so several
  processes or machines can each render a disjoint part, into one directory or
  into several that :func:`merge` combines.
* **Finalize.** When every shard is present: re-read and check them all, run the
  independent label check on every image, save the sample grids, and write
  ``manifest.json`` (deterministic: no timings; those go to ``render_log.jsonl``).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import multiprocessing
import os
import platform
import queue
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from orient_jax.profiles.spec import TaskSpec
from orient_jax.vision import dataset
from render import asset, grid, label_check, worker
from render import config as config_lib


class RenderError(RuntimeError):
    """A problem the user can fix; the message says how."""


def describe_asset(spec: TaskSpec, runtime_dir: str = "") -> dict:
    """The object as data: the procedural cube's description, or the runtime mesh's
    (its file's sha256 and hull: the file itself stays in the runtime's folder)."""
    if spec.artifacts.object_kind == "runtime_mesh":
        return asset.describe_runtime_mesh(spec, runtime_dir)
    return asset.describe(spec.physics.box_size)


def identity(config, spec: TaskSpec, runtime_dir: str = "") -> dict:
    """Everything that determines the dataset's bytes: the config, and what of the task
    profile shapes the pixels (its camera and box, and the asset built for it)."""
    if not isinstance(config, config_lib.config_class(spec)):
        raise RenderError(f"preset {config.preset!r} renders another kind of object than task profile {spec.name!r}; "
                          f"choose a preset for it")  # fmt: skip
    return {
        "format_version": dataset.FORMAT_VERSION,
        "config": config_lib.to_dict(config),
        "spec": dataset.spec_record(spec),
        "asset": describe_asset(spec, runtime_dir),
        "params": worker.param_layout(spec),
        "software": {"bpy": importlib.metadata.version("bpy"), "numpy": np.__version__},
    }


def make_plan(config, spec: TaskSpec, runtime_dir: str = "") -> dict:
    ident = identity(config, spec, runtime_dir)
    return {
        "format_version": dataset.FORMAT_VERSION,
        "preset": config.preset,
        "task": spec.name,  # the profile by name; what of it shapes the bytes is hashed below
        "count": config.count,
        "seed": config.seed,
        "shard_size": config.shard_size,
        "num_shards": config.num_shards,
        "image_size": spec.camera.resolution,
        "label": "quat_xyzw: unit quaternion (x, y, z, w), w >= 0, rotating body-frame vectors into the "
        f"world frame of task profile {spec.name!r} (Y up); uniform on SO(3) (Shoemake's subgroup algorithm)",
        "config_hash": config_lib.config_hash(ident),
        **{k: v for k, v in ident.items() if k != "format_version"},
    }


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def _diff(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _diff(va, vb, f"{prefix}{key}.")
        elif va != vb:
            out.append(f"{prefix}{key}: {va!r} there, {vb!r} now")
    return out


def prepare(out: Path, plan: dict) -> None:
    """Create ``out`` with ``plan.json``, or check that the one there matches."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / dataset.PLAN_FILE
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("config_hash") != plan["config_hash"]:
            changes = "; ".join(_diff(old, plan)[:6])
            raise RenderError(
                f"{out} holds a different dataset (config hash {old.get('config_hash')}, now {plan['config_hash']}: "
                f"{changes}). Render into another --out, or delete {out} to start over."
            )
        return
    _write_json(path, plan)


def select_shards(config: config_lib.RenderConfig, start: int | None, stop: int | None) -> list[int]:
    """Shards covering images ``[start, stop)``; both must be shard boundaries."""
    start = 0 if start is None else start
    stop = config.count if stop is None else stop
    for name, value in (("--start", start), ("--stop", stop)):
        if not (0 <= value <= config.count and (value % config.shard_size == 0 or value == config.count)):
            raise RenderError(
                f"{name} {value} is not a shard boundary: use a multiple of shard_size ({config.shard_size}) "
                f"between 0 and count ({config.count})"
            )
    if start >= stop:
        raise RenderError(f"--start {start} must be below --stop {stop}")
    return list(range(start // config.shard_size, -(-stop // config.shard_size)))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(out: Path, shards: list[int]) -> int:
    """Delete leftovers of interrupted writes (``shard-*.npz.tmp-PID``) of these shards whose writer is gone."""
    removed = 0
    for shard in shards:
        for tmp in out.glob(dataset.shard_name(shard) + ".tmp-*"):
            pid = tmp.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or not _pid_alive(int(pid)):
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed


def shard_is_complete(out: Path, plan: dict, shard: int, manifest: dict | None) -> bool:
    """True if the shard's file is there and sound; a corrupt one is deleted (and reported)."""
    path = out / dataset.shard_name(shard)
    if not path.exists():
        return False
    data = path.read_bytes()
    start, stop = dataset.shard_ranges(plan["count"], plan["shard_size"])[shard]
    try:
        entry = manifest["shards"][shard] if manifest else None
        if entry is not None:
            if dataset.sha256_bytes(data) != entry["sha256"]:
                raise dataset.DatasetError(f"shard {path.name} does not match its sha256 in the manifest")
        else:
            dataset.decode_shard(data, path.name, plan, start, stop)
    except dataset.DatasetError as e:
        print(f"{e}: deleting it to render it again", file=sys.stderr)
        path.unlink()
        (out / dataset.MANIFEST_FILE).unlink(missing_ok=True)
        return False
    return True


@dataclasses.dataclass
class RunStats:
    images: int = 0
    shards: int = 0
    wall_s: float = 0.0

    @property
    def images_per_s(self) -> float:
        return self.images / self.wall_s if self.wall_s > 0 else 0.0


def run_workers(
    config,
    spec: TaskSpec,
    runtime_dir: str,
    plan: dict,
    out: Path,
    shards: list[int],
    workers: int,
    threads: int,
    progress: bool,
) -> tuple[RunStats, dict[int, ShardCheck]]:
    """Render ``shards`` with ``workers`` processes of ``threads`` Cycles threads each.

    Meanwhile this (otherwise idle) process re-reads and checks each finished shard,
    so that finalizing does not have to do it afterwards.
    """
    from tqdm import tqdm

    ctx = multiprocessing.get_context("spawn")  # bpy must not be forked
    tasks, events = ctx.Queue(), ctx.Queue()
    for shard in shards:
        tasks.put(shard)
    workers = max(1, min(workers, len(shards)))
    for _ in range(workers):
        tasks.put(None)
    available = sorted(os.sched_getaffinity(0))
    pin = workers * threads <= len(available)  # one core (or `threads` cores) per worker
    procs = [
        ctx.Process(
            target=worker.worker_main,
            args=(
                config_lib.to_dict(config),
                spec.name,
                str(runtime_dir),
                plan["config_hash"],
                str(out),
                threads,
                available[i * threads : (i + 1) * threads] if pin else None,
                tasks,
                events,
            ),
            daemon=True,
        )  # fmt: skip
        for i in range(workers)
    ]
    total = sum(b - a for a, b in (config.shard_range(s) for s in shards))
    stats, checked = RunStats(), {}
    t0 = time.perf_counter()
    bar = tqdm(
        total=total, unit="img", desc=f"render {out.name}", disable=not progress, smoothing=0.05, mininterval=1.0
    )
    for p in procs:
        p.start()
    exited = 0
    try:
        while exited < workers:
            try:
                event = events.get(timeout=5.0)
            except queue.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise RenderError(
                        f"a render worker died (exit code {dead[0].exitcode}); re-run the same command to resume"
                    ) from None
                continue
            if event[0] == "image":
                stats.images += 1
                bar.update(1)
            elif event[0] == "shard":
                stats.shards += 1
                checked[event[1]] = check_shard(out, plan, event[1])
            elif event[0] == "error":
                raise RenderError(f"a render worker failed:\n{event[1]}")
            elif event[0] == "exit":
                exited += 1
    finally:
        bar.close()
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(timeout=10)
    stats.wall_s = time.perf_counter() - t0
    return stats, checked


def _log(out: Path, record: dict) -> None:
    with open(out / dataset.LOG_FILE, "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


GRID_IMAGES = 36


@dataclasses.dataclass
class ShardCheck:
    """One shard re-read from disk and checked: its manifest entry, label report and,
    for the first shards, the arrays the sample grid needs."""

    entry: dict
    report: label_check.LabelReport
    grid: tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] | None


def check_shard(out: Path, plan: dict, shard: int) -> ShardCheck:
    start, stop = dataset.shard_ranges(plan["count"], plan["shard_size"])[shard]
    name = dataset.shard_name(shard)
    data = (out / name).read_bytes()
    arrays = dataset.decode_shard(data, name, plan, start, stop)
    params = {n: arrays[dataset.PARAM_PREFIX + n] for n in plan["params"]}
    report = label_check.check_labels(arrays[dataset.IMAGES], arrays[dataset.QUATS], params, plan["asset"], start)
    entry = {"name": name, "start": start, "stop": stop, "bytes": len(data), "sha256": dataset.sha256_bytes(data)}
    keep = start < GRID_IMAGES
    return ShardCheck(entry, report, (arrays[dataset.IMAGES], arrays[dataset.QUATS], params) if keep else None)


def finalize(out: Path, plan: dict, checked: dict[int, ShardCheck] | None = None) -> dict:
    """Check every shard and every label, save the grids, write ``manifest.json``.

    ``checked`` holds shards already checked by this command (while the others were
    still rendering); the rest are read and checked here.
    """
    checked = dict(checked or {})
    report = label_check.LabelReport()
    for k in range(plan["num_shards"]):
        if k not in checked:
            checked[k] = check_shard(out, plan, k)
        report.add(checked[k].report)
    grids = [checked[k].grid for k in sorted(checked) if checked[k].grid is not None]
    grid.save_grids(
        out,
        np.concatenate([g[0] for g in grids]),
        np.concatenate([g[1] for g in grids]),
        {n: np.concatenate([g[2][n] for g in grids]) for n in plan["params"]},
        axis_length(plan),
    )
    if not report.ok:
        shown = "\n  ".join(report.failures[:20])
        raise RenderError(
            f"the label check failed on {len(report.failures)} of {report.images} checks in {out} "
            f"(see {out}/samples_labels.png); no manifest was written:\n  {shown}"
        )
    manifest = {
        **plan,
        "shards": [checked[k].entry for k in range(plan["num_shards"])],
        "label_check": report.summary(),
    }
    _write_json(out / dataset.MANIFEST_FILE, manifest)
    return manifest


def axis_length(plan: dict) -> float:
    """How long the sample grid draws the label's axes: the object's size."""
    hull = plan["asset"].get("hull_body")
    return float(np.abs(hull).max()) if hull else plan["spec"]["box_size"]


def _missing(out: Path, plan: dict) -> list[int]:
    return [k for k in range(plan["num_shards"]) if not (out / dataset.shard_name(k)).exists()]


def render(
    config,
    spec: TaskSpec,
    out: Path,
    start: int | None = None,
    stop: int | None = None,
    workers: int | None = None,
    threads: int = 1,
    progress: bool = True,
    runtime_dir: str = "",
) -> dict | None:
    """Render (or resume) images ``[start, stop)`` of ``config`` for the task profile ``spec``
    into ``out``; finalize when the whole dataset is present. Returns the manifest, or None
    if parts are missing."""
    t0 = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    plan = make_plan(config, spec, runtime_dir)
    shards = select_shards(config, start, stop)
    prepare(out, plan)
    manifest_path = out / dataset.MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    removed = remove_stale_temporaries(out, shards)
    todo = [k for k in shards if not shard_is_complete(out, plan, k, manifest)]
    done = len(shards) - len(todo)
    print(
        f"{out}: {config.preset} preset for task {spec.name!r}, {config.count} images in {config.num_shards} shards, "
        f"seed {config.seed}; "
        f"this command covers shards {shards[0]}..{shards[-1]}: {done} already done, {len(todo)} to render"
        + (f" ({removed} unfinished temporary file(s) removed)" if removed else "")
    )
    stats, checked = RunStats(), {}
    if todo:
        stats, checked = run_workers(config, spec, runtime_dir, plan, out, todo, workers, threads, progress)
        print(
            f"rendered {stats.images} images in {stats.wall_s:.1f} s: {stats.images_per_s:.2f} images/s "
            f"({min(workers, len(todo))} workers x {threads} thread(s))"
        )
    missing = _missing(out, plan)
    record = {
        "command": "render",
        "start": shards[0] * config.shard_size,
        "stop": config.shard_range(shards[-1])[1],
        "images_rendered": stats.images,
        "shards_rendered": stats.shards,
        "render_s": round(stats.wall_s, 3),
        "images_per_s": round(stats.images_per_s, 3),
        "workers": workers,
        "threads": threads,
        "cpu_count": os.cpu_count(),
        "machine": platform.node(),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    result = None
    if missing:
        print(
            f"{len(missing)} of {plan['num_shards']} shards are not in {out} yet "
            f"(first: {dataset.shard_name(missing[0])}). "
            f"Render the other ranges, into {out} or elsewhere, then `python -m render merge --out {out} PART_DIR ...` "
            "(or re-run this command without --start/--stop)."
        )
    elif todo or manifest is None:
        t1 = time.perf_counter()
        try:
            result = finalize(out, plan, checked)
        finally:  # the render's figures are logged even if the check fails
            record["finalize_s"] = round(time.perf_counter() - t1, 3)
            record["finalized"] = result is not None
            record["wall_s"] = round(time.perf_counter() - t0, 3)
            _log(out, record)
        _print_summary(out, result)
        return result
    else:
        result = manifest
        print(f"{out}: complete and verified against {dataset.MANIFEST_FILE} ({config.count} images)")
    record["wall_s"] = round(time.perf_counter() - t0, 3)
    _log(out, record)
    return result


def _print_summary(out: Path, manifest: dict) -> None:
    lc = manifest["label_check"]
    size = sum(s["bytes"] for s in manifest["shards"])
    print(
        f"{out}: {manifest['count']} images in {len(manifest['shards'])} shards ({size / 2**20:.1f} MiB); "
        f"label check passed: {lc['images']} images, {lc['bbox_checks']} silhouettes, {lc['face_checks']} faces, "
        f"{lc['dot_checks']} discs ({lc['faces_skipped']} faces skipped for glare; silhouettes within "
        f"{lc['max_bbox_error_px']:.2f} px); wrote {dataset.MANIFEST_FILE}, samples.png, samples_labels.png"
    )


def merge(out: Path, parts: list[Path]) -> dict | None:
    """Combine the shards of part directories (same plan) into ``out``; finalize if complete."""
    t0 = time.perf_counter()
    plans = {}
    for part in parts:
        path = part / dataset.PLAN_FILE
        if not path.exists():
            raise RenderError(
                f"{part} has no {dataset.PLAN_FILE}: not a dataset part rendered by `python -m render render`"
            )
        plans[part] = json.loads(path.read_text())
    if (out / dataset.PLAN_FILE).exists():
        plans[out] = json.loads((out / dataset.PLAN_FILE).read_text())
    hashes = {p["config_hash"] for p in plans.values()}
    if len(hashes) != 1:
        listing = ", ".join(f"{d}: {p['config_hash']}" for d, p in plans.items())
        raise RenderError(
            f"these parts belong to different datasets ({listing}); "
            "merge only parts rendered with the same preset and overrides"
        )
    plan = next(iter(plans.values()))
    prepare(out, plan)
    copied = 0
    for part in parts:
        if part.resolve() == out.resolve():
            continue
        for k in range(plan["num_shards"]):
            src = part / dataset.shard_name(k)
            if not src.exists():
                continue
            data = src.read_bytes()
            start, stop = dataset.shard_ranges(plan["count"], plan["shard_size"])[k]
            dataset.decode_shard(data, f"{src}", plan, start, stop)
            dst = out / src.name
            if dst.exists():
                if dataset.sha256_bytes(dst.read_bytes()) != dataset.sha256_bytes(data):
                    raise RenderError(
                        f"{src} and {dst} differ: the same shard was rendered twice with different results "
                        "(different machines or Blender builds?); delete one"
                    )
                continue
            tmp = dst.with_name(f"{dst.name}.tmp-{os.getpid()}")
            shutil.copyfile(src, tmp)
            tmp.replace(dst)
            copied += 1
        if (part / dataset.LOG_FILE).exists():
            for line in (part / dataset.LOG_FILE).read_text().splitlines():
                _log(out, {**json.loads(line), "part": str(part)})
    print(f"merged {copied} shard(s) from {len(parts)} part(s) into {out}")
    missing = _missing(out, plan)
    if missing:
        print(
            f"{len(missing)} of {plan['num_shards']} shards are still missing (first: {dataset.shard_name(missing[0])})"
        )
        return None
    manifest = finalize(out, plan)
    _log(
        out,
        {
            "command": "merge",
            "parts": [str(p) for p in parts],
            "copied": copied,
            "wall_s": round(time.perf_counter() - t0, 3),
        },
    )
    _print_summary(out, manifest)
    return manifest
