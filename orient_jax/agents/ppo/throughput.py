"""How fast a ``PPOTrainer`` trains: compile time apart from steady-state updates.
Used by the rotation and Humanoid benchmarks."""

from __future__ import annotations

import time

import jax

from orient_jax.agents.ppo.train import PPOTrainer


def timed_updates(trainer: PPOTrainer, updates: int, seed: int = 0) -> tuple[float, float]:
    """(seconds to init and run the first update, compile included; seconds of the next
    ``updates`` updates). Env steps/s is ``updates * batch_size`` over the second."""
    t0 = time.perf_counter()
    state = trainer.init(jax.random.PRNGKey(seed))
    state, _ = trainer.update(state)
    jax.block_until_ready(state.params)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(updates):
        state, _ = trainer.update(state)
    jax.block_until_ready(state.params)
    return compile_s, time.perf_counter() - t0
