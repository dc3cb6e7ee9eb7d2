"""Throughput benchmark: env steps/s across batch sizes (MJX vs native MuJoCo), PPO
training steps/s (ours vs brax.training, same env and batch shape), time to 95 %
re-orientation success, and the Humanoid (env steps/s of each physics with its compile
time and XLA cost, and PPO steps/s).

    python -m experiments.benchmark --suite cpu --out runs/benchmark/cpu
    python -m experiments.benchmark --suite gpu-quick --out runs/benchmark/gpu-quick   # <= 8 min on one GPU
    python -m experiments.benchmark --suite gpu --out runs/benchmark/gpu
    python -m experiments.benchmark --suite cpu --task NAME         # another task profile
    python -m experiments.benchmark --suite cpu --only env --only ppo  # some sections only

Writes DIR/benchmark.json, DIR/benchmark.md (tables) and DIR/env_steps.png (log-log).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from experiments.configs import humanoid as humanoid_configs
from orient_jax import profiles
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.tasks.humanoid import benchmark as humanoid_bench
from orient_jax.tasks.humanoid.env import HumanoidConfig
from orient_jax.tasks.rotation import benchmark as bench


@dataclasses.dataclass(frozen=True)
class Suite:
    env_batches: tuple[int, ...]
    env_steps: int
    ppo: PPOConfig  # batch shape shared by both trainers
    ppo_updates: int  # timed updates after compilation
    ttt: PPOConfig  # time-to-threshold run
    ttt_eval_every: int
    ttt_eval_episodes: int
    ttt_max_seconds: float
    # The Humanoid: env steps of each physics at each batch (with compile time), then PPO
    # on the first physics. Physics listed in ``humanoid_small_only`` get the smallest batch only.
    humanoid_batches: tuple[int, ...] = ()
    humanoid_physics: tuple[str, ...] = ("lean", "gymnasium")
    humanoid_small_only: tuple[str, ...] = ()
    humanoid_steps: int = 20
    humanoid_ppo: PPOConfig | None = None
    humanoid_ppo_updates: int = 2
    # The native DQN's learner (dqn_native with each tuple of overrides), timed calls.
    dqn_variants: tuple[tuple[str, ...], ...] = ()
    dqn_calls: int = 4


SECTIONS = ("env", "ppo", "ttt", "humanoid", "dqn")

# The Humanoid ``gpu`` preset's PPO shape (experiments/configs/humanoid.py).
HUMANOID_GPU_PPO = humanoid_configs.PRESETS.get("gpu").ppo

GPU = Suite(
    env_batches=(64, 256, 1024, 4096, 16384, 65536),
    env_steps=128,
    ppo=PPOConfig(num_envs=8192, rollout_length=32, num_minibatches=16, update_epochs=4, total_env_steps=10**9),
    ppo_updates=10,
    ttt=PPOConfig(
        num_envs=8192,
        rollout_length=16,
        num_minibatches=8,
        update_epochs=4,
        anneal_lr=False,
        total_env_steps=50_000_000,
    ),
    ttt_eval_every=10,
    ttt_eval_episodes=1024,
    ttt_max_seconds=900,
    humanoid_batches=(1024, 4096, 16384, 65536),
    humanoid_physics=("floor4", "lean", "lean4", "fast", "gymnasium"),
    humanoid_small_only=("gymnasium",),
    humanoid_ppo=HUMANOID_GPU_PPO,
    humanoid_ppo_updates=10,
)

SUITES = {
    # Seconds of work per job: exercises every code path (the test suite runs it).
    "smoke": Suite(
        env_batches=(16,),
        env_steps=8,
        ppo=PPOConfig(num_envs=16, rollout_length=8, num_minibatches=2, update_epochs=1, total_env_steps=10**6),
        ppo_updates=2,
        ttt=PPOConfig(
            num_envs=16,
            rollout_length=8,
            num_minibatches=2,
            update_epochs=1,
            anneal_lr=False,
            total_env_steps=16 * 8 * 2,
        ),
        ttt_eval_every=1,
        ttt_eval_episodes=8,
        ttt_max_seconds=60,
        humanoid_batches=(4,),
        humanoid_physics=("lean",),
        humanoid_steps=2,
        humanoid_ppo=PPOConfig(num_envs=4, rollout_length=4, num_minibatches=2, update_epochs=1, hidden_sizes=(32, 32)),
        humanoid_ppo_updates=1,
        dqn_variants=(
            ("dqn.hidden_sizes=32,32", "dqn.steps_per_call=2", "dqn.updates_per_step=1", "dqn.batch_size=16"),
        ),  # fmt: skip
        dqn_calls=1,
    ),
    # 2 cores: MJX batches stay <= 1024 (XLA CPU can deadlock above).
    "cpu": Suite(
        env_batches=(64, 256, 1024),
        env_steps=64,
        ppo=PPOConfig(num_envs=1024, rollout_length=32, num_minibatches=8, update_epochs=4, total_env_steps=10**8),
        ppo_updates=4,
        ttt=PPOConfig(
            num_envs=256,
            rollout_length=16,
            num_minibatches=4,
            update_epochs=4,
            anneal_lr=False,
            total_env_steps=3_000_000,
        ),
        ttt_eval_every=5,
        ttt_eval_episodes=256,
        ttt_max_seconds=240,
        humanoid_batches=(32,),  # XLA on the CPU deadlocked on MJX Humanoid batches of 64 and 256
        humanoid_physics=("floor4", "lean", "lean4", "fast", "gymnasium"),
        humanoid_ppo=PPOConfig(num_envs=32, rollout_length=64, num_minibatches=4, update_epochs=4),
        dqn_variants=((), ("dqn.critics=1",), ("dqn.hidden_sizes=256,256",), ("dqn.double_q=false",)),
    ),
    "gpu": GPU,
    # One GPU in at most 8 minutes: the figures the README quotes, and nothing else.
    "gpu-quick": dataclasses.replace(
        GPU,
        env_batches=(4096, 16384, 65536),
        env_steps=64,
        ppo_updates=5,
        ttt=dataclasses.replace(GPU.ttt, total_env_steps=20_000_000),
        ttt_max_seconds=180,
        humanoid_batches=(4096, 16384, 65536),
        humanoid_physics=("floor4",),  # the gpu preset's; the others (gymnasium: ~2 min of compile) in `gpu`
        humanoid_small_only=(),
        humanoid_ppo_updates=5,
    ),
}


def markdown(results: dict) -> str:
    host = results["host"]
    lines = [
        f"Suite `{results['suite']}` on {host['cpu_count']} CPU cores, devices {host['devices']}, "
        f"jax {host['jax']}, mujoco {host['mujoco']}; total {results['total_s']:.0f} s.",
    ]
    if results["env"]:
        lines += [
            "",
            "| Env | Batch | MJX env control steps/s | MJX physics steps/s (raw `mjx.step`) "
            "| Native MuJoCo physics steps/s (rollout, threads) | MJX compile s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
    by_batch: dict[tuple[str, int], dict] = {}
    for row in results["env"]:
        by_batch.setdefault((row["env"], row["batch"]), {})[row["kind"]] = row
    for (env, batch), rows in sorted(by_batch.items()):
        e, p, n = rows.get("mjx_env", {}), rows.get("mjx_physics", {}), rows.get("native_mujoco", {})
        lines.append(
            f"| {env} | {batch} | {e.get('control_steps_per_s', 0):,.0f} | {p.get('physics_steps_per_s', 0):,.0f} | "
            f"{n.get('physics_steps_per_s', 0):,.0f} ({n.get('threads', '-')}) | {e.get('compile_s', 0):.1f} |"
        )
    if results["ppo"]:
        lines += ["", "| PPO trainer | Envs | Env steps/s (learning included) | Compile s |", "|---|---:|---:|---:|"]
        for row in results["ppo"]:
            compile_s = f"{row['compile_s']:.1f}" if row.get("compile_s") is not None else "-"  # Brax: not separable
            lines.append(f"| {row['trainer']} | {row['num_envs']} | {row['env_steps_per_s']:,.0f} | {compile_s} |")
        rate = {r["trainer"]: r["env_steps_per_s"] for r in results["ppo"]}
        if {"orient_jax", "brax"} <= set(rate):
            lines.append(f"\nOurs / Brax throughput: **{rate['orient_jax'] / rate['brax']:.2f}×**")
    if results["time_to_threshold"]:
        lines += [
            "",
            "| Time to 95 % success (deterministic eval) | Reached | Wall s (compile incl., evals excl.) "
            "| Wall s (evals incl.) | Env steps |",
            "|---|---|---:|---:|---:|",
        ]
        for row in results["time_to_threshold"]:
            wall, train = (
                f"{row[k]:.0f}" if row.get(k) is not None else "-" for k in ("wall_s", "wall_s_excluding_evals")
            )
            lines.append(f"| {row['trainer']} | {row['reached']} | {train} | {wall} | {row['env_steps'] or '-'} |")
    envs = [r for r in results.get("humanoid", []) if r["kind"] == "humanoid_env"]
    if envs:
        lines += [
            "",
            "| Humanoid physics | Batch | Contacts | Env steps/s | Physics steps/s | Compile s "
            "| XLA flops / env step | XLA bytes / env step |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in envs:
            lines.append(
                f"| {r['physics']} | {r['batch']} | {r['candidate_contacts']} | {r['env_steps_per_s']:,.0f} | "
                f"{r['physics_steps_per_s']:,.0f} | {r['compile_s']:.1f} | {r['flops_per_env_step']:,.0f} | "
                f"{r['bytes_per_env_step']:,.0f} |"
            )
    for r in (r for r in results.get("humanoid", []) if r["kind"] == "humanoid_ppo"):
        lines.append(
            f"\nHumanoid PPO ({r['physics']}, {r['num_envs']} envs x {r['rollout_length']}): "
            f"**{r['env_steps_per_s']:,.0f} env steps/s** ({r['physics_steps_per_s']:,.0f} physics steps/s), "
            f"compile {r['compile_s']:.1f} s"
        )
    if results.get("dqn"):
        lines += [
            "",
            "| Native DQN learner (`dqn_native` +) | Critics | Hidden | ms / gradient step | env steps/s it allows |",
            "|---|---:|---|---:|---:|",
        ]
        for r in results["dqn"]:
            lines.append(
                f"| {' '.join(r['overrides']) or '(preset)'} | {r['critics']} | {r['hidden_sizes']} | "
                f"{r['ms_per_grad_step']:.2f} | {r['env_steps_per_s_bound']:,.0f} |"
            )
    return "\n".join(lines) + "\n"


def plot(results: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    series = {
        ("mjx_env", "control_steps_per_s"): "MJX env (control steps/s)",
        ("mjx_physics", "physics_steps_per_s"): "raw mjx.step (physics steps/s)",
        ("native_mujoco", "physics_steps_per_s"): "native MuJoCo rollout (physics steps/s)",
    }
    for (kind, key), label in series.items():
        rows = sorted((r for r in results["env"] if r["kind"] == kind), key=lambda r: r["batch"])
        if rows:
            ax.loglog([r["batch"] for r in rows], [r[key] for r in rows], marker="o", label=label)
    ax.set_xlabel("parallel envs")
    ax.set_ylabel("steps / s")
    ax.set_title(f"re-orientation env, suite {results['suite']}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=sorted(SUITES), default="cpu")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        action="append",
        help="run only this section (repeatable): env (env steps/s), ppo (trainer steps/s), ttt (time to 95 %%), "
        "humanoid (Humanoid env steps/s per physics, with compile, and Humanoid PPO), dqn (the native DQN's "
        "learner: ms per gradient step)",
    )
    parser.add_argument("--task", default="cube", help=f"task profile: {', '.join(profiles.names())}")
    parser.add_argument("--allow-cpu", action="store_true", help="run a GPU suite on the CPU anyway")
    args = parser.parse_args(argv)
    suite = SUITES[args.suite]
    import jax

    if args.suite.startswith("gpu") and jax.default_backend() == "cpu" and not args.allow_cpu:
        print(
            f"error: suite {args.suite!r} is sized for a GPU, but JAX runs on the CPU here; "
            "pass --allow-cpu to run it anyway",
            file=sys.stderr,
        )
        return 2
    try:
        spec = profiles.get(args.task)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = args.out or Path("runs/benchmark") / args.suite
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    sections = [x for x in SECTIONS if x in (args.only or SECTIONS)]
    results = {"suite": args.suite, "sections": sections, "task": spec.name, "host": bench.host_description(),
               "env": [], "ppo": [], "time_to_threshold": [], "humanoid": [], "dqn": []}  # fmt: skip

    jobs = []
    for name in bench.ENVS if "env" in sections else ():
        for batch in suite.env_batches:
            jobs.append(("env", lambda n=name, b=batch: bench.env_steps(spec, n, b, suite.env_steps)))
    for batch in suite.env_batches if "env" in sections else ():
        jobs.append(("env", lambda b=batch: bench.mjx_physics(spec, b, suite.env_steps * 4)))
        jobs.append(("env", lambda b=batch: bench.native_physics(spec, b, suite.env_steps * 4)))
    if "ppo" in sections:
        jobs.append(("ppo", lambda: bench.ppo_ours(spec, suite.ppo, suite.ppo_updates)))
        jobs.append(("ppo", lambda: bench.ppo_brax(spec, suite.ppo, suite.ppo_updates)))
    if "ttt" in sections:
        ttt = (spec, suite.ttt, 0.95, suite.ttt_eval_every, suite.ttt_eval_episodes)
        jobs.append(("time_to_threshold", lambda: bench.time_to_threshold_ours(*ttt, suite.ttt_max_seconds)))

        def brax_ttt():
            # Brax cannot stop early: give it 3x the env steps ours needed (or ours' cap).
            ours = results["time_to_threshold"][0]
            budget = 3 * (ours["env_steps"] or suite.ttt.total_env_steps // 3)
            return bench.time_to_threshold_brax(*ttt, max_env_steps=budget)

        jobs.append(("time_to_threshold", brax_ttt))

    if "humanoid" in sections:
        for physics in suite.humanoid_physics:
            batches = suite.humanoid_batches[:1] if physics in suite.humanoid_small_only else suite.humanoid_batches
            for batch in batches:
                jobs.append(
                    ("humanoid", lambda p=physics, b=batch: humanoid_bench.step_cost(p, b, suite.humanoid_steps))
                )
        if suite.humanoid_ppo is not None:
            exp = dataclasses.replace(
                humanoid_configs.PRESETS.get("gpu"), env=HumanoidConfig(physics=suite.humanoid_physics[0])
            )
            exp = dataclasses.replace(exp, ppo=suite.humanoid_ppo)
            jobs.append(("humanoid", lambda: humanoid_bench.ppo_steps(exp, suite.humanoid_ppo_updates)))

    for overrides in suite.dqn_variants if "dqn" in sections else ():
        jobs.append(("dqn", lambda o=overrides: humanoid_bench.dqn_learner(o, suite.dqn_calls)))

    for section, job in tqdm(jobs, desc="benchmark", unit="job"):
        row = job()
        results[section].append(row)
        tqdm.write(json.dumps({k: v for k, v in row.items() if k != "history"}))
        (out / "benchmark.json").write_text(json.dumps(results, indent=2) + "\n")

    results["total_s"] = time.perf_counter() - start
    (out / "benchmark.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "benchmark.md").write_text(markdown(results))
    written = ["benchmark.json", "benchmark.md"]
    if results["env"]:
        plot(results, out / "env_steps.png")
        written.append("env_steps.png")
    print(markdown(results))
    print(f"wrote {', '.join(written)} into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
