"""Re-run a training run from its saved config and compare the final metrics exactly.

    python -m experiments.reproduce runs/rotation/cpu-...             # -> runs/rotation/cpu-...-repro
    python -m experiments.reproduce runs/vision/demo --out /tmp/repro  # vision runs too

Copies RUN_DIR/config.json into a fresh directory and runs the train command on it
(``python -m experiments.train KIND --run``, for the kinds of experiments/kinds.py that
say what a re-run compares: rotation and vision), stopping at
the update the original's metrics end at and evaluating as the original did. Then prints
every final metric side by side: the last metrics row (wall-clock figures left out), the
final evaluation, and the sha256 of the final weights. Warns first when the git SHA,
Python, package versions, devices or the input files (a dataset's manifest, a noise
model) differ from what RUN_DIR/meta.json recorded.

Exit status: 0 when every metric matches exactly, 1 when any differs, 2 for bad arguments.
Same seed, same machine, same code: the result should be bit-identical.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from experiments import kinds, train
from orient_jax.core import reproduce

# The kinds a run directory can hold that a re-run can check.
KINDS = [kind.reproduce for kind in kinds.KINDS.values() if kind.reproduce is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="the run directory to reproduce")
    parser.add_argument("--out", type=Path, help="where the re-run goes (default RUN_DIR-repro); must not exist")
    parser.add_argument("--compare-only", action="store_true", help="compare RUN_DIR with an existing --out")
    args = parser.parse_args(argv)
    out = args.out or args.run.with_name(args.run.name + "-repro")
    try:
        kind = reproduce.run_kind(args.run, KINDS)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    meta = reproduce.read_meta(args.run)
    for warning in reproduce.environment_warnings(meta):
        print(f"warning: {warning}")
    last = reproduce.last_update(args.run)
    if last is None:
        print(f"error: {args.run}/metrics.jsonl has no rows: the run never logged an update", file=sys.stderr)
        return 2

    if not args.compare_only:
        if out.exists():
            print(f"error: {out} exists; remove it or pass --out DIR (or --compare-only)", file=sys.stderr)
            return 2
        out.mkdir(parents=True)
        shutil.copy2(args.run / "config.json", out / "config.json")
        script_argv = [kind.name, "--run", str(out), "--stop-after", str(last)]
        if not (args.run / kind.eval_file).is_file():
            script_argv.append("--no-eval")
        print(f"re-running {args.run} (seed {meta.get('seed', '?')}, update {last}) into {out}")
        print(f"  python -m experiments.train {' '.join(script_argv)}")
        status = train.main(script_argv)
        if status != 0:
            print(f"error: the re-run exited with status {status}", file=sys.stderr)
            return 1
    elif not out.is_dir():
        print(f"error: --compare-only: {out} does not exist", file=sys.stderr)
        return 2

    rows = reproduce.compare(reproduce.final_metrics(args.run, kind), reproduce.final_metrics(out, kind))
    print(reproduce.format_table(rows))
    differing = [r.key for r in rows if not r.same]
    if differing:
        print(f"MISMATCH: {len(differing)} of {len(rows)} final metrics differ ({', '.join(differing[:5])})")
        return 1
    print(f"reproduced: all {len(rows)} final metrics of {args.run} match exactly ({out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
