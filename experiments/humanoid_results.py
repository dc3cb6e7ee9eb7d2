"""Collect the Humanoid comparison into docs/results/humanoid.json.

    python -m experiments.humanoid_results --dqn runs/humanoid/dqn_seed --ppo runs/humanoid/ppo200

Reads each run's config and logs (a run still in progress is reported as such, with its
figures so far), scores each policy in Gymnasium's native Humanoid-v4 (20 episodes by
default), and takes the ONNX latency figures from models/humanoid/humanoid.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments.configs.humanoid import get_preset
from orient_jax.core import dataclass_config as config_lib
from orient_jax.core import runs
from orient_jax.tasks.humanoid import evaluation as humanoid_eval
from orient_jax.tasks.humanoid import run as humanoid_run
from orient_jax.tasks.humanoid.config import HumanoidExperiment

PUBLISHED = {"peak": 454.41, "peak_episode": 348, "onnx_cuda_s_per_1000": 0.1224}


def run_entry(run_dir: Path, gymnasium_episodes: int = 0) -> dict:
    exp, preset = runs.read_run_config(run_dir, HumanoidExperiment, "humanoid")
    entry = {"run": str(run_dir), "preset": preset, "episode_steps": exp.episode_steps}
    entry.update(humanoid_eval.training_summary(run_dir, exp))
    summary = run_dir / "summary.json"
    entry["finished"] = summary.exists()
    if summary.exists():
        entry["eval_mjx"] = json.loads(summary.read_text()).get("eval_mjx")
    overrides = config_lib.overrides_between(get_preset(preset), exp)  # reproduce it from today's preset
    entry["command"] = " ".join(
        ["python -m experiments.train_humanoid --config", preset, "--run", str(run_dir), *overrides]
    )
    if gymnasium_episodes:  # the same policy in Gymnasium's native Humanoid-v4, same cap
        policy, _ = humanoid_run.load_policy(run_dir)
        entry["eval_gymnasium"] = humanoid_eval.evaluate_gymnasium(policy, gymnasium_episodes, exp.episode_steps, 2024)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dqn", type=Path, required=True)
    parser.add_argument("--ppo", type=Path)
    parser.add_argument("--latency", type=Path, default=humanoid_run.SHIPPED_DIR / "humanoid.json")
    parser.add_argument("--out", type=Path, default=Path("docs/results/humanoid.json"))
    parser.add_argument("--gymnasium-episodes", type=int, default=20, help="also score in Gymnasium (0: skip)")
    args = parser.parse_args(argv)
    try:
        dqn = run_entry(args.dqn, args.gymnasium_episodes)
        ppo = run_entry(args.ppo, args.gymnasium_episodes) if args.ppo else None
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result = {
        "episode_steps": dqn["episode_steps"],
        "published": PUBLISHED,
        "dqn_peak": dqn["peak"],
        "dqn_peak_episode": dqn["peak_episode"],
        "dqn_last100": dqn["last100"],
        "ppo_peak": ppo["peak"] if ppo else None,
        "ppo_last100": ppo["last100"] if ppo else None,
        "dqn": dqn,
        "ppo": ppo,
    }
    if args.latency.exists():
        result["onnx"] = json.loads(args.latency.read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("dqn", "ppo", "onnx")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
