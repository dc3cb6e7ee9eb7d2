"""How far MJX and the original page's cannon-es disagree on its motor.

    python -m experiments.original_transfer --runtime-dir DIR [--episodes 50] [--steps 300] [--json]

Records seeded open-loop drops in the original's own, unchanged physics.js (Node:
``original/record.mjs``) and replays them in the ``original`` profile's MJX env (no
disturbances, no domain randomization): once driven by a held random action script from
the first step ("driven"), once with no action at all ("resting"). Prints, for each, the
free-flight agreement, how fast the orientations part after the first contact, and the
settled statistics of both. Needs Node and ``make original-deps``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from experiments import json_output
from orient_jax import profiles
from orient_jax.tasks.rotation import transfer
from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig

RECORDER = Path(__file__).resolve().parent.parent / "original" / "record.mjs"


def record(runtime_dir: str, out: Path, episodes: int, steps: int, quiet_steps: int, seed: int) -> None:
    if shutil.which("node") is None:
        raise FileNotFoundError(
            "node is not on PATH; `make setup` installs it (the web and original harnesses need it)"
        )
    if not (RECORDER.parent / "node_modules").is_dir():
        raise FileNotFoundError(f"{RECORDER.parent}/node_modules is missing; run `make original-deps`")
    cmd = ["node", str(RECORDER), "--runtime-dir", runtime_dir, "--episodes", str(episodes), "--steps", str(steps),
           "--quiet-steps", str(quiet_steps), "--seed", str(seed), "--out", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise ValueError(lines[-1].removeprefix("error: ") if lines else f"{RECORDER.name} failed ({done.returncode})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtime-dir", required=True, help="the original's folder (sagerkudrick/main-prediction-RL)")
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--steps", type=int, default=300, help="control steps per drop (60 per second)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="keep the recordings in this folder")
    parser.add_argument("--json", action="store_true", help="stdout: one JSON object; human lines: stderr")
    args = parser.parse_args(argv)
    with json_output.stdout_document(args.json) as doc:
        return compare(args, doc)


def compare(args: argparse.Namespace, doc: json_output.Document) -> int:
    if args.episodes < 1 or args.steps < 2:
        print("error: --episodes must be >= 1 and --steps >= 2", file=sys.stderr)
        return 2
    spec = profiles.get("original")
    results = {}
    try:
        env = RotationEnv(spec, RotationEnvConfig(runtime_dir=args.runtime_dir, noise_deg=0.0, disturbances=False,
                                                  domain_randomization=False))  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.keep or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            for name, quiet in (("driven", 0), ("resting", args.steps)):
                path = folder / f"{name}.json"
                record(str(Path(args.runtime_dir).resolve()), path, args.episodes, args.steps, quiet, args.seed)
                runtime = transfer.load_drops(str(path))
                results[name] = transfer.compare(runtime, transfer.replay(env, runtime["q0"], runtime["actions"]),
                                                 spec.physics.control_dt)  # fmt: skip
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for name, r in results.items():
        after = ", ".join(f"{k} {v['median_deg']:.1f} deg (p90 {v['p90_deg']:.1f})"
                          for k, v in r["orientation_error_after_contact"].items())  # fmt: skip
        flight = r["free_flight_steps_median"]
        print(f"{name}: {r['drops']} drops x {r['control_steps']} steps; free flight ({flight:.0f} steps median): "
              f"orientation error max {r['free_flight_orientation_error_max_deg']:.2g} deg, "
              f"angular velocity max {r['free_flight_angular_velocity_error_max']:.2g} rad/s")  # fmt: skip
        print(f"  orientation error after first contact (median): {after}")
        print(f"  settled (second half): height {r['runtime_height_median_m']:.3f} m cannon-es vs "
              f"{r['mjx_height_median_m']:.3f} m MJX; angular speed {r['runtime_angular_speed_median']:.2f} vs "
              f"{r['mjx_angular_speed_median']:.2f} rad/s; final tilt {r['runtime_final_tilt_median_deg']:.1f} vs "
              f"{r['mjx_final_tilt_median_deg']:.1f} deg")  # fmt: skip
    doc.set(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
