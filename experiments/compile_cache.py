"""What JAX's persistent compile cache saves: each preset trained for one update, twice.

    python -m experiments.compile_cache rotation:cpu humanoid:lean_cpu --out docs/results/compile_cache_cpu.json

For each TASK:PRESET, in a fresh cache folder: run 1 compiles and fills it, run 2 reads
it. Each run is ``experiments.train TASK --config PRESET --stop-after 1`` in its own
process, as a user starts it. Reported per run: the seconds from starting the process to
the first update's row in metrics.jsonl (imports, env build, compiles, the update), the
first update's own seconds (its ``wall_s``: compile plus one update), and the whole
process; and the cache's files and bytes. A third run with ``--no-compile-cache`` gives
the baseline. GPU presets take ``--allow-cpu`` on a CPU only if you pass it here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASKS = ("rotation", "humanoid")


def _folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def timed_run(task: str, preset: str, run_dir: Path, cache: Path | None, extra: list[str]) -> dict:
    """One training process, stopped after its first update; times from outside it."""
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "experiments.train", task, "--config", preset, "--run", str(run_dir),
           "--stop-after", "1", *extra]  # fmt: skip
    if cache is None:
        cmd.append("--no-compile-cache")
    else:
        env["ORIENT_JAX_CACHE"] = str(cache)
    metrics = run_dir / "metrics.jsonl"
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    first_row_s = None
    while proc.poll() is None:
        if first_row_s is None and metrics.exists() and metrics.stat().st_size:
            first_row_s = time.perf_counter() - t0
        time.sleep(0.05)
    total_s = time.perf_counter() - t0
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-2000:]}")
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    return {
        "to_first_update_s": first_row_s,
        "first_update_wall_s": rows[0]["wall_s"],
        "process_s": total_s,
        "first_line": out.splitlines()[0] if out else "",
    }


def measure(task: str, preset: str, work: Path, extra: list[str]) -> dict:
    cache = work / "cache"
    result = {"task": task, "preset": preset}
    result["no_cache"] = timed_run(task, preset, work / "run-nocache", None, extra)
    result["first_run"] = timed_run(task, preset, work / "run-1", cache, extra)
    result["cache_files"], result["cache_bytes"] = _folder_size(cache)
    result["second_run"] = timed_run(task, preset, work / "run-2", cache, extra)
    first, second = result["first_run"]["to_first_update_s"], result["second_run"]["to_first_update_s"]
    result["saved_s"] = first - second
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("presets", nargs="+", metavar="TASK:PRESET", help=f"task one of {TASKS}, e.g. rotation:cpu")
    parser.add_argument("--allow-cpu", action="store_true", help="pass --allow-cpu to the train scripts")
    parser.add_argument("--out", type=Path, help="also write the results here (JSON)")
    args = parser.parse_args(argv)
    pairs = []
    for item in args.presets:
        task, _, preset = item.partition(":")
        if task not in TASKS or not preset:
            print(f"error: {item!r} is not TASK:PRESET with TASK one of {', '.join(TASKS)}", file=sys.stderr)
            return 2
        pairs.append((task, preset))
    extra = ["--allow-cpu"] if args.allow_cpu else []
    results = []
    for task, preset in pairs:
        with tempfile.TemporaryDirectory(prefix="compile-cache-") as work:
            try:
                row = measure(task, preset, Path(work), extra)
            except RuntimeError as e:
                print(f"error: {e}", file=sys.stderr)
                return 1
        results.append(row)
        print(
            f"{task}:{preset}: to first update {row['no_cache']['to_first_update_s']:.1f} s without the cache, "
            f"{row['first_run']['to_first_update_s']:.1f} s filling it, {row['second_run']['to_first_update_s']:.1f} s "
            f"from it (first update {row['first_run']['first_update_wall_s']:.1f} s -> "
            f"{row['second_run']['first_update_wall_s']:.1f} s); cache {row['cache_files']} files, "
            f"{row['cache_bytes'] / 1e6:.1f} MB",
            flush=True,
        )
    if args.out:
        command = " ".join(["python -m experiments.compile_cache", *(sys.argv[1:] if argv is None else argv)])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": command, "results": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
