"""Train the orientation CNN on the Blender renders.

    python -m experiments.train_vision --config cpu [key=value ...]
    python -m experiments.train_vision --run runs/vision/cpu-...   # resume

A run directory holds config.json, meta.json, metrics.jsonl, learning_curve.png,
checkpoints/, model/ (the weights, loadable by eval_vision and the exporter) and, when
training finishes, the test-set evaluation (vision_eval.json, error_histogram.png,
error_model.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments.configs.vision import GPU_PRESETS, PRESETS, get_preset
from orient_jax.core import launch, runs
from orient_jax.core.checkpointing import CheckpointError
from orient_jax.vision import dataset
from orient_jax.vision import run as vision_run
from orient_jax.vision.config import VisionExperiment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="cpu", help="preset: " + ", ".join(sorted(PRESETS)))
    parser.add_argument("--run", type=Path, help="run directory; resumes it if it has checkpoints")
    parser.add_argument("--runs-root", type=Path, default=Path("runs/vision"))
    parser.add_argument("--stop-after", type=int, help="stop after this many steps (resume later)")
    parser.add_argument("--no-eval", action="store_true", help="skip the final test-set evaluation")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. epochs=10")
    launch.add_arguments(parser, processes=False)
    args = parser.parse_args(argv)
    try:
        runtime = launch.start(args)
        exp, preset, run_dir = runs.open_run(
            args.run,
            args.runs_root,
            args.config,
            args.overrides,
            VisionExperiment,
            "vision",
            get_preset,
            check_inputs=lambda exp: vision_run.check_inputs(exp, evaluate=not args.no_eval),
            check_preset=lambda p: launch.check_backend(runtime, p, GPU_PRESETS, args.allow_cpu),
            on_valid=lambda: print(runtime.line(), flush=True),  # the first line of every run
        )
    except (ValueError, FileNotFoundError, dataset.DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"run directory: {run_dir}")
    try:
        _, state, total = vision_run.train_run(exp, preset, run_dir, stop_after=args.stop_after)
        if (done := int(state.step)) < total:
            print(f"stopped at step {done} of {total}; resume with --run {run_dir}")
            return 0
        if not args.no_eval:
            result = vision_run.evaluate(run_dir, Path(exp.test_data), run_dir)
            print(json.dumps(result))
    except (ValueError, FileNotFoundError, dataset.DatasetError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
