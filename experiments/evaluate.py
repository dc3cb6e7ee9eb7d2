"""Score a trained model: the re-orientation policy, the orientation CNN or a Humanoid policy.

    python -m experiments.evaluate rotation                  # the shipped policy
    python -m experiments.evaluate rotation --run runs/rotation/cpu-... --episodes 1024 --noise-deg 5 --json
    python -m experiments.evaluate vision                    # the shipped CNN on data/test
    python -m experiments.evaluate vision --run runs/vision/cpu --data data/test --json
    python -m experiments.evaluate vision --shift-suite      # the shipped CNN on every shift set
    python -m experiments.evaluate humanoid --run runs/humanoid/ppo200 --gymnasium --episodes 20
    python -m experiments.evaluate humanoid --onnx models/humanoid/humanoid_ppo.onnx --episodes 20
    python -m experiments.evaluate humanoid --run RUN --gymnasium --episode-steps 1000 --out RUN/gymnasium_1000.json

rotation: success rate and time to upright, on the task profile the policy was trained
for (its policy.json says), from uniformly random starts; noise, disturbances and domain
randomization are on unless switched off.

vision: geodesic error figures on rendered images, a histogram, and the error model the
re-orientation env loads as its observation noise. Writes vision_eval.json,
error_histogram.png, error_model.json and errors_deg.npy into --out (default: the run
directory, or models/pose/eval for the shipped model). With --shift-suite: the held-out
sets that each change one thing beyond the training range (render/shifts.py), rendered
when missing; one row per set (median, p95, p99, max) and a sheet of each set's worst
images (experiments/shift_suite.py).

humanoid: deterministic episodes in the MJX env, or in Gymnasium's own Humanoid-v4
(--gymnasium: native MuJoCo, Gymnasium's model and solver, whatever physics the policy
trained on). The episode cap and env settings come from the run's config
(--episode-steps overrides the cap). --onnx scores an exported policy, run by
onnxruntime, in Gymnasium (1000-step episodes unless --episode-steps says otherwise). A run
trained with --seeds N scores every seed's policy on the same episodes (``per_seed``); --out
also writes the figures to a file, which ``experiments.compare --score FILE:KEY`` reads.

With --json (rotation, vision) stdout is one JSON object and every human line goes to
stderr; humanoid prints one JSON line. Bad input is one ``error:`` line, exit status 2.
``experiments.eval_rotation``, ``eval_vision`` and ``eval_humanoid`` are this command
for one kind.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from experiments import json_output
from orient_jax import paths


# -- rotation ---------------------------------------------------------------------------------
def rotation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", type=Path, help="run directory or policy folder (default: the shipped policy)")
    parser.add_argument("--episodes", type=int, default=1024)
    parser.add_argument("--noise-deg", type=float, help="constant observation noise in degrees (default: 5)")
    parser.add_argument("--noise-model", type=str, help="noise-model JSON from experiments.evaluate vision")
    parser.add_argument("--no-disturbances", action="store_true")
    parser.add_argument("--no-randomization", action="store_true", help="nominal physics, no domain randomization")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", action="store_true", help="stdout: one JSON object; human lines: stderr")


def rotation(args: argparse.Namespace) -> int:
    with json_output.stdout_document(args.json) as doc:
        return _rotation(args, doc)


def _rotation(args: argparse.Namespace, doc: json_output.Document) -> int:
    from orient_jax.tasks.rotation import run as rotation_run
    from orient_jax.tasks.rotation.env import RotationEnvConfig

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


# -- vision -----------------------------------------------------------------------------------
def vision_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", type=Path, help="run directory or model folder (default: the shipped model)")
    parser.add_argument("--data", type=Path, default=Path("data/test"), help="rendered dataset (default data/test)")
    parser.add_argument("--out", type=Path, help="where the figures go (default: the run dir, or models/pose/eval)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--json", action="store_true", help="stdout: one JSON object; human lines: stderr")
    suite = parser.add_argument_group("the shift suite (experiments/shift_suite.py)")
    suite.add_argument("--shift-suite", action="store_true",
                       help="render the held-out shift sets the model lacks and score it on each (default --out: "
                            "the run's shift_suite/, or runs/shift-suite/shipped)")  # fmt: skip
    suite.add_argument("--shifts", help="comma-separated shift names (default: all of the model's object kind)")
    suite.add_argument("--count", type=int, default=512, help="images per shift set (default 512)")
    suite.add_argument("--data-root", type=Path, default=paths.DATA / "shifts", help="where the sets go")
    suite.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="render processes")
    suite.add_argument("--runtime-dir", type=Path, help="the runtime's folder (a profile that renders its mesh)")


def vision(args: argparse.Namespace) -> int:
    with json_output.stdout_document(args.json) as doc:
        return _shift_suite(args, doc) if args.shift_suite else _vision(args, doc)


def _shift_suite(args: argparse.Namespace, doc: json_output.Document) -> int:
    from experiments import shift_suite
    from orient_jax.vision import dataset
    from orient_jax.vision import shift_suite as scoring

    out = args.out or (args.run / "shift_suite" if args.run is not None else paths.RUNS / "shift-suite" / "shipped")
    names = tuple(n.strip() for n in args.shifts.split(",") if n.strip()) if args.shifts else ()
    suite_args = shift_suite.SuiteArgs(model=args.run, out=out, count=args.count, shifts=names,
                                       data_root=args.data_root, workers=args.workers, runtime_dir=args.runtime_dir,
                                       batch=args.batch)  # fmt: skip
    try:
        result = shift_suite.run(suite_args)
    except (FileNotFoundError, ValueError, dataset.DatasetError, shift_suite.SuiteError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"model: {result['model']} (sha256 {result['model_sha256'][:16]}...), task {result['task']}")
    print(scoring.table(result["shifts"]))
    print(f"wrote {out / shift_suite.RESULT_FILE} and {out / shift_suite.SHEET_FILE}")
    doc.set(result)
    return 0


def _vision(args: argparse.Namespace, doc: json_output.Document) -> int:
    from orient_jax.vision import dataset
    from orient_jax.vision import run as vision_run

    out = args.out or (args.run if args.run is not None else paths.SHIPPED_POSE_MODEL / "eval")
    try:
        result = vision_run.evaluate(args.run, args.data, out, batch=args.batch)
    except (FileNotFoundError, ValueError, dataset.DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"model: {result['model']}  data: {result['data']}  images: {result['n']}")
    print(
        f"geodesic error: mean {result['mean_deg']:.3f} deg, median {result['median_deg']:.3f} deg, "
        f"p95 {result['p95_deg']:.3f} deg, max {result['max_deg']:.2f} deg"
    )
    print("accuracy: " + ", ".join(f"{k[4:]} {v:.4f}" for k, v in result.items() if k.startswith("acc_")))
    print(f"wrote {out}/vision_eval.json, error_histogram.png, error_model.json")
    doc.set(result)
    return 0


# -- humanoid ---------------------------------------------------------------------------------
def humanoid_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="run directory (its policy/ and config.json)")
    source.add_argument("--onnx", type=Path, help="an exported policy (.onnx); scored in Gymnasium")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--episode-steps", type=int, help="episode cap (default: the run's)")
    parser.add_argument("--gymnasium", action="store_true", help="score in Gymnasium's native Humanoid-v4")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file (for experiments.compare)")


def humanoid(args: argparse.Namespace) -> int:
    from orient_jax.core import seeds as seeds_lib
    from orient_jax.tasks.humanoid import evaluation as humanoid_eval
    from orient_jax.tasks.humanoid import run as humanoid_run
    from orient_jax.tasks.humanoid.env import NATIVE

    if args.episodes <= 0:
        print("error: --episodes must be positive", file=sys.stderr)
        return 2
    if args.onnx is not None:
        try:
            policy = humanoid_eval.onnx_policy(args.onnx)
        except Exception as e:  # onnxruntime raises its own types for a missing or bad file
            first = str(e).strip().splitlines()[0] if str(e).strip() else e
            print(f"error: cannot load {args.onnx}: {first}", file=sys.stderr)
            return 2
        result = humanoid_eval.evaluate_gymnasium(
            policy, args.episodes, args.episode_steps or 1000, args.seed, jit=False
        )
        result.update(onnx=str(args.onnx), where="gymnasium", runtime="onnxruntime")
        print(json.dumps(result))
        return 0
    try:
        exp = humanoid_run.load_run_config(args.run)
        # A run of N seeds in one program (--seeds N): every seed's policy, on the same episodes.
        folders = (
            [(s, args.run / "policies" / f"seed-{s}") for s in seeds_lib.seed_values(exp.seed, exp.seeds)]
            if exp.seeds > 1
            else [(exp.seed, args.run)]
        )
        policies = [(s, *humanoid_run.load_policy(folder)) for s, folder in folders]
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.episode_steps:
        exp = dataclasses.replace(exp, episode_steps=args.episode_steps)
    native = exp.env.physics == NATIVE  # trained in Gymnasium's own physics: scored there, never in MJX
    where = "gymnasium" if args.gymnasium or native else f"mjx/{exp.env.physics}"

    def score(policy) -> dict:
        if args.gymnasium or native:
            return humanoid_eval.evaluate_gymnasium(policy, args.episodes, exp.episode_steps, args.seed)
        return humanoid_eval.evaluate_mjx(policy, exp, args.episodes, args.seed)

    per_seed = [{"training_seed": s, **score(policy)} for s, policy, _ in policies]
    result = {**per_seed[0], "run": str(args.run), "algo": policies[0][2]["algo"], "where": where, "seed": args.seed}
    if len(per_seed) > 1:  # the first seed's figures on top, every seed's in per_seed (as experiments.compare reads)
        result["per_seed"] = per_seed
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    print(json.dumps(result))
    return 0


COMMANDS = {  # kind -> (what it scores, its flags, the command)
    "rotation": ("a re-orientation policy: success rate, time to upright", rotation_arguments, rotation),
    "vision": ("the orientation CNN on rendered images: error figures, error model", vision_arguments, vision),
    "humanoid": ("a Humanoid policy, in MJX or in Gymnasium's own Humanoid-v4", humanoid_arguments, humanoid),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND", help=", ".join(COMMANDS))
    for name, (about, add_arguments, command) in COMMANDS.items():
        sub = kinds.add_parser(name, help=about, description=f"Score {about}.")
        add_arguments(sub)
        sub.set_defaults(command=command)
    args = parser.parse_args(argv)
    return args.command(args)


if __name__ == "__main__":
    sys.exit(main())
