"""Ship a trained run: copy it into models/, the copy everything else uses, once it passes its gate.

    python -m experiments.ship rotation --run runs/rotation/cpu-...    # -> models/rotation_policy
    python -m experiments.ship vision --run runs/vision/cpu            # -> models/pose

Each kind evaluates the run first and refuses to ship below its gate (exit status 1); a
gate value that could not fail (nan, or outside its range) is refused first (exit 2):
* rotation: 1024 episodes on the task profile the policy was trained for (5 degree noise,
  disturbances and randomization on); success >= --min-success (default 0.99);
* vision: the held-out renders (default data/test); median error <= --max-median and
  p95 <= --max-p95 (defaults 2 and 8 degrees). Its evaluation (figures, histogram and the
  error model the re-orientation env loads) is shipped with the weights, in eval/.

The shipped folder is replaced all or nothing (``orient_jax.core.shipping``); its info
file gains the evaluation (``shipped_eval``) and the run's config (``training_config``).
``experiments.ship_rotation_policy`` and ``ship_vision_model`` are this command for one kind.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from orient_jax import paths
from orient_jax.core import shipping


@dataclasses.dataclass(frozen=True)
class Shippable:
    about: str
    target: Callable[[], Path]  # the shipped folder (read when shipping: tests repoint paths)
    folder: str  # the weights' folder inside a run directory
    files: tuple[str, ...]  # the weights' files; the first is the info JSON
    add_arguments: Callable[[argparse.ArgumentParser], None]
    gate: Callable[[argparse.Namespace], str | None]  # what is wrong with the gate's values (None: they hold)
    evaluate: Callable[[argparse.Namespace, Path], dict]  # (args, staging) -> the evaluation
    refusal: Callable[[argparse.Namespace, dict], str | None]  # why it must not ship (None: it may)
    drop: tuple[str, ...] = ()  # files the evaluation wrote into staging that are not shipped


# -- rotation ---------------------------------------------------------------------------------
def _rotation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--episodes", type=int, default=1024)
    parser.add_argument("--min-success", type=float, default=0.99)
    parser.add_argument("--seed", type=int, default=2024)


def _rotation_evaluate(args: argparse.Namespace, staging: Path) -> dict:
    from orient_jax.tasks.rotation import run as rotation_run
    from orient_jax.tasks.rotation.env import RotationEnvConfig

    spec = rotation_run.policy_profile(args.run)
    return rotation_run.evaluate_policy_dir(args.run, spec, RotationEnvConfig(noise_deg=5.0), args.episodes, args.seed)


def _rotation_gate(args: argparse.Namespace) -> str | None:
    if not 0.0 <= args.min_success <= 1.0:  # nan fails this too
        return f"--min-success must be a success rate in [0, 1], got {args.min_success}"
    return None


def _rotation_refusal(args: argparse.Namespace, result: dict) -> str | None:
    if not result["success_rate"] >= args.min_success:  # written so that a nan success cannot pass
        return f"success {result['success_rate']:.4f} < {args.min_success}"
    return None


# -- vision -----------------------------------------------------------------------------------
def _vision_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=Path("data/test"))
    parser.add_argument("--max-median", type=float, default=2.0)
    parser.add_argument("--max-p95", type=float, default=8.0)


def _vision_evaluate(args: argparse.Namespace, staging: Path) -> dict:
    from orient_jax.vision import run as vision_run

    return vision_run.evaluate(args.run, args.data, staging / "eval")


def _vision_gate(args: argparse.Namespace) -> str | None:
    for flag, value in (("--max-median", args.max_median), ("--max-p95", args.max_p95)):
        if not 0.0 <= value <= 180.0:  # nan fails this too
            return f"{flag} must be an angle in [0, 180] degrees, got {value}"
    return None


def _vision_refusal(args: argparse.Namespace, result: dict) -> str | None:
    if not (result["median_deg"] <= args.max_median and result["p95_deg"] <= args.max_p95):  # nan cannot pass
        return (
            f"median {result['median_deg']:.3f} deg, p95 {result['p95_deg']:.3f} deg miss the goal "
            f"(<= {args.max_median}, <= {args.max_p95})"
        )
    return None


KINDS = {
    "rotation": Shippable(
        about="a re-orientation policy into models/rotation_policy",
        target=lambda: paths.SHIPPED_POLICY,
        folder="policy",
        files=("policy.json", "policy.msgpack"),
        add_arguments=_rotation_arguments,
        gate=_rotation_gate,
        evaluate=_rotation_evaluate,
        refusal=_rotation_refusal,
    ),
    "vision": Shippable(
        about="an orientation CNN into models/pose",
        target=lambda: paths.SHIPPED_POSE_MODEL,
        folder="model",
        files=("model.json", "model.msgpack"),
        add_arguments=_vision_arguments,
        gate=_vision_gate,
        evaluate=_vision_evaluate,
        refusal=_vision_refusal,
        drop=("eval/errors_deg.npy",),  # 8 KB per 2k images, not worth shipping
    ),
}


def ship(kind: Shippable, args: argparse.Namespace) -> int:
    from orient_jax.vision.dataset import DatasetError

    if (wrong := kind.gate(args)) is not None:  # a gate that nothing can fail is no gate
        print(f"error: {wrong}", file=sys.stderr)
        return 2
    target = kind.target()
    staging = shipping.stage(target)  # the shipped folder changes all at once, or not at all
    try:
        result = kind.evaluate(args, staging)
    except (FileNotFoundError, ValueError, DatasetError) as e:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    if (why := kind.refusal(args, result)) is not None:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"error: {why}; not shipped", file=sys.stderr)
        return 1
    source = args.run / kind.folder if (args.run / kind.folder).is_dir() else args.run
    for name in kind.files:
        shutil.copy2(source / name, staging / name)
    info_path = staging / kind.files[0]
    info = json.loads(info_path.read_text())
    info["shipped_eval"] = result
    if (args.run / "config.json").exists():
        info["training_config"] = json.loads((args.run / "config.json").read_text())
    info_path.write_text(json.dumps(info, indent=2, allow_nan=False) + "\n")
    for name in kind.drop:
        (staging / name).unlink(missing_ok=True)
    shipping.commit(staging, target)
    print(f"shipped {source} -> {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.ship", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND", help=", ".join(KINDS))
    for name, kind in KINDS.items():
        sub = kinds.add_parser(name, help=kind.about, description=f"Ship {kind.about}.")
        sub.add_argument("--run", type=Path, required=True, help="run directory (or its weights' folder)")
        kind.add_arguments(sub)
    args = parser.parse_args(argv)
    return ship(KINDS[args.kind], args)


if __name__ == "__main__":
    sys.exit(main())
