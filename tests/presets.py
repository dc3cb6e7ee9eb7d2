"""What the tests add to the product's registries: presets sized to run in seconds.

``ORIENT_JAX_PRESET_MODULES=tests.presets`` (set by conftest for the whole session, so
the commands the tests start see it too) imports this module before a preset table's
first lookup (``experiments.configs``); nothing here appears in a user's ``--config`` list.
"""

from __future__ import annotations

import dataclasses

from experiments.configs import humanoid, rotation, vision
from orient_jax.agents.dqn.config import DQNConfig
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.tasks.humanoid.config import HumanoidExperiment
from orient_jax.tasks.rotation.config import RotationExperiment
from orient_jax.vision.config import VisionExperiment
from orient_jax.vision.model import ModelConfig

# A handful of tiny PPO updates of the re-orientation task.
rotation.PRESETS.register(
    "test",
    lambda: RotationExperiment(
        ppo=PPOConfig(
            num_envs=16, rollout_length=8, num_minibatches=2, update_epochs=2, hidden_sizes=(32, 32),
            total_env_steps=16 * 8 * 4,
        ),
        checkpoint_every=2,
        eval_episodes=16,
    ),
)  # fmt: skip

# The tiny render set (data/tiny), a small network.
vision.PRESETS.register(
    "test",
    lambda: VisionExperiment(
        data="data/tiny",
        val_count=8,
        test_data="data/tiny",
        model=ModelConfig(widths=(8, 8, 16, 16), blocks=(0, 0, 0, 1), hidden=32),
        batch_size=8,
        epochs=2,
        warmup_steps=0,
        log_every=1,
        eval_batch=8,
    ),
)

# The Humanoid with both agents, 10-step episodes. dqn_test makes every choice seed003
# adds to the published recipe, so the tiny run and its ONNX export exercise each of them.
humanoid.PRESETS.register(
    "dqn_test",
    lambda: HumanoidExperiment(
        algo="dqn",
        env=humanoid.FAST,
        episode_steps=10,
        dqn=DQNConfig(
            hidden_sizes=(32, 32), bins=3, buffer_size=256, batch_size=16, learning_starts=16, episodes=6,
            num_envs=2, steps_per_call=8, **humanoid.DQN_CHOICES,
        ),
        checkpoint_every=1,
        eval_episodes=4,
    ),
)  # fmt: skip
# The walking DQN's shape (native MuJoCo on the host, a pipelined learner), in seconds.
humanoid.PRESETS.register(
    "dqn_native_test",
    lambda: dataclasses.replace(
        humanoid.PRESETS.get("dqn_native"),
        episode_steps=40,
        dqn=dataclasses.replace(
            humanoid.PRESETS.get("dqn_native").dqn,
            hidden_sizes=(32, 32), bins=3, buffer_size=512, batch_size=16, learning_starts=64, num_envs=4,
            steps_per_call=8, updates_per_step=2, total_env_steps=4 * 8 * 6, validate_every=64,
            validate_episodes=2,
        ),
        checkpoint_every=2,
        eval_episodes=2,
    ),
)  # fmt: skip
humanoid.PRESETS.register(
    "ppo_test",
    lambda: HumanoidExperiment(
        algo="ppo",
        env=humanoid.FAST,
        episode_steps=10,
        ppo=PPOConfig(
            num_envs=8, rollout_length=8, num_minibatches=2, update_epochs=1, hidden_sizes=(32, 32),
            total_env_steps=8 * 8 * 2,
        ),
        checkpoint_every=1,
        eval_episodes=4,
    ),
)  # fmt: skip

# `make original`'s pipeline (experiments/original.py) at test size: the original profile
# (the tests' stand-in mesh), a tiny CNN from scratch and a few tiny PPO updates.
vision.PRESETS.register(
    "original_test",
    lambda: dataclasses.replace(vision.PRESETS.get("test"), task="original", init_from=""),
)
rotation.PRESETS.register(
    "original_test",
    lambda: dataclasses.replace(rotation.PRESETS.get("test"), task="original", eval_episodes=8),
)
