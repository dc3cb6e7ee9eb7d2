"""Evaluate a re-orientation policy: success rate and time to upright.

    python -m experiments.eval_rotation                      # the shipped policy
    python -m experiments.eval_rotation --run runs/rotation/cpu-... --episodes 1024 --noise-deg 5 --json

The task profile is the one the policy was trained for (its policy.json says). Starts
are uniformly random; noise, disturbances and domain randomization are on unless
switched off. With --json stdout is one JSON object
and every human line goes to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from experiments import json_output
from orient_jax import paths
from orient_jax.tasks.rotation import run as rotation_run
from orient_jax.tasks.rotation.env import RotationEnvConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="run directory or policy folder (default: the shipped policy)")
    parser.add_argument("--episodes", type=int, default=1024)
    parser.add_argument("--noise-deg", type=float, help="constant observation noise in degrees (default: 5)")
    parser.add_argument("--noise-model", type=str, help="noise-model JSON from experiments.eval_vision")
    parser.add_argument("--no-disturbances", action="store_true")
    parser.add_argument("--no-randomization", action="store_true", help="nominal physics, no domain randomization")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", action="store_true", help="stdout: one JSON object; human lines: stderr")
    args = parser.parse_args(argv)
    with json_output.stdout_document(args.json) as doc:
        return evaluate(args, doc)


def evaluate(args: argparse.Namespace, doc: json_output.Document) -> int:

    path = args.run or paths.SHIPPED_POLICY
    try:
        spec = rotation_run.policy_profile(path)
        env_config = RotationEnvConfig()
        if args.run is not None and (args.run / "config.json").exists():
            env_config = rotation_run.load_run_config(args.run).env
        changes = {"disturbances": not args.no_disturbances, "domain_randomization": not args.no_randomization}
        if args.noise_deg is not None:
            changes.update(noise_deg=args.noise_deg, noise_model="")
        elif not env_config.noise_model:
            changes["noise_deg"] = 5.0 if args.run is None else env_config.noise_deg
        if args.noise_model:
            changes["noise_model"] = args.noise_model
        env_config = dataclasses.replace(env_config, **changes)
        result = rotation_run.evaluate_policy_dir(path, spec, env_config, args.episodes, args.seed)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    t = result["median_time_to_upright_s"]
    print(f"policy: {result['policy']} (task profile {result['task']})")
    print(
        f"episodes: {result['episodes']}  noise: {result['noise_model'] or str(result['noise_deg']) + ' deg'}  "
        f"disturbances: {result['disturbances']}  randomization: {result['domain_randomization']}"
    )
    print(f"success rate: {result['success_rate']:.4f}")
    print(f"median time to upright: {t:.3f} s" if t is not None else "median time to upright: n/a (no successes)")
    doc.set(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
