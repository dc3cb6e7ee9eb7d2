"""Fold what the GPU targets wrote (``make gpu-physics``, ``gpu-rotation``, ``gpu-humanoid``)
into docs/results/humanoid_gpu.json, and the native score into docs/results/humanoid.json.

    python -m experiments.gpu_results --dir runs/gpu

Reads, each where present (a slot cut short leaves some out; their keys stay null):

* ``physics.jsonl``: the host line, physics steps/s per implementation, physics and batch,
  native MuJoCo, parity (``experiments.physics_impl``);
* ``humanoid/``: the ``gpu`` preset's run (config.json, metrics.jsonl), and
  ``humanoid_wall.jsonl``, one line per training process (its wall time, imports and
  compiles included; a run resumed over several slots sums them);
* ``humanoid_native.json``: that run scored in native Gymnasium (``experiments.evaluate``);
* ``rotation_env``, ``rotation_ttt_cold``, ``rotation_ttt_cached``: ``experiments.benchmark``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

KEYS = ("device", "jax_version", "impl", "physics", "physics_steps_per_s", "native_physics_steps_per_s",
        "ppo_env_steps_per_s", "ppo_gymnasium_1000_mean", "ppo_gymnasium_1000_min", "ppo_gymnasium_1000_episodes",
        "ppo_train_wall_s")  # fmt: skip


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def _benchmark(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def collect(folder: Path) -> dict:
    out: dict = dict.fromkeys(KEYS)
    physics = _lines(folder / "physics.jsonl")
    hosts = [r for r in physics if r["kind"] == "host"]
    if hosts:
        out["device"], out["jax_version"] = ", ".join(hosts[-1]["devices"]), hosts[-1]["jax"]
    run = folder / "humanoid"
    config = json.loads((run / "config.json").read_text()) if (run / "config.json").is_file() else None
    if config is not None:
        env = config["experiment"]["env"]
        out["impl"], out["physics"] = env.get("impl", "jax"), env["physics"]  # runs before impl existed: jax
        rates = [r["steps_per_s"] for r in _lines(run / "metrics.jsonl")[1:]]  # the first holds the compile
        out["ppo_env_steps_per_s"] = statistics.median(rates) if rates else None
        out["ppo_env_steps"] = (_lines(run / "metrics.jsonl") or [{}])[-1].get("env_steps")
    rows = [r for r in physics if r["kind"] == "physics" and "physics_steps_per_s" in r]
    training = [r for r in rows if (r["impl"], r["physics"]) == (out["impl"], out["physics"])]
    if training:
        best = max(training, key=lambda r: r["physics_steps_per_s"])
        out["physics_steps_per_s"], out["physics_steps_per_s_batch"] = best["physics_steps_per_s"], best["batch"]
    native = [r for r in physics if r["kind"] == "native"]
    if native:
        out["native_physics_steps_per_s"] = native[-1]["physics_steps_per_s"]
        out["native_threads"] = native[-1]["threads"]
    walls = _lines(folder / "humanoid_wall.jsonl")
    if walls:
        out["ppo_train_wall_s"] = round(sum(w["wall_s"] for w in walls), 1)
        out["ppo_train_processes"] = len(walls)
    scored = folder / "humanoid_native.json"
    if scored.is_file():
        s = json.loads(scored.read_text())
        out["ppo_gymnasium_1000_mean"], out["ppo_gymnasium_1000_min"] = s["mean_return"], s["min_return"]
        out["ppo_gymnasium_1000_episodes"] = s["episodes"]
        out["ppo_gymnasium_1000_mean_length"] = s["mean_length"]
    out["physics_rows"] = [{k: r.get(k) for k in ("impl", "physics", "batch", "physics_steps_per_s", "compile_s")}
                           for r in rows]  # fmt: skip
    out["parity"] = [r for r in physics if r["kind"] == "parity"]
    rotation = {name: _benchmark(folder / name / "benchmark.json")
                for name in ("rotation_env", "rotation_ttt_cold", "rotation_ttt_cached")}  # fmt: skip
    env = rotation["rotation_env"].get("env", [])
    out["rotation_physics_steps_per_s"] = max((r["physics_steps_per_s"] for r in env if "physics_steps_per_s" in r),
                                              default=None)  # fmt: skip
    for name in ("cold", "cached"):
        ttt = [r for r in rotation[f"rotation_ttt_{name}"].get("time_to_threshold", []) if r["trainer"] == "orient_jax"]
        out[f"rotation_time_to_95_{name}_s"] = ttt[0]["wall_s"] if ttt and ttt[0]["reached"] else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path("runs/gpu"))
    parser.add_argument("--out", type=Path, default=Path("docs/results/humanoid_gpu.json"))
    parser.add_argument("--humanoid", type=Path, default=Path("docs/results/humanoid.json"))
    parser.add_argument("--date", default=None, help="the day the figures were measured (default: today)")
    parser.add_argument("--note", default=None, help="how the figures were taken, where not by make gpu-figures")
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        print(f"error: {args.dir} is not a folder the GPU targets wrote (make gpu-figures)", file=sys.stderr)
        return 2
    import datetime

    result = collect(args.dir)
    result["date"] = args.date or datetime.date.today().isoformat()
    result["command"] = "make gpu-figures (gpu-physics, gpu-rotation, gpu-humanoid, gpu-results)"
    if args.note:
        result["note"] = args.note
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    if result["ppo_gymnasium_1000_mean"] is not None and args.humanoid.is_file():
        merged = {}
        for key, value in json.loads(args.humanoid.read_text()).items():
            merged[key] = value
            if key == "ppo_gymnasium_1000_mean":  # the lowest episode beside the mean
                merged["ppo_gymnasium_1000_min"] = None
        for key in ("ppo_gymnasium_1000_mean", "ppo_gymnasium_1000_min", "ppo_gymnasium_1000_episodes",
                    "ppo_train_wall_s"):  # fmt: skip
            merged[key] = result[key]
        merged["ppo_gymnasium_1000_status"] = (
            f"measured {result['date']} on {result['device']}: the gpu preset ({result['impl']}, {result['physics']}) "
            f"for {result['ppo_train_wall_s']} s, scored in native Gymnasium ({args.out})"
        )
        args.humanoid.write_text(json.dumps(merged, indent=2, allow_nan=False) + "\n")
    print(json.dumps({k: result[k] for k in KEYS}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
