"""Many seeds in one program: a trainer's state stacked over seeds, its steps vmapped.

Training is a pure function of (config, key) (``orient_jax.core.trainer``), so ``jax.vmap``
over keys trains several seeds at once, compiled once: ``SeedBatch(trainer)`` is itself a
trainer whose ``init`` takes a stack of keys [S] and whose ``update`` advances every seed's
state by one step. Seed ``i`` follows exactly the computation a single run with key ``i``
follows (up to the order of floating-point reductions that vmapping may change).

The seeds of a run are ``seed, seed + 1, ..., seed + n - 1`` (``seed_values``); their keys
are ``jax.random.PRNGKey`` of each, as a single run's key is.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from orient_jax.core.trainer import Trainer


def seed_values(seed: int, n: int) -> list[int]:
    """The seeds of an ``n``-seed run that starts from ``seed``."""
    if n < 1:
        raise ValueError(f"seeds must be at least 1, got {n}")
    return [seed + i for i in range(n)]


def seed_keys(seeds: list[int]) -> jax.Array:
    """One PRNG key per seed, stacked [S, 2], each the key a single run with that seed starts from."""
    return jnp.stack([jax.random.PRNGKey(s) for s in seeds])


def index(tree: Any, i: int) -> Any:
    """Seed ``i``'s slice of a stacked pytree (its state, its metrics)."""
    return jax.tree.map(lambda x: x[i], tree)


@dataclasses.dataclass(frozen=True)
class SeedBatch(Trainer):
    """``inner`` trained on every seed at once; every other attribute is ``inner``'s."""

    inner: Trainer

    def _init(self, keys: jax.Array) -> Any:
        return jax.vmap(self.inner._init)(keys)

    def _update(self, state: Any, *batch: Any) -> tuple[Any, Any]:
        return jax.vmap(self.inner._update)(state, *batch)

    def __getattr__(self, name: str) -> Any:  # config, networks, episode_metrics, ...
        if name == "inner":  # not yet set (copying, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)


def batch_of(trainer: Trainer) -> SeedBatch:
    """The ``SeedBatch`` of ``trainer``, made once and kept on it (as its jitted methods are),
    so every program built on one trainer shares one compiled update."""
    return trainer.__dict__.setdefault("_seed_batch", SeedBatch(trainer))
