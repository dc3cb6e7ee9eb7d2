"""Evaluate the orientation CNN on rendered images: geodesic error figures, a histogram,
and the error model the re-orientation env loads as its observation noise.

    python -m experiments.eval_vision                               # the shipped model, data/test
    python -m experiments.eval_vision --run runs/vision/cpu --data data/test --json

Writes vision_eval.json, error_histogram.png, error_model.json and errors_deg.npy into
--out (default: the run directory, or models/pose/eval for the shipped model). With
--json the last line is one JSON object (median_deg, p95_deg, n, ...).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments import json_output
from orient_jax import paths
from orient_jax.vision import dataset
from orient_jax.vision import run as vision_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="run directory or model folder (default: the shipped model)")
    parser.add_argument("--data", type=Path, default=Path("data/test"), help="rendered dataset (default data/test)")
    parser.add_argument("--out", type=Path, help="where the figures go (default: the run dir, or models/pose/eval)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--json", action="store_true", help="stdout: one JSON object; human lines: stderr")
    args = parser.parse_args(argv)
    with json_output.stdout_document(args.json) as doc:
        return evaluate(args, doc)


def evaluate(args: argparse.Namespace, doc: json_output.Document) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
