"""Measure what each candidate Humanoid physics costs per env step (choosing ``env.physics``).

    python -m experiments.humanoid_physics --out docs/results/humanoid_physics.json
    python -m experiments.humanoid_physics --batch 1024 --only lean --only gymnasium   # on a GPU

For each candidate: XLA's cost analysis of one jitted, vmapped env step (flops and bytes
accessed per env step), the compile time of a rollout, and env steps/s under random
actions. Each candidate is measured in its own process with a time limit: XLA's CPU
runtime can deadlock on MJX at some batch sizes (DESIGN.md), and one stuck candidate
must not cost the others their figures; it is retried once, then reported as such.

The score of a policy trained in a physics (native Gymnasium Humanoid-v4) is measured by
``experiments.evaluate humanoid --gymnasium``; docs/humanoid.md puts the two together.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from orient_jax.tasks.humanoid.env import PHYSICS, Solver

# The named variants, and the one-knob-away neighbours of ``lean`` that show what each
# of its choices buys.
CANDIDATES: dict[str, str | Solver] = {
    **{name: name for name in PHYSICS},
    "lean+floor": Solver(contacts="floor"),
    "lean+rk4": Solver(integrator="rk4"),
}


def _measure_one(name: str, batch: int, steps: int) -> dict:
    from orient_jax.tasks.humanoid.benchmark import step_cost

    result = step_cost(CANDIDATES[name], batch, steps=steps)
    return {"candidate": name, **result}


def _in_child(name: str, batch: int, steps: int, timeout: float) -> dict:
    code = (
        "import json, sys; from experiments.humanoid_physics import _measure_one; "
        f"print('RESULT ' + json.dumps(_measure_one({name!r}, {batch}, {steps})))"
    )
    for attempt in (1, 2):
        try:
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
            )
        except subprocess.TimeoutExpired:
            print(f"{name}: no result in {timeout:.0f} s (attempt {attempt}; XLA CPU deadlock?)", file=sys.stderr)
            continue
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
        if out.returncode == 0 and lines:
            return json.loads(lines[-1].removeprefix("RESULT "))
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return {"candidate": name, "error": tail}
    return {"candidate": name, "error": f"no result in {timeout:.0f} s, twice"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32, help="envs stepped together (CPU: keep it <= 64)")
    parser.add_argument("--steps", type=int, default=10, help="env steps per timed rollout")
    parser.add_argument("--only", action="append", choices=sorted(CANDIDATES), help="measure only these (repeatable)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per candidate")
    parser.add_argument("--out", type=Path, help="also write the results here (JSON)")
    args = parser.parse_args(argv)
    if args.batch <= 0 or args.steps <= 0:
        print("error: --batch and --steps must be positive", file=sys.stderr)
        return 2
    rows = []
    for name in args.only or list(CANDIDATES):
        row = _in_child(name, args.batch, args.steps, args.timeout)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        command = " ".join(["python -m experiments.humanoid_physics", *(sys.argv[1:] if argv is None else argv)])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": command, "rows": rows}, indent=1, allow_nan=False) + "\n")
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
