"""Copy a run's policy into models/rotation_policy/, the policy everything else uses.

    python -m experiments.ship_rotation_policy --run runs/rotation/cpu-...

It evaluates the policy first on the task profile it was trained for (1024 episodes, 5
degree noise, disturbances and randomization on) and refuses to ship below
--min-success (default 0.99).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from orient_jax import paths
from orient_jax.core import shipping
from orient_jax.tasks.rotation import run as rotation_run
from orient_jax.tasks.rotation.env import RotationEnvConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--episodes", type=int, default=1024)
    parser.add_argument("--min-success", type=float, default=0.99)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    try:
        spec = rotation_run.policy_profile(args.run)
        env_config = RotationEnvConfig(noise_deg=5.0)
        result = rotation_run.evaluate_policy_dir(args.run, spec, env_config, args.episodes, args.seed)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    if result["success_rate"] < args.min_success:
        print(f"error: success {result['success_rate']:.4f} < {args.min_success}; not shipped", file=sys.stderr)
        return 1
    source = args.run / "policy" if (args.run / "policy").is_dir() else args.run
    staging = shipping.stage(paths.SHIPPED_POLICY)  # the shipped pair changes all at once, or not at all
    for name in ("policy.json", "policy.msgpack"):
        shutil.copy2(source / name, staging / name)
    info = json.loads((staging / "policy.json").read_text())
    info["shipped_eval"] = result
    if (args.run / "config.json").exists():
        info["training_config"] = json.loads((args.run / "config.json").read_text())
    (staging / "policy.json").write_text(json.dumps(info, indent=2, allow_nan=False) + "\n")
    shipping.commit(staging, paths.SHIPPED_POLICY)
    print(f"shipped {source} -> {paths.SHIPPED_POLICY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
