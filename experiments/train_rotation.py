"""Train the re-orientation policy with PPO.

    python -m experiments.train_rotation --config cpu [key=value ...]
    python -m experiments.train_rotation --run runs/rotation/cpu-...   # resume

Each run directory holds config.json, meta.json (seed, git SHA, versions),
metrics.jsonl, learning_curve.png, checkpoints/, policy/ and eval.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments.configs.rotation import GPU_PRESETS, PRESETS, get_preset
from orient_jax.core import launch, runs
from orient_jax.core.checkpointing import CheckpointError
from orient_jax.tasks.rotation import run as rotation_run
from orient_jax.tasks.rotation.config import RotationExperiment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="cpu", help="preset: " + ", ".join(sorted(PRESETS)))
    parser.add_argument("--run", type=Path, help="run directory; resumes it if it has checkpoints")
    parser.add_argument("--runs-root", type=Path, default=Path("runs/rotation"))
    parser.add_argument("--stop-after", type=int, help="stop after this many updates (resume later)")
    parser.add_argument("--no-eval", action="store_true", help="skip the final evaluation")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. ppo.learning_rate=1e-3")
    launch.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        runtime = launch.start(args)
        exp, preset, run_dir = runs.open_run(
            args.run,
            args.runs_root,
            args.config,
            args.overrides,
            RotationExperiment,
            "rotation",
            get_preset,
            check_inputs=rotation_run.check_inputs,
            check_preset=lambda p: launch.check_backend(runtime, p, GPU_PRESETS, args.allow_cpu),
            on_valid=lambda: print(runtime.line(), flush=True),  # the first line of every run
        )
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"run directory: {run_dir}")
    try:
        state = rotation_run.train_run(exp, preset, run_dir, stop_after=args.stop_after)
    except (ValueError, FileNotFoundError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if int(state.update_step) < exp.ppo.num_updates:
        print(f"stopped at update {int(state.update_step)} of {exp.ppo.num_updates}; resume with --run {run_dir}")
        return 0
    if not runtime.is_writer:  # process 0 evaluates and writes eval.json
        return 0
    if not args.no_eval and exp.eval_episodes:
        result = rotation_run.evaluate_policy_dir(
            run_dir, exp.spec, exp.env, exp.eval_episodes, seed=exp.seed + 1_000_003
        )
        (run_dir / "eval.json").write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
