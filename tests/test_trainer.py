"""Every trainer has the one shape of ``orient_jax.core.trainer``: a frozen dataclass of
config and static pieces, pure ``_init``/``_update``, and the compiled ``init``/``update``
the base builds from them."""

from __future__ import annotations

import dataclasses
import inspect

import jax
import jax.numpy as jnp
import optax
import pytest

from orient_jax import profiles
from orient_jax.agents.dqn.config import DQNConfig
from orient_jax.agents.dqn.networks import make_q_network
from orient_jax.agents.dqn.train import DQNTrainer
from orient_jax.agents.dqn.train import make_trainer as make_dqn_trainer
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.agents.ppo.train import PPOTrainer
from orient_jax.agents.ppo.train import make_trainer as make_ppo_trainer
from orient_jax.core.trainer import EntryPoint, Trainer
from orient_jax.envs.probe import TargetProbeEnv
from orient_jax.envs.wrappers import wrap_for_training
from orient_jax.vision.config import VisionExperiment
from orient_jax.vision.train import VisionTrainer

pytestmark = pytest.mark.unit

TRAINERS = (PPOTrainer, DQNTrainer, VisionTrainer)


@pytest.mark.parametrize("cls", TRAINERS, ids=lambda c: c.__name__)
def test_every_trainer_is_a_frozen_dataclass_of_the_base_with_its_interface(cls):
    assert issubclass(cls, Trainer)
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    fields = dataclasses.fields(cls)
    for name in ("init", "update"):
        # Built by the base from the pure method, not a closure handed in as a field.
        assert name not in {f.name for f in fields}, f"{cls.__name__}.{name} is a field"
        assert isinstance(inspect.getattr_static(cls, name), EntryPoint), f"{cls.__name__}.{name}"
    assert "_init" in vars(cls) and "_update" in vars(cls)  # the pure methods are the trainer's own
    # Fields are config and static pieces: no function among them.
    assert not [f.name for f in fields if "Callable" in str(f.type)]


def tiny_trainers() -> dict[str, Trainer]:
    ppo = PPOConfig(num_envs=4, rollout_length=2, num_minibatches=2, update_epochs=1, hidden_sizes=(8,),
                    total_env_steps=8)  # fmt: skip
    dqn = DQNConfig(hidden_sizes=(8,), bins=3)
    return {
        "ppo": make_ppo_trainer(wrap_for_training(TargetProbeEnv(), episode_length=1), ppo),
        "dqn": make_dqn_trainer(None, dqn, make_q_network(4, 2, dqn.hidden_sizes, dqn.bins, -1.0, 1.0), 10),
        # Fields only (make_trainer builds the CNN eagerly: tens of seconds here); nothing is traced.
        "vision": VisionTrainer(VisionExperiment(), profiles.get("cube"), graphdef=None, optimizer=optax.identity()),
    }


def test_every_trainer_compiles_its_update_once_per_trainer():
    """``update`` is jitted, built on first use and kept: the same function every time,
    and another trainer has its own."""
    trainers = tiny_trainers()
    for name, trainer in trainers.items():
        assert trainer.update is trainer.update, name
        assert hasattr(trainer.update, "lower"), f"{name}: update is not jitted"
    ppo = trainers["ppo"]
    assert hasattr(ppo.init, "lower") and hasattr(trainers["dqn"].init, "lower")
    other = dataclasses.replace(ppo)
    assert other.update is not ppo.update
    vision = trainers["vision"]
    assert hasattr(vision.predict, "lower")
    assert inspect.getattr_static(VisionTrainer, "update").jit_kwargs == {"donate_argnums": 0}
    # Building the CNN reads a concrete seed on the host (and maybe a model file): init stays eager.
    assert not hasattr(vision.init, "lower")


def test_the_base_runs_a_toy_trainer_and_refuses_one_without_its_pure_methods():
    @dataclasses.dataclass(frozen=True)
    class Counter(Trainer):
        step_size: float

        def _init(self, key):
            return jnp.zeros(())

        def _update(self, state):
            return state + self.step_size, {"before": state}

    counter = Counter(2.0)
    state = counter.init(jax.random.PRNGKey(0))
    for _ in range(3):
        state, metrics = counter.update(state)
    assert float(state) == 6.0 and float(metrics["before"]) == 4.0
    assert counter.update._cache_size() == 1

    @dataclasses.dataclass(frozen=True)
    class NoUpdate(Trainer):
        def _init(self, key):
            return jnp.zeros(())

    with pytest.raises(TypeError, match="abstract"):
        NoUpdate()
