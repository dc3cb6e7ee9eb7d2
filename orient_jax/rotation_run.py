"""Library side of the rotation experiment scripts: build, train, evaluate a run."""

from __future__ import annotations

from pathlib import Path

from orient_jax import config as config_lib
from orient_jax import runs
from orient_jax.agents.ppo import loop
from orient_jax.agents.ppo.networks import make_policy
from orient_jax.agents.ppo.policy_io import load_policy
from orient_jax.agents.ppo.train import Trainer, make_trainer
from orient_jax.config import RotationExperiment
from orient_jax.envs.rotation import RotationEnv, RotationEnvConfig
from orient_jax.envs.wrappers import wrap_for_training
from orient_jax.evaluation import evaluate_rotation
from orient_jax.spec import TASK


def build_trainer(exp: RotationExperiment) -> Trainer:
    env = wrap_for_training(RotationEnv(exp.env), TASK.episode_steps)
    return make_trainer(env, exp.ppo)


def run_config_dict(exp: RotationExperiment, preset: str) -> dict:
    return {"preset": preset, "experiment": config_lib.to_dict(exp)}


def load_run_config(run_dir: Path) -> RotationExperiment:
    return runs.read_run_config(run_dir, RotationExperiment, "rotation")[0]


def train_run(
    exp: RotationExperiment, preset: str, run_dir: Path, stop_after: int | None = None, progress: bool = True
):
    cfg = run_config_dict(exp, preset)
    runs.refuse_other_config(run_dir, cfg)
    inputs = {"noise_model": runs.file_record(exp.env.noise_model)} if exp.env.noise_model else {}
    runs.write_metadata(run_dir, cfg, exp.seed, inputs)
    trainer = build_trainer(exp)
    return loop.train(trainer, run_dir, exp.seed, cfg, exp.checkpoint_every, exp.keep_checkpoints, stop_after, progress)


def evaluate_policy_dir(path: Path, env_config: RotationEnvConfig, episodes: int, seed: int) -> dict:
    networks, params, normalizer, info = load_policy(path)
    result = evaluate_rotation(make_policy(networks, params, normalizer), env_config, episodes, seed)
    result["policy"] = str(path)
    result["policy_update"] = info.get("update")
    return result
