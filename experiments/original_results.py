"""Collect the original-runtime figures into docs/results/original_runtime.json.

    node original/eval.mjs --runtime-dir DIR --episodes 200 --json > node.txt
    node original/eval.mjs --runtime-dir DIR --episodes 200 --noise-model ERROR_MODEL --json > node-noise.txt
    node original/eval.mjs --runtime-dir ORIG --episodes 200 --json > node-original.txt  # its own models
    node original/frames.mjs --runtime-dir DIR --frames 200 --json > frames.txt
    node original/page_eval.mjs --runtime-dir DIR --episodes 10 --json > page.txt
    python -m experiments.original_results --node node.txt --node-noise node-noise.txt \\
        --node-original node-original.txt --frames frames.txt --page page.txt

Each input is what those commands print with --json: the last line is one JSON object.
The output holds the goal figures' keys (node_upright_rate, node_episodes,
node_upright_rate_error_model, node_upright_rate_original_models, pose_median_deg,
pose_p95_deg, chromium_upright, chromium_episodes) and, for the record, the summaries they
came from. --node-noise (the CNN's error model on the pose) and --node-original (the
runtime's own models) are optional; their keys are null without them.
`python -m experiments.original` (make original) writes the same document into its run folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from orient_jax import paths

OUT = paths.RESULTS / "original_runtime.json"


class ResultsError(ValueError):
    pass


def last_json(path: Path, needs: tuple[str, ...]) -> dict:
    """The JSON object on the last non-empty line of `path`, with the keys in `needs`."""
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
    except OSError as e:
        raise ResultsError(f"cannot read {path}: {e.strerror}") from None
    try:
        value = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise ResultsError(f"{path}: the last line is not a JSON object (run the command with --json)")
    missing = [k for k in needs if k not in value]
    if missing:
        raise ResultsError(f"{path}: no {', '.join(missing)} in its JSON; is it the right command's output?")
    return value


def upright_rate(drops: dict | None, path: Path | None) -> float | None:
    """The upright rate of eval.mjs's output as a float: its JSON writes 1.0 as 1."""
    if drops is None:
        return None
    value = drops["upright_rate"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResultsError(f"{path}: upright_rate is {value!r}, not a number")
    return float(value)


def collect(node: Path, frames: Path, page: Path, node_noise: Path | None = None,
            node_original: Path | None = None) -> dict:  # fmt: skip
    drops = ("episodes", "upright", "upright_rate")
    ours = last_json(node, drops)
    noisy = last_json(node_noise, drops) if node_noise is not None else None
    theirs = last_json(node_original, drops) if node_original is not None else None
    pose = last_json(frames, ("frames", "median_deg", "p95_deg", "problems"))
    drive = last_json(page, ("episodes", "upright", "problems", "rows"))
    drop = lambda d: {k: v for k, v in d.items() if k != "rows"} if d is not None else None  # noqa: E731
    return {
        "node_upright_rate": upright_rate(ours, node),
        "node_episodes": ours["episodes"],
        "node_upright_rate_error_model": upright_rate(noisy, node_noise),
        "node_episodes_error_model": noisy["episodes"] if noisy else None,
        "node_upright_rate_original_models": upright_rate(theirs, node_original),
        "node_episodes_original_models": theirs["episodes"] if theirs else None,
        "pose_median_deg": pose["median_deg"],
        "pose_p95_deg": pose["p95_deg"],
        "pose_frames": pose["frames"],
        "chromium_upright": drive["upright"],
        "chromium_episodes": drive["episodes"],
        "console_problems": len(pose["problems"]) + len(drive["problems"]),
        "details": {
            "node": drop(ours),
            "node_error_model": drop(noisy),
            "node_original_models": drop(theirs),
            "frames": {k: v for k, v in pose.items() if k != "errors_deg"},
            "page": drive,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--node", type=Path, required=True, help="eval.mjs --json output, our policy")
    parser.add_argument("--node-noise", type=Path, help="eval.mjs --noise-model ... --json output, our policy")
    parser.add_argument("--node-original", type=Path, help="eval.mjs --json output, its own models")
    parser.add_argument("--frames", type=Path, required=True, help="frames.mjs --json output")
    parser.add_argument("--page", type=Path, required=True, help="page_eval.mjs --json output")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        result = collect(args.node, args.frames, args.page, args.node_noise, args.node_original)
    except ResultsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    tmp.replace(args.out)
    rate = lambda key: "n/a" if result[key] is None else f"{result[key]:.3f}"  # noqa: E731
    print(
        f"wrote {args.out}: Node {result['node_upright_rate']:.3f} of {result['node_episodes']} "
        f"(error model {rate('node_upright_rate_error_model')}, its own models "
        f"{rate('node_upright_rate_original_models')}); pose median "
        f"{result['pose_median_deg']:.2f} deg, p95 {result['pose_p95_deg']:.2f} deg; page "
        f"{result['chromium_upright']}/{result['chromium_episodes']} upright"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
