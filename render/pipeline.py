"""Render, resume, merge and finalize a dataset directory.

* **Plan.** ``plan.json`` fixes what the directory holds (config, spec, asset,
  software versions and their hash; made by ``render.plan``) before any shard is
  written; a later command with a different config is refused instead of mixing
  two datasets.
* **Resume.** Shards are the unit of work. A shard file exists only once complete
  (temporary name, then rename), so after an interruption the same command renders
  exactly the shards that are missing (or corrupt), and since every image depends
  only on (config, index) the finished set is byte-identical to an uninterrupted one.
* **Ranges.** ``--start/--stop`` (shard boundaries) select a part, so several
  processes or machines can each render a disjoint part, into one directory or
  into several that :func:`merge` combines.
* **Finalize.** When every shard is present: re-read and check them all, run the
  independent label check on every image and save the sample grids
  (``render.label_check.check_dataset``), and write ``manifest.json``
  (deterministic: no timings; those go to ``render_log.jsonl``).
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import platform
import queue
import shutil
import sys
import time
from pathlib import Path

from orient_jax.core.dataclass_config import differences
from orient_jax.profiles.spec import TaskSpec
from orient_jax.vision import dataset
from render import label_check, worker
from render import plan as plan_lib
from render.plan import RenderError


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def prepare(out: Path, plan: dict) -> None:
    """Create ``out`` with ``plan.json``, or check that the one there matches."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / dataset.PLAN_FILE
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("config_hash") != plan["config_hash"]:
            changes = "; ".join(f"{k}: {x!r} there, {y!r} now" for k, x, y in differences(old, plan)[:6])
            raise RenderError(
                f"{out} holds a different dataset (config hash {old.get('config_hash')}, now {plan['config_hash']}: "
                f"{changes}). Render into another --out, or delete {out} to start over."
            )
        return
    _write_json(path, plan)


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
    start, stop = plan_lib.shard_range(plan, shard)
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
    plan: dict,
    runtime_dir: str,
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
                plan["config"],
                plan["task"],
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
    total = sum(b - a for a, b in (plan_lib.shard_range(plan, s) for s in shards))
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


@dataclasses.dataclass
class ShardCheck:
    """One shard re-read from disk and checked: its manifest entry and its labels' check."""

    entry: dict
    labels: label_check.ShardLabels


def check_shard(out: Path, plan: dict, shard: int) -> ShardCheck:
    start, stop = plan_lib.shard_range(plan, shard)
    name = dataset.shard_name(shard)
    data = (out / name).read_bytes()
    arrays = dataset.decode_shard(data, name, plan, start, stop)
    entry = {"name": name, "start": start, "stop": stop, "bytes": len(data), "sha256": dataset.sha256_bytes(data)}
    params = {n: arrays[dataset.PARAM_PREFIX + n] for n in plan["params"]}
    labels = label_check.check_shard(arrays[dataset.IMAGES], arrays[dataset.QUATS], params, plan["asset"], start)
    return ShardCheck(entry, labels)


def finalize(out: Path, plan: dict, checked: dict[int, ShardCheck] | None = None) -> dict:
    """Check every shard and every label, save the grids, write ``manifest.json``.

    ``checked`` holds shards already checked by this command (while the others were
    still rendering); the rest are read and checked here. The config's
    ``label_check_tolerance`` is the fraction of colour checks that may fail (``LabelReport.passes``).
    """
    checked = dict(checked or {})
    for k in range(plan["num_shards"]):
        if k not in checked:
            checked[k] = check_shard(out, plan, k)
    shards = [checked[k] for k in range(plan["num_shards"])]
    report = label_check.check_dataset(out, [shard.labels for shard in shards], plan["asset"])
    tolerance = plan["config"].get("label_check_tolerance", 0.0)
    if not report.passes(tolerance):
        shown = "\n  ".join(report.failures[:20])
        allowed = f", more than the {tolerance:g} of colour checks allowed" if tolerance else ""
        raise RenderError(
            f"the label check failed on {len(report.failures)} of {report.images} checks in {out}{allowed} "
            f"(see {out}/samples_labels.png); no manifest was written:\n  {shown}"
        )
    manifest = {**plan, "shards": [shard.entry for shard in shards], "label_check": report.summary()}
    _write_json(out / dataset.MANIFEST_FILE, manifest)
    return manifest


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
    shards = plan_lib.select_shards(config, start, stop)
    plan = plan_lib.make_plan(config, spec, runtime_dir)
    prepare(out, plan)
    manifest_path = out / dataset.MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    removed = remove_stale_temporaries(out, shards)
    todo = [k for k in shards if not shard_is_complete(out, plan, k, manifest)]
    done = len(shards) - len(todo)
    print(
        f"{out}: {plan['preset']} preset for task {plan['task']!r}, {plan['count']} images in {plan['num_shards']} "
        f"shards, seed {plan['seed']}; "
        f"this command covers shards {shards[0]}..{shards[-1]}: {done} already done, {len(todo)} to render"
        + (f" ({removed} unfinished temporary file(s) removed)" if removed else "")
    )
    stats, checked = RunStats(), {}
    if todo:
        stats, checked = run_workers(plan, runtime_dir, out, todo, workers, threads, progress)
        print(
            f"rendered {stats.images} images in {stats.wall_s:.1f} s: {stats.images_per_s:.2f} images/s "
            f"({min(workers, len(todo))} workers x {threads} thread(s))"
        )
    missing = _missing(out, plan)
    record = {
        "command": "render",
        "start": plan_lib.shard_range(plan, shards[0])[0],
        "stop": plan_lib.shard_range(plan, shards[-1])[1],
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
        print(f"{out}: complete and verified against {dataset.MANIFEST_FILE} ({plan['count']} images)")
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
            start, stop = plan_lib.shard_range(plan, k)
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
