"""Train MuJoCo's Humanoid (Gymnasium Humanoid-v4 semantics, in MJX) with PPO or branching DQN.

    python -m experiments.train_humanoid --config dqn_seed [key=value ...]
    python -m experiments.train_humanoid --config ppo200
    python -m experiments.train_humanoid --run runs/humanoid/dqn_seed-...   # resume

A run directory holds config.json, meta.json, metrics.jsonl, checkpoints/, policy/,
and when it finishes: summary.json (peak and last-100 returns, a deterministic
evaluation), reward plots (PNG; for DQN also interactive 3D HTML).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the heavy imports: a run's wall time includes them

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from experiments.configs.humanoid import GPU_PRESETS, PRESETS, get_preset  # noqa: E402
from orient_jax.core import launch, runs  # noqa: E402
from orient_jax.core.checkpointing import CheckpointError  # noqa: E402
from orient_jax.tasks.humanoid import evaluation as humanoid_eval  # noqa: E402
from orient_jax.tasks.humanoid import run as humanoid_run  # noqa: E402
from orient_jax.tasks.humanoid.config import HumanoidExperiment  # noqa: E402

PUBLISHED_PEAK = 454.41  # the earlier project's DQN, episode 348 (../shared/DESIGN.md)


def finish(run_dir: Path, exp: HumanoidExperiment) -> dict:
    """Write summary.json and the plots of a finished run; returns the summary."""
    from orient_jax.tasks.humanoid import plots

    summary = {"algo": exp.algo, "episode_steps": exp.episode_steps, **humanoid_eval.training_summary(run_dir, exp)}
    # This process from start to the end of training: imports, compiles and all (a resumed
    # run counts only its last part; metrics.jsonl's wall_s adds up every part's updates).
    summary["process_wall_s"] = round(time.perf_counter() - STARTED, 1)
    summary["runtime"] = launch.current().record()
    if exp.eval_episodes:
        policy, _ = humanoid_run.load_policy(run_dir)
        summary["eval_mjx"] = humanoid_eval.evaluate_mjx(policy, exp, exp.eval_episodes, seed=exp.seed + 1_000_003)
    if exp.algo == "dqn":
        rows = runs.MetricsLog(run_dir / "episodes.jsonl").read()
        plots.plot_episode_rewards(
            rows, run_dir / "episode_rewards.png", (f"published DQN peak {PUBLISHED_PEAK}", PUBLISHED_PEAK)
        )
        plots.write_3d_views(rows, run_dir, f"Humanoid branching DQN ({run_dir.name})")
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    return summary


def _one_process_for_dqn(exp: HumanoidExperiment, runtime: launch.Runtime) -> None:
    if exp.algo == "dqn" and runtime.process_count > 1:
        raise ValueError("the branching DQN trains in one process (its replay buffer is not sharded); use PPO")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="cpu", help="preset: " + ", ".join(sorted(PRESETS)))
    parser.add_argument("--run", type=Path, help="run directory; resumes it if it has checkpoints")
    parser.add_argument("--runs-root", type=Path, default=Path("runs/humanoid"))
    parser.add_argument("--stop-after", type=int, help="stop after this many updates/calls (resume later)")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. dqn.bins=7")
    launch.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        runtime = launch.start(args)
        exp, preset, run_dir = runs.open_run(
            args.run,
            args.runs_root,
            args.config,
            args.overrides,
            HumanoidExperiment,
            "humanoid",
            get_preset,
            check_inputs=lambda exp: _one_process_for_dqn(exp, runtime),
            check_preset=lambda p: launch.check_backend(runtime, p, GPU_PRESETS, args.allow_cpu),
            on_valid=lambda: print(runtime.line(), flush=True),  # the first line of every run
        )
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"run directory: {run_dir}")
    try:
        finished = humanoid_run.train_run(exp, preset, run_dir, stop_after=args.stop_after)
    except (ValueError, FileNotFoundError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if not finished:
        print(f"stopped early; resume with --run {run_dir}")
        return 0
    if not runtime.is_writer:  # process 0 evaluates and writes summary.json
        return 0
    print(json.dumps(finish(run_dir, exp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
