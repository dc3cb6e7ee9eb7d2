"""Train one run of any kind: the re-orientation policy, the orientation CNN or the Humanoid.

    python -m experiments.train rotation --config cpu [key=value ...]
    python -m experiments.train rotation --config cpu --seeds 4  # seeds 0-3 in one vmapped program
    python -m experiments.train vision --config demo epochs=4
    python -m experiments.train humanoid --config seed003
    python -m experiments.train KIND --run runs/KIND/NAME       # resume a run directory
    python -m experiments.train KIND --help                     # its presets and flags

The kinds are the rows of ``experiments/kinds.py``; each names its presets
(``experiments/configs``). Every run goes the same way: the runtime line, the config
(a preset plus ``section.key=value`` overrides, or the run directory's own), its checks
(the backend, the inputs the run will read, the run directory's lock), then training with
checkpoints and exact resume, then the kind's final evaluation, printed as one JSON line.
Bad input is one ``error:`` line and exit status 2, before anything is written.
``experiments.train_rotation``, ``train_vision`` and ``train_humanoid`` are this command
for one kind.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from orient_jax.core import launch


def parser_for(kind) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m experiments.train {kind.name}",
        description=f"Train the {kind.about}",
        epilog="presets: " + ", ".join(kind.presets.names()),
    )
    parser.add_argument("--config", metavar="PRESET", help="a preset (below); default cpu, or on resume the run's own")
    parser.add_argument("--run", type=Path, help="run directory; resumes it if it has checkpoints")
    parser.add_argument("--runs-root", type=Path, default=Path("runs") / kind.name, help="where a new run goes")
    parser.add_argument("--stop-after", type=int, metavar="N", help=f"stop after N {kind.unit} (resume later)")
    parser.add_argument("--no-eval", action="store_true", help="skip the final evaluation")
    parser.add_argument(
        "--seeds", type=int, metavar="N", help="train N seeds (seed, seed+1, ...) at once, in one vmapped program"
    )
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. seed=3")
    launch.add_arguments(parser, processes=kind.several_processes)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from experiments import kinds  # the heavy imports, after the process noted its start

    if not argv or argv[0].startswith("-"):
        usage = f"usage: python -m experiments.train {{{','.join(kinds.KINDS)}}} [--config PRESET] ..."
        if argv[:1] in (["-h"], ["--help"]):
            print(__doc__.strip() + "\n\n" + usage)
            return 0
        print(f"{usage}\nerror: name the run kind first", file=sys.stderr)
        return 2
    try:
        kind = kinds.get(argv[0])
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return train(kind, parser_for(kind).parse_args(argv[1:]))


def train(kind, args: argparse.Namespace) -> int:
    from orient_jax.core import runs, tensorboard
    from orient_jax.core.checkpointing import CheckpointError
    from orient_jax.vision.dataset import DatasetError

    errors = (ValueError, FileNotFoundError, DatasetError, CheckpointError)
    evaluate = not args.no_eval
    try:
        runtime = launch.start(args)
        presets = kind.presets
        if args.seeds is not None:
            if "seeds" not in {f.name for f in dataclasses.fields(kind.experiment)}:
                raise ValueError(f"--seeds: a {kind.name} run trains one seed; start one run per seed (seed=N)")
            args.overrides = [*args.overrides, f"seeds={args.seeds}"]
        exp, preset = runs.resolve_experiment(
            args.run, args.config or "cpu", args.overrides, kind.experiment, kind.name, presets.get
        )
        if args.config is not None and args.config != preset:  # a resume keeps the run's own preset
            raise ValueError(
                f"{args.run} was started from preset {preset!r}, not {args.config!r}; resume it without --config "
                "(or with its own), or give another --run"
            )
        launch.check_backend(runtime, preset, presets.gpu, args.allow_cpu)
        runs.check_seed(exp)
        kind.check_inputs(exp, evaluate)
        if args.run is not None:
            runs.refuse_other_config(args.run, runs.config_record(exp, preset), kind.experiment)
        print(runtime.line(), flush=True)  # the first line of every run
        run_dir = runs.claim_run_dir(args.run, args.runs_root, preset)
    except errors as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"run directory: {run_dir}")
    try:
        outcome = kind.train(exp, preset, run_dir, args.stop_after)
        if not outcome.done:
            print(f"stopped at {outcome.where}; resume with --run {run_dir}")
            return 0
        if not runtime.is_writer:  # process 0 evaluates and writes the run's figures
            return 0
        result = kind.finish(exp, run_dir, evaluate)
    except errors as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if result is not None:
        tensorboard.write_final(run_dir, result)
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
