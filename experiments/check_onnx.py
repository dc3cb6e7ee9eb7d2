"""Check exported ONNX files against their contracts (orient_jax/export/contract.py).

    python -m experiments.check_onnx                          # web/public/models, profile cube
    python -m experiments.check_onnx web/public/models --json
    python -m experiments.check_onnx --only policy            # before a pose model exists
    python -m experiments.check_onnx --latency 1000           # also: ORT CPU batch-1 latency
    python -m experiments.check_onnx models/humanoid          # the Humanoid policies
    python -m experiments.check_onnx DIR --task original      # another profile's files
    node web/bench/ort-latency.mjs | tail -1 > /tmp/web.json  # onnxruntime-web (WASM) latency, then:
    python -m experiments.check_onnx --web-results /tmp/web.json  # web runtime == ORT CPU on its input?

Loads the task profile's pose model and policy (--task, default cube; default folder: the
profile's export folder), and any Humanoid policies in the folder, with onnx and
onnxruntime, and fails (exit 1) with a message naming the file and tensor on: wrong
input/output names, shapes or dtypes; an IR version or opset newer than onnxruntime-web
1.30 runs; a random-sampling op; onnxruntime warnings while loading; outputs that are
non-finite, non-deterministic or (policy) out of [-1, 1]. Also checks task.json against
the profile and the files against manifest.json's hashes. A folder that holds only
Humanoid policies is checked for those alone. With --json stdout is one JSON
object with an "ok" field (every other line goes to stderr). --web-results compares the outputs that
web/bench/ort-latency.mjs got from onnxruntime-web with onnxruntime's on the same input
(fails above 1e-4).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments import json_output
from orient_jax import profiles
from orient_jax.export import contract, latency, parity, pipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", type=Path, help="default: the profile's export folder (web/public/models)")
    parser.add_argument("--task", default="cube", help=f"the task profile: {', '.join(profiles.names())}")
    parser.add_argument("--only", choices=contract.MODELS, action="append", help="check only this model")
    parser.add_argument("--latency", type=int, metavar="RUNS", help="also time RUNS batch-1 runs per model (ORT CPU)")
    parser.add_argument("--threads", type=int, default=0, help="ORT intra-op threads for --latency (0: default)")
    parser.add_argument("--web-results", type=Path, help="JSON line from web/bench/ort-latency.mjs to compare with")
    parser.add_argument(
        "--json", action="store_true", help='stdout: one JSON object with an "ok" field; the rest: stderr'
    )
    args = parser.parse_args(argv)
    with json_output.stdout_document(args.json) as doc:
        return check(args, doc)


def check(args: argparse.Namespace, doc: json_output.Document) -> int:
    try:
        spec = profiles.get(args.task)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.dir = args.dir or pipeline.default_out(spec)
    if not args.dir.is_dir():
        message = f"{args.dir} is not a directory; export with `python -m experiments.export --out {args.dir}`"
        print(f"error: {message}", file=sys.stderr)
        doc.set({"ok": False, "error": message, "directory": str(args.dir), "problems": [message]})
        return 2
    # The profile's two models (unless the folder holds only Humanoid policies), and the
    # Humanoid policies that have been exported here.
    known = contract.contracts(spec)
    humanoid = [m for m in contract.HUMANOID if (args.dir / known[m].file).exists()]
    a = spec.artifacts
    profile_files = any((args.dir / f).exists() for f in (a.pose_file, a.policy_file, a.task_file))
    own = contract.PROFILE_MODELS if profile_files or not humanoid else ()
    models = tuple(args.only or [*own, *humanoid])
    report = contract.check_dir(args.dir, spec, models=models)
    result = report.to_dict()
    print(report.format())
    if args.latency and report.ok:
        timings = {}
        for name in models:
            c = known[name]
            t = latency.ort_cpu_latency(args.dir / c.file, c, runs=args.latency, threads=args.threads)
            timings[c.file] = t.to_dict()
            print(
                f"{c.file}: ORT CPU batch-1 mean {t.mean_ms:.4f} ms over {t.runs} runs = {t.s_per_1000:.4f} s per "
                f"1,000 (median {t.median_ms:.4f}, p90 {t.p90_ms:.4f} ms; threads {t.threads or 'default'}, "
                f"{t.cores} cores); published CUDA figure {latency.PUBLISHED_CUDA_S_PER_1000} s per 1,000"
            )
        result["latency"] = timings
    ok = report.ok
    if args.web_results and report.ok:
        try:
            bench = json.loads(args.web_results.read_text().splitlines()[-1])
            diffs = parity.web_runtime_parity(args.dir, spec, bench)
        except (OSError, ValueError, IndexError, StopIteration) as e:
            print(f"error: cannot read {args.web_results} as web/bench/ort-latency.mjs output: {e}", file=sys.stderr)
            return 2
        for name, diff in diffs.items():
            print(f"{name}: max |onnxruntime-web - onnxruntime CPU| on the bench's fixed input: {diff:.3g}")
        result["web_runtime_parity"] = diffs
        ok = ok and all(d <= parity.TOLERANCE for d in diffs.values())
        result["ok"] = ok
    doc.set(result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
