"""Score a Humanoid policy deterministically: in the MJX env, or in Gymnasium's own Humanoid-v4.

    python -m experiments.eval_humanoid --run runs/humanoid/ppo200 --episodes 100
    python -m experiments.eval_humanoid --run runs/humanoid/ppo200 --gymnasium --episodes 20
    python -m experiments.eval_humanoid --onnx models/humanoid/humanoid_ppo.onnx --episodes 20   # an export

The episode cap and env settings come from the run's config (``--episode-steps``
overrides the cap). ``--gymnasium`` steps native MuJoCo through ``gymnasium.make
("Humanoid-v4")``: Gymnasium's model and PGS solver, whatever physics the policy trained on.
``--onnx`` scores an exported policy, run by onnxruntime, in Gymnasium (1000-step episodes
unless ``--episode-steps`` says otherwise).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from orient_jax.tasks.humanoid import evaluation as humanoid_eval
from orient_jax.tasks.humanoid import run as humanoid_run


def score_onnx(args: argparse.Namespace) -> int:
    try:
        policy = humanoid_eval.onnx_policy(args.onnx)
    except Exception as e:  # onnxruntime raises its own types for a missing or bad file
        print(
            f"error: cannot load {args.onnx}: {str(e).strip().splitlines()[0] if str(e).strip() else e}",
            file=sys.stderr,
        )
        return 2
    steps = args.episode_steps or 1000
    result = humanoid_eval.evaluate_gymnasium(policy, args.episodes, steps, args.seed, jit=False)
    result.update(onnx=str(args.onnx), where="gymnasium", runtime="onnxruntime")
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="run directory (its policy/ and config.json)")
    source.add_argument("--onnx", type=Path, help="an exported policy (.onnx); scored in Gymnasium")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--episode-steps", type=int, help="episode cap (default: the run's)")
    parser.add_argument("--gymnasium", action="store_true", help="score in Gymnasium's native Humanoid-v4")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    if args.episodes <= 0:
        print("error: --episodes must be positive", file=sys.stderr)
        return 2
    if args.onnx is not None:
        return score_onnx(args)
    try:
        exp = humanoid_run.load_run_config(args.run)
        policy, info = humanoid_run.load_policy(args.run)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.episode_steps:
        exp = dataclasses.replace(exp, episode_steps=args.episode_steps)
    if args.gymnasium:
        result = humanoid_eval.evaluate_gymnasium(policy, args.episodes, exp.episode_steps, args.seed)
    else:
        result = humanoid_eval.evaluate_mjx(policy, exp, args.episodes, args.seed)
    result.update(
        run=str(args.run), algo=info["algo"], where="gymnasium" if args.gymnasium else f"mjx/{exp.env.physics}"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
