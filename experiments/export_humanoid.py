"""Export trained Humanoid policies to ONNX, check them, and time batch-1 inference.

    python -m experiments.export_humanoid --dqn runs/humanoid/dqn_seed-... --ppo runs/humanoid/ppo200-...

Writes ``humanoid_dqn.onnx`` / ``humanoid_ppo.onnx`` into ``--out`` (default
models/humanoid, beside the shipped policies), checks each against its contract (experiments.check_onnx rules),
compares onnxruntime with JAX on observations from rollouts in Gymnasium's physics (or random ones), and times 1,000
batch-1 runs on onnxruntime's CPU provider against the published DQN's CUDA figure
(0.1224 s per 1,000 runs). With ``--json`` stdout is one JSON object (the results); human lines go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jax
import numpy as np

from experiments import json_output
from orient_jax import paths
from orient_jax.export import contract, latency
from orient_jax.export.humanoid import export_humanoid_policy, parity
from orient_jax.export.onnx_export import save_atomic
from orient_jax.tasks.humanoid import native
from orient_jax.tasks.humanoid import run as humanoid_run
from orient_jax.tasks.humanoid.env import HumanoidConfig


def rollout_observations(policy, n: int = 256, steps: int = 16, seed: int = 0) -> np.ndarray:
    """Observations the policy meets in Gymnasium's own physics: ``n // steps`` native envs
    (``orient_jax.tasks.humanoid.native``) run ``steps`` steps under it."""
    envs = native.NativeHumanoid(-(-n // steps), HumanoidConfig(), 1000, seed)
    act = jax.jit(policy)
    obs, seen = envs.reset(), []
    for _ in range(steps):
        seen.append(obs.astype(np.float32))
        obs = envs.step(np.asarray(act(obs.astype(np.float32))))["obs"]
    return np.concatenate(seen)[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dqn", type=Path, help="DQN run directory (or policy folder)")
    parser.add_argument("--ppo", type=Path, help="PPO run directory (or policy folder)")
    parser.add_argument("--out", type=Path, default=paths.SHIPPED_HUMANOID, help="default models/humanoid")
    parser.add_argument("--latency", type=int, default=1000, metavar="RUNS", help="batch-1 runs to time (0: skip)")
    parser.add_argument(
        "--parity-inputs",
        choices=("rollout", "random"),
        default="rollout",
        help="observations for the ONNX-vs-JAX check: from native rollouts (default), or standard normal",
    )
    parser.add_argument("--json", action="store_true", help="stdout: one JSON object; human lines: stderr")
    args = parser.parse_args(argv)
    if args.dqn is None and args.ppo is None:
        parser.error("give --dqn RUN and/or --ppo RUN")
    with json_output.stdout_document(args.json) as doc:
        return export(args, doc)


def export(args: argparse.Namespace, doc: json_output.Document) -> int:
    sources = {algo: path for algo, path in (("dqn", args.dqn), ("ppo", args.ppo)) if path is not None}
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for algo, source in sources.items():
        try:
            policy, info = humanoid_run.load_policy(source)
        except (FileNotFoundError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        if info["algo"] != algo:
            print(f"error: {source} holds a {info['algo']} policy, not {algo}", file=sys.stderr)
            return 2
        c = contract.HUMANOID[f"humanoid_{algo}"]
        path = save_atomic(export_humanoid_policy(policy, algo), args.out / c.file)
        report = contract.check_file(path, c)
        if not report.ok:
            print(report.format(), file=sys.stderr)
            return 1
        if args.parity_inputs == "rollout":
            obs = rollout_observations(policy)
        else:
            obs = np.random.default_rng(0).standard_normal((256, c.input.shape[-1])).astype(np.float32)
        result = {"file": path.name, "source": str(source), "bytes": path.stat().st_size}
        result["parity"] = parity(path, policy, obs)
        if args.latency:
            t = latency.ort_cpu_latency(path, c, runs=args.latency)
            result["latency"] = t.to_dict()
            print(
                f"{c.file}: ORT CPU batch-1 {t.mean_ms:.4f} ms mean = {t.s_per_1000:.4f} s per 1,000 runs "
                f"(median {t.median_ms:.4f} ms); published CUDA figure {latency.PUBLISHED_CUDA_S_PER_1000} s"
            )
        print(
            f"{c.file}: contract ok; parity vs JAX on {result['parity']['n']} {args.parity_inputs} observations: "
            f"max |diff| {result['parity']['max_abs_diff']:.2e}, {result['parity']['agree_1e-5']:.1%} of actions agree"
        )
        results[algo] = result
    record = args.out / "humanoid.json"  # what was exported from where, and how fast it runs
    previous = json.loads(record.read_text()) if record.exists() else {}
    record.write_text(json.dumps({**previous, **results}, indent=2) + "\n")
    doc.set(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
