"""Copy a run's orientation CNN into models/pose/, the model everything else uses.

    python -m experiments.ship_vision_model --run runs/vision/cpu

It evaluates the model on the held-out test renders first (default data/test) and
refuses to ship unless the median error is <= --max-median and the p95 <= --max-p95
(defaults 2 and 8 degrees). The evaluation (figures, histogram and the error model the
re-orientation env loads) is shipped with the weights, in models/pose/eval/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from orient_jax import paths
from orient_jax.core import shipping
from orient_jax.vision import dataset
from orient_jax.vision import run as vision_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, required=True, help="vision run directory or model folder")
    parser.add_argument("--data", type=Path, default=Path("data/test"))
    parser.add_argument("--max-median", type=float, default=2.0)
    parser.add_argument("--max-p95", type=float, default=8.0)
    args = parser.parse_args(argv)
    staging = shipping.stage(paths.SHIPPED_POSE_MODEL)  # the shipped model changes all at once, or not at all
    try:
        result = vision_run.evaluate(args.run, args.data, staging / "eval")
    except (FileNotFoundError, ValueError, dataset.DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    if result["median_deg"] > args.max_median or result["p95_deg"] > args.max_p95:
        print(
            f"error: median {result['median_deg']:.3f} deg, p95 {result['p95_deg']:.3f} deg miss the goal "
            f"(<= {args.max_median}, <= {args.max_p95}); not shipped",
            file=sys.stderr,
        )
        shutil.rmtree(staging, ignore_errors=True)
        return 1
    source = args.run / "model" if (args.run / "model").is_dir() else args.run
    for name in ("model.json", "model.msgpack"):
        shutil.copy2(source / name, staging / name)
    info = json.loads((staging / "model.json").read_text())
    info["shipped_eval"] = result
    if (args.run / "config.json").exists():
        info["training_config"] = json.loads((args.run / "config.json").read_text())
    (staging / "model.json").write_text(json.dumps(info, indent=2, allow_nan=False) + "\n")
    (staging / "eval" / "errors_deg.npy").unlink()  # 8 KB per 2k images, not worth shipping
    shipping.commit(staging, paths.SHIPPED_POSE_MODEL)
    print(f"shipped {source} -> {paths.SHIPPED_POSE_MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
