"""The run kinds: what ``python -m experiments.train KIND`` trains, one row each.

A kind ties together the experiment config type, its presets, the library functions that
check its inputs, train it into a run directory and finish it (its final evaluation), and
what ``experiments.reproduce`` compares of it. The train command (``experiments/train.py``)
and the re-run command (``experiments/reproduce.py``) read this table; the library below
knows nothing of either. Adding a kind is one more row.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from experiments.configs import Presets
from experiments.configs import humanoid as humanoid_presets
from experiments.configs import rotation as rotation_presets
from experiments.configs import vision as vision_presets
from orient_jax.core import launch, reproduce
from orient_jax.tasks.humanoid.config import HumanoidExperiment
from orient_jax.tasks.rotation.config import RotationExperiment
from orient_jax.vision.config import VisionExperiment


@dataclasses.dataclass(frozen=True)
class Outcome:
    """Where training stopped: ``done``, or the position to resume from, in words."""

    done: bool
    where: str = ""  # e.g. "update 3 of 8"


@dataclasses.dataclass(frozen=True)
class RunKind:
    name: str
    about: str  # what a run directory of this kind holds (the command's --help)
    experiment: type
    presets: Presets
    unit: str  # what --stop-after counts
    several_processes: bool  # whether its runs can span several processes
    # (exp, evaluate) -> None: read every input the run will read; raise on a bad one
    check_inputs: Callable[[Any, bool], None]
    # (exp, preset, run_dir, stop_after) -> Outcome: train or resume
    train: Callable[[Any, str, Path, int | None], Outcome]
    # (exp, run_dir, evaluate) -> the figures of a finished run (None: nothing to report)
    finish: Callable[[Any, Path, bool], dict | None]
    reproduce: reproduce.Kind | None  # what a re-run compares; None: not re-runnable


# -- rotation: PPO re-orients the object -------------------------------------------------
def _rotation_check(exp, evaluate: bool) -> None:
    from orient_jax.tasks.rotation import run

    run.check_inputs(exp)


def _rotation_train(exp, preset: str, run_dir: Path, stop_after: int | None) -> Outcome:
    from orient_jax.tasks.rotation import run

    state = run.train_run(exp, preset, run_dir, stop_after=stop_after)
    done = int(np.max(state.update_step))  # one count per seed, all equal
    stopped = run.stopped_early(exp, run_dir)
    return Outcome(done >= exp.ppo.num_updates or stopped, f"update {done} of {exp.ppo.num_updates}")


def _rotation_finish(exp, run_dir: Path, evaluate: bool) -> dict | None:
    from orient_jax.tasks.rotation import run

    if not (evaluate and exp.eval_episodes):
        return None
    result = run.evaluate_run(run_dir, exp)
    (run_dir / "eval.json").write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    return result


# -- vision: the orientation CNN -------------------------------------------------------------
def _vision_check(exp, evaluate: bool) -> None:
    from orient_jax.vision import run

    run.check_inputs(exp, evaluate=evaluate)


def _vision_train(exp, preset: str, run_dir: Path, stop_after: int | None) -> Outcome:
    from orient_jax.vision import run

    _, state, total = run.train_run(exp, preset, run_dir, stop_after=stop_after)
    return Outcome(int(state.step) >= total, f"step {int(state.step)} of {total}")


def _vision_finish(exp, run_dir: Path, evaluate: bool) -> dict | None:
    from orient_jax.vision import run

    return run.evaluate(run_dir, Path(exp.test_data), run_dir) if evaluate else None


# -- humanoid: Gymnasium's Humanoid-v4 with PPO or branching DQN ---------------------------
def _humanoid_check(exp, evaluate: bool) -> None:
    from orient_jax.tasks.humanoid.env import check_impl

    check_impl(exp.env.impl)  # warp-lang must be importable before a run directory is claimed
    if exp.algo == "dqn" and launch.current().process_count > 1:
        raise ValueError("the branching DQN trains in one process (its replay buffer is not sharded); use PPO")
    if exp.algo == "ppo":
        from orient_jax.agents.ppo import memory
        from orient_jax.tasks.humanoid.env import HumanoidEnv

        memory.check_fits(HumanoidEnv(exp.env), exp.ppo, copies=exp.seeds)


def _humanoid_train(exp, preset: str, run_dir: Path, stop_after: int | None) -> Outcome:
    from orient_jax.tasks.humanoid import run

    return Outcome(run.train_run(exp, preset, run_dir, stop_after=stop_after), "before its end")


def _humanoid_finish(exp, run_dir: Path, evaluate: bool) -> dict:
    from orient_jax.tasks.humanoid import run

    return run.finish_run(run_dir, exp, evaluate)


KINDS: dict[str, RunKind] = {
    "rotation": RunKind(
        name="rotation",
        about="re-orientation policy with PPO. A run directory holds config.json, meta.json (seed, git SHA, "
        "versions), metrics.jsonl (its figures also in tensorboard/), learning_curve.png, checkpoints/, "
        "policy/ and eval.json.",
        experiment=RotationExperiment,
        presets=rotation_presets.PRESETS,
        unit="updates",
        several_processes=True,
        check_inputs=_rotation_check,
        train=_rotation_train,
        finish=_rotation_finish,
        reproduce=reproduce.Kind(
            "rotation",
            "eval.json",
            "policy/policy.msgpack",
            frozenset({"wall_s", "steps_per_s", "policy"}),
            ("ppo", "env", "task"),  # the Humanoid's PPO config has ppo and env too, and no task
        ),  # fmt: skip
    ),
    "vision": RunKind(
        name="vision",
        about="orientation CNN on the Blender renders. A run directory holds config.json, meta.json, "
        "metrics.jsonl, learning_curve.png, checkpoints/, model/ and, when training finishes, the test-set "
        "evaluation (vision_eval.json, error_histogram.png, error_model.json).",
        experiment=VisionExperiment,
        presets=vision_presets.PRESETS,
        unit="gradient steps",
        several_processes=False,
        check_inputs=_vision_check,
        train=_vision_train,
        finish=_vision_finish,
        reproduce=reproduce.Kind(
            "vision",
            "vision_eval.json",
            "model/model.msgpack",
            frozenset({"wall_s", "images_per_s", "model"}),
            ("model", "data"),
        ),  # fmt: skip
    ),
    "humanoid": RunKind(
        name="humanoid",
        about="MuJoCo's Humanoid (Gymnasium Humanoid-v4 semantics, in MJX) with PPO or branching DQN. A run "
        "directory holds config.json, meta.json, metrics.jsonl, checkpoints/, policy/ and, when it finishes, "
        "summary.json (peak and last-100 returns, a deterministic evaluation) and reward plots (PNG; for DQN "
        "also interactive 3D HTML).",
        experiment=HumanoidExperiment,
        presets=humanoid_presets.PRESETS,
        unit="updates (PPO) or jitted calls (DQN)",
        several_processes=True,  # PPO; the DQN refuses several (its check_inputs)
        check_inputs=_humanoid_check,
        train=_humanoid_train,
        finish=_humanoid_finish,
        reproduce=None,
    ),
}


def get(name: str) -> RunKind:
    if name not in KINDS:
        raise ValueError(f"unknown run kind {name!r}; choose from {', '.join(KINDS)}")
    return KINDS[name]
