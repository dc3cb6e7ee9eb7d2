"""Compare Humanoid runs (DQN or PPO): one table and one plot of last-100 means.

    python -m experiments.compare_humanoid plain=runs/humanoid/dqn_plain seed=runs/humanoid/dqn_seed \\
        --out docs/humanoid_dqn_variants.png

Each ``LABEL=RUN_DIR`` is read from its logs, so a run that is still going, or was
stopped, is compared as far as it got (marked "unfinished" in the table).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orient_jax.core import runs
from orient_jax.tasks.humanoid import evaluation as humanoid_eval
from orient_jax.tasks.humanoid import plots as episode_plots
from orient_jax.tasks.humanoid import run as humanoid_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="LABEL=RUN_DIR")
    parser.add_argument("--out", type=Path, help="PNG of the last-100 means (DQN runs only)")
    args = parser.parse_args(argv)
    curves, lines = {}, []
    try:
        for item in args.runs:
            label, sep, directory = item.partition("=")
            if not sep or not label or not directory:
                raise ValueError(f"{item!r}: expected LABEL=RUN_DIR")
            run_dir = Path(directory)
            exp = humanoid_run.load_run_config(run_dir)
            s = humanoid_eval.training_summary(run_dir, exp)
            done = (run_dir / "summary.json").exists()
            lines.append(
                f"| {label} | {s['episodes']:,}{'' if done else ' (unfinished)'} | {s['env_steps']:,} "
                f"| {s['peak']:.1f} | {s['last100']:.1f} |"
            )
            if exp.algo == "dqn":
                curves[label] = runs.MetricsLog(run_dir / "episodes.jsonl").read()
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("| run | episodes | env steps | peak | last-100 mean |\n|---|---:|---:|---:|---:|")
    print("\n".join(lines))
    if args.out:
        if not curves:
            print("error: --out plots DQN episode logs; none of these runs has one", file=sys.stderr)
            return 2
        episode_plots.plot_running_means(curves, args.out, episode_plots.PUBLISHED_PEAK)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
