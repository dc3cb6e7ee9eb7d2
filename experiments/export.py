"""Export the pose CNN and the policy to a task profile's browser ONNX files (jax2onnx).

    python -m experiments.export                                   # the shipped models, profile cube
    python -m experiments.export --vision-run runs/vision/cpu --policy-run runs/rotation/cpu-timing
    python -m experiments.export --out /tmp/models --parity-data none
    python -m experiments.export --task NAME --policy-run RUN --vision-run RUN   # another profile's models
    python -m experiments.export --task original --policy-run RUN --vision-run none   # the policy alone

For the profile (--task, default cube) it writes the pose model (cube: pose.onnx, input
[N,3,224,224] -> output [N,4]), the policy (cube: policy.onnx, input [N,23] -> actions
[N,3], the deterministic mean action with observation normalization folded in), task.json
(the profile, orient_jax/profiles) and manifest.json (hashes, sources, versions, parity)
into --out (default: the profile's export folder; cube: web/public/models). Models
trained for another profile are refused. With no pose model (no --vision-run, no
models/pose) the policy is exported alone. The files are checked against the browser
contract and compared with JAX (max |onnx - jax| <= 1e-4 on random inputs and on the
renders in --parity-data) before they replace anything; on any failure nothing is shipped
and the exit status is 1 (2 for bad arguments or missing inputs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments import json_output
from orient_jax import profiles
from orient_jax.export import pipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--vision-run", help="vision run directory or model folder (default: models/pose); 'none': the policy alone"
    )
    parser.add_argument("--policy-run", type=Path, help="rotation run or policy folder (default: shipped)")
    parser.add_argument("--task", default="cube", help=f"the task profile: {', '.join(profiles.names())}")
    parser.add_argument("--out", type=Path, help="output directory (default: the profile's; cube: web/public/models)")
    parser.add_argument("--parity-inputs", type=int, default=1000, help="random inputs per model for parity")
    parser.add_argument(
        "--parity-data", default=str(pipeline.ExportOptions.parity_data), help="renders for pose parity, or 'none'"
    )
    parser.add_argument("--parity-images", type=int, help="how many renders to compare (default: all)")
    parser.add_argument("--json", action="store_true", help="stdout: one JSON object; human lines: stderr")
    args = parser.parse_args(argv)
    with json_output.stdout_document(args.json) as doc:
        return export(args, doc)


def export(args: argparse.Namespace, doc: json_output.Document) -> int:
    try:
        options = pipeline.ExportOptions(
            task=args.task,
            out=args.out,
            vision_run=None if args.vision_run in (None, "none") else Path(args.vision_run),
            no_pose=args.vision_run == "none",
            policy_run=args.policy_run,
            parity_random=args.parity_inputs,
            parity_data=None if args.parity_data.lower() == "none" else Path(args.parity_data),
            parity_real=args.parity_images,
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        manifest = pipeline.run_export(options)
    except pipeline.ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1 if isinstance(e, pipeline.RefusedError) else 2
    except OSError as e:  # --out unwritable, a file where a folder is wanted, a full disk
        print(f"error: cannot write the export: {e.strerror or e} ({e.filename or options.out})", file=sys.stderr)
        return 2
    out = options.out or pipeline.default_out(profiles.get(options.task))
    for name, entry in manifest["files"].items():
        print(f"wrote {out / name} ({entry['bytes']:,} bytes, sha256 {entry['sha256'][:12]})")
        for p in entry.get("parity", []):
            print(
                f"  parity on {p['inputs']}: max |onnx - jax| {p['max_abs']:.3g} (mean {p['mean_abs']:.3g}, "
                f"batch {p['batch']}); at batch 1 on {p['single']}: {p['single_max_abs']:.3g}"
            )
    if not manifest["pose_exported"]:
        print("the pose model was not exported (no pose model): the browser demo needs it")
    doc.set(manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
