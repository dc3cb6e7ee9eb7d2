"""Library side of the rotation experiment scripts: build, train, evaluate a run."""

from __future__ import annotations

from pathlib import Path

from orient_jax import profiles
from orient_jax.agents.ppo import memory
from orient_jax.agents.ppo.networks import make_policy
from orient_jax.agents.ppo.policy_io import load_policy
from orient_jax.agents.ppo.program import PPOProgram
from orient_jax.agents.ppo.train import PPOTrainer, TrainState, make_trainer
from orient_jax.core import loop, runs
from orient_jax.core import seeds as seeds_lib
from orient_jax.envs.wrappers import wrap_for_training
from orient_jax.profiles.spec import TaskSpec
from orient_jax.tasks.rotation.config import RotationExperiment
from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig
from orient_jax.tasks.rotation.evaluation import evaluate_rotation

# The env's latched success flag, reported as the fraction of episodes ending upright.
EPISODE_METRICS = {"success": "success_rate"}


def build_trainer(exp: RotationExperiment) -> PPOTrainer:
    spec = exp.spec
    env = wrap_for_training(RotationEnv(spec, exp.env), spec.episode_steps)
    return make_trainer(env, exp.ppo, episode_metrics=EPISODE_METRICS)


def check_inputs(exp: RotationExperiment) -> None:
    """Read what the run will read (its noise model; the runtime's mesh for a profile that
    uses one) by building its env, and check that its envs can fit on the device: a bad
    file or an impossible ``ppo.num_envs`` raises here, before a run directory exists."""
    memory.check_fits(RotationEnv(exp.spec, exp.env), exp.ppo, copies=exp.seeds)


def load_run_config(run_dir: Path) -> RotationExperiment:
    return runs.read_run_config(run_dir, RotationExperiment, "rotation")[0]


def train_run(
    exp: RotationExperiment, preset: str, run_dir: Path, stop_after: int | None = None, progress: bool = True
) -> TrainState:
    trainer = build_trainer(exp)  # reads the inputs (noise model, mesh) first: a bad one raises before any write
    inputs = {"noise_model": runs.file_record(exp.env.noise_model)} if exp.env.noise_model else {}
    config = runs.prepare_run(run_dir, exp, preset, inputs)
    program = PPOProgram(
        trainer, exp.seed, run_dir, policy_meta={"task": exp.task}, stop=stop_rule(exp), seeds=exp.seeds
    )
    state, _ = loop.run(program, run_dir, config, exp.checkpoint_every, exp.keep_checkpoints, stop_after, progress)
    return state


def stop_rule(exp: RotationExperiment) -> loop.HeldAtLeast | None:
    """The run's early stop: training success held at ``stop_success`` (None: every step)."""
    return loop.HeldAtLeast("success_rate", exp.stop_success, exp.stop_updates) if exp.stop_success > 0 else None


def stopped_early(exp: RotationExperiment, run_dir: Path) -> bool:
    """Whether the run ended on its early stop (then it is finished, short of its total)."""
    rule = stop_rule(exp)
    return rule is not None and rule(runs.MetricsLog(Path(run_dir) / "metrics.jsonl").read()) is not None


def evaluate_run(run_dir: Path, exp: RotationExperiment) -> dict:
    """The final deterministic evaluation of a run's policy; with several seeds, of each
    seed's policy (``per_seed``, each with its ``training_seed``), the first seed's figures at
    the top level. Every policy meets the same evaluation episodes."""
    seed = exp.seed + 1_000_003  # episodes no training run draws
    if exp.seeds == 1:
        return evaluate_policy_dir(run_dir, exp.spec, exp.env, exp.eval_episodes, seed=seed)
    per_seed = [
        {
            "training_seed": s,
            **evaluate_policy_dir(run_dir / "policies" / f"seed-{s}", exp.spec, exp.env, exp.eval_episodes, seed),
        }
        for s in seeds_lib.seed_values(exp.seed, exp.seeds)
    ]
    return {**per_seed[0], "seeds": exp.seeds, "per_seed": per_seed}


def policy_profile(path: Path) -> TaskSpec:
    """The task profile a policy folder (or run directory) was trained for, from its policy.json."""
    task = load_policy(path)[3].get("task")
    if task is None:
        raise ValueError(f"the policy at {path} does not say which task profile it was trained for (no 'task')")
    return profiles.get(task)


def load_rotation_policy(path: Path, spec: TaskSpec):
    """A policy folder's (or run directory's) policy, refused unless it was trained for ``spec``.
    Returns (networks, params, normalizer, info) as ``policy_io.load_policy``."""
    networks, params, normalizer, info = load_policy(path)
    task = info.get("task")
    if task != spec.name:
        trained = f"task profile {task!r}" if task else "an unnamed task profile (its policy.json has no 'task')"
        raise ValueError(f"the policy at {path} was trained for {trained}, not {spec.name!r}")
    return networks, params, normalizer, info


def evaluate_policy_dir(path: Path, spec: TaskSpec, env_config: RotationEnvConfig, episodes: int, seed: int) -> dict:
    networks, params, normalizer, info = load_rotation_policy(path, spec)
    result = evaluate_rotation(make_policy(networks, params, normalizer), spec, env_config, episodes, seed)
    result["policy"] = str(path)
    result["policy_update"] = info.get("update")
    return result
