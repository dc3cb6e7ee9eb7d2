"""Collect the Humanoid comparison into docs/results/humanoid.json.

    python -m experiments.humanoid_results --dqn runs/humanoid/dqn_seed --ppo runs/humanoid/ppo200
    python -m experiments.humanoid_results --ppo-1000 runs/humanoid/gpu   # adds the 1000-step figures
    python -m experiments.humanoid_results --dqn-1000 runs/humanoid/dqn_native  # the DQN that walks

Reads each run's config and logs (a run still in progress is reported as such, with its
figures so far), scores each policy in Gymnasium's native Humanoid-v4 (20 episodes by
default), and takes the ONNX latency figures from models/humanoid/humanoid.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments.configs.humanoid import PRESETS
from orient_jax import paths
from orient_jax.core import dataclass_config as config_lib
from orient_jax.core import runs
from orient_jax.tasks.humanoid import evaluation as humanoid_eval
from orient_jax.tasks.humanoid import run as humanoid_run
from orient_jax.tasks.humanoid.config import HumanoidExperiment
from orient_jax.tasks.humanoid.env import NATIVE

PUBLISHED = {"peak": 454.41, "peak_episode": 348, "onnx_cuda_s_per_1000": 0.1224}


def run_entry(run_dir: Path, gymnasium_episodes: int = 0) -> dict:
    exp, preset = runs.read_run_config(run_dir, HumanoidExperiment, "humanoid")
    entry = {"run": str(run_dir), "preset": preset, "episode_steps": exp.episode_steps}
    entry.update(humanoid_eval.training_summary(run_dir, exp))
    summary = run_dir / "summary.json"
    entry["finished"] = summary.exists()
    if summary.exists():
        entry["eval_mjx"] = json.loads(summary.read_text()).get("eval_mjx")
    overrides = config_lib.overrides_between(PRESETS.get(preset), exp)  # reproduce it from today's preset
    entry["command"] = " ".join(
        ["python -m experiments.train humanoid --config", preset, "--run", str(run_dir), *overrides]
    )
    if gymnasium_episodes:  # the same policy in Gymnasium's native Humanoid-v4, same cap
        policy, _ = humanoid_run.load_policy(run_dir)
        entry["eval_gymnasium"] = humanoid_eval.evaluate_gymnasium(policy, gymnasium_episodes, exp.episode_steps, 2024)
    return entry


def ppo_1000_entry(run_dir: Path, onnx: Path, episodes: int, seed: int = 2024) -> dict:
    """A PPO run on Gymnasium's 1000-step episodes, scored as the Humanoid goal is stated: its
    exported ONNX, deterministic, in native Gymnasium Humanoid-v4, ``episodes`` episodes."""
    summary_path = run_dir / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path} not found: the run has not finished")
    summary = json.loads(summary_path.read_text())
    if summary.get("episode_steps") != 1000 or summary.get("algo") != "ppo":
        raise ValueError(f"{run_dir} is not a PPO run on 1000-step episodes")
    scored = humanoid_eval.evaluate_gymnasium(humanoid_eval.onnx_policy(onnx), episodes, 1000, seed, jit=False)
    exp, preset = runs.read_run_config(run_dir, HumanoidExperiment, "humanoid")
    return {
        "ppo_gymnasium_1000_mean": scored["mean_return"],
        "ppo_gymnasium_1000_episodes": episodes,
        "ppo_train_wall_s": summary.get("process_wall_s"),
        "ppo_1000": {
            "run": str(run_dir),
            "preset": preset,
            "physics": exp.env.physics,
            "onnx": str(onnx),
            "runtime": summary.get("runtime"),
            "env_steps": summary.get("env_steps"),
            "eval_gymnasium_onnx": scored,
        },
    }


def dqn_1000_entry(run_dir: Path, onnx: Path, episodes: int, seed: int = 2024) -> dict:
    """The branching DQN trained on Gymnasium's physics (``env.physics=native``), scored as its
    goal is stated: its exported ONNX, greedy, in native Gymnasium Humanoid-v4, ``episodes``
    1000-step episodes on seeds no training or validation episode used."""
    summary_path = run_dir / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path} not found: the run has not finished")
    summary = json.loads(summary_path.read_text())
    exp, preset = runs.read_run_config(run_dir, HumanoidExperiment, "humanoid")
    if exp.algo != "dqn" or exp.env.physics != NATIVE or exp.episode_steps != 1000:
        raise ValueError(f"{run_dir} is not a DQN run on native Gymnasium physics with 1000-step episodes")
    scored = humanoid_eval.evaluate_gymnasium(humanoid_eval.onnx_policy(onnx), episodes, 1000, seed, jit=False)
    metrics = runs.MetricsLog(run_dir / "metrics.jsonl").read()
    return {
        "dqn_gymnasium_1000_mean": scored["mean_return"],
        "dqn_gymnasium_1000_min": scored["min_return"],
        "dqn_gymnasium_1000_episodes": episodes,
        "dqn_forward_speed_mps": scored["forward_speed_mps"],
        "dqn_env_steps": metrics[-1]["env_steps"],
        # One process from its start (imports and compiles included) to the end of training. A
        # resumed run's last process ran less than all its calls together: then the calls' time,
        # summed over every part (each part's imports left out).
        "dqn_train_wall_s": max(summary.get("process_wall_s") or 0.0, metrics[-1]["wall_s"]),
        "dqn_1000": {
            "run": str(run_dir),
            "preset": preset,
            "physics": exp.env.physics,
            "onnx": str(onnx),
            "runtime": summary.get("runtime"),
            "training_wall_s": metrics[-1]["wall_s"],
            "process_wall_s": summary.get("process_wall_s"),
            "eval_gymnasium_onnx": scored,
            "seeds": f"{seed}-{seed + episodes - 1}",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dqn", type=Path)
    parser.add_argument("--ppo", type=Path)
    parser.add_argument("--ppo-1000", type=Path, help="a finished PPO run on 1000-step episodes (the gpu preset)")
    parser.add_argument("--dqn-1000", type=Path, help="a finished DQN run on native physics (the dqn_native preset)")
    parser.add_argument("--dqn-onnx", type=Path, default=paths.SHIPPED_HUMANOID / "humanoid_dqn.onnx",
                        help="--dqn-1000's export (default models/humanoid/humanoid_dqn.onnx)")  # fmt: skip
    parser.add_argument("--onnx", type=Path, default=paths.SHIPPED_HUMANOID / "humanoid_ppo.onnx",
                        help="--ppo-1000's export (default models/humanoid/humanoid_ppo.onnx)")  # fmt: skip
    parser.add_argument("--latency", type=Path, default=paths.SHIPPED_HUMANOID / "humanoid.json")
    parser.add_argument("--out", type=Path, default=Path("docs/results/humanoid.json"))
    parser.add_argument("--gymnasium-episodes", type=int, default=20, help="also score in Gymnasium (0: skip)")
    args = parser.parse_args(argv)
    if args.dqn is None and args.ppo_1000 is None and args.dqn_1000 is None:
        parser.error("give --dqn RUN (the comparison), or --ppo-1000 RUN or --dqn-1000 RUN (merged into --out)")
    if args.dqn is None:
        entry = {}
        try:
            if args.ppo_1000 is not None:
                entry.update(ppo_1000_entry(args.ppo_1000, args.onnx, args.gymnasium_episodes or 20))
            if args.dqn_1000 is not None:
                entry.update(dqn_1000_entry(args.dqn_1000, args.dqn_onnx, args.gymnasium_episodes or 20))
        except (FileNotFoundError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        result = json.loads(args.out.read_text()) if args.out.exists() else {}
        result.update(entry)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
        print(json.dumps({k: v for k, v in entry.items() if k not in ("ppo_1000", "dqn_1000")}))
        return 0
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
