"""Re-orientation presets. Pick one with ``--config NAME``; override fields with
``section.key=value`` arguments."""

from __future__ import annotations

from experiments.configs import Presets
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.tasks.rotation.config import RotationExperiment

PRESETS = Presets(
    "rotation",
    {
        # Fits the 2-core CPU machine: ~14k env steps/s, about 13 minutes.
        "cpu": lambda: RotationExperiment(
            ppo=PPOConfig(
                num_envs=1024, rollout_length=32, num_minibatches=8, update_epochs=4, total_env_steps=10_000_000
            ),
            checkpoint_every=25,
        ),
        # `make demo` (experiments/demo.py): the cpu preset's batch, half its steps (the cpu run
        # passed 95 % training success at 4.5M, docs/results.md). The demo adds
        # env.noise_model=runs/demo/noise/error_model.json, its CNN's measured error; under it
        # the deterministic evaluation was 1.000 over 1,024 episodes (~10 min, shared machine).
        "demo": lambda: RotationExperiment(
            ppo=PPOConfig(
                num_envs=1024, rollout_length=32, num_minibatches=8, update_epochs=4, total_env_steps=5_000_000
            ),
            checkpoint_every=25,
        ),
        # `make original` (experiments/original.py) on the 2-core CPU: the original runtime's
        # motor and page (task=original; the pipeline adds env.runtime_dir and the CNN's
        # env.noise_model), the cpu preset's batch, stopped once 95 % of training episodes
        # end upright in 10 updates in a row (at most 10M env steps).
        "original_cpu": lambda: RotationExperiment(
            task="original",
            ppo=PPOConfig(
                num_envs=1024, rollout_length=32, num_minibatches=8, update_epochs=4, total_env_steps=10_000_000
            ),
            checkpoint_every=10,
            stop_success=0.95,
            stop_updates=10,
        ),
        # Thousands of envs for one GPU (or several: envs are sharded over devices).
        "gpu": lambda: RotationExperiment(
            ppo=PPOConfig(
                num_envs=8192,
                rollout_length=32,
                num_minibatches=16,
                update_epochs=4,
                hidden_sizes=(256, 256),
                total_env_steps=100_000_000,
            ),
            checkpoint_every=50,
        ),
    },
    gpu={"gpu"},  # the train command refuses it on the CPU without --allow-cpu
)
