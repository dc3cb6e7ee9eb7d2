"""The one shape of every trainer: PPO, branching DQN and the vision CNN.

A trainer is a value, as an algorithm is in rejax: a frozen dataclass whose fields are
its config and its static pieces (the wrapped env, networks or graphdef, optimizer,
device mesh, task spec), never training state. Its work is written as pure methods,

    _init(key) -> State
    _update(state, *batch) -> (State, metrics)

and called through ``init`` and ``update``, which this base compiles from them once per
trainer: the first use jits the bound method and keeps it on the instance, so however
often a trainer is called it compiles once per input shape. A subclass that needs other
jit options, or another compiled method, declares it beside its pure method the same way:

    update = jitted("_update", donate_argnums=0)  # the old state's buffers are reused
    predict = jitted("_predict")

The state is a ``flax.struct`` pytree that the trainer's module defines; checkpoints
(Orbax, ``orient_jax.core.checkpointing``) hold it as it is, so a state class keeps its
fields and their names. The host loop (``orient_jax.core.loop``) runs a trainer through
a ``loop.Program``: ``init`` once, ``update`` for every step.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import jax


class EntryPoint:
    """A trainer's public method, built from its pure one on first use and kept on the
    instance (a frozen dataclass: the instance's ``__dict__``, as ``functools.cached_property``
    does). Made with ``jitted`` or ``eager``."""

    def __init__(self, pure: str, jit: bool, **jit_kwargs: Any):
        self.pure, self.jit, self.jit_kwargs = pure, jit, jit_kwargs
        self.name = pure

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, trainer: Any, owner: type | None = None) -> Any:
        if trainer is None:
            return self
        method = getattr(trainer, self.pure)
        built = jax.jit(method, **self.jit_kwargs) if self.jit else method
        trainer.__dict__[self.name] = built
        return built


def jitted(pure: str, **jit_kwargs: Any) -> EntryPoint:
    """``jax.jit`` of the trainer's method named ``pure``, with ``jit_kwargs``, built once per trainer."""
    return EntryPoint(pure, True, **jit_kwargs)


def eager(pure: str) -> EntryPoint:
    """The trainer's method named ``pure`` as it is: for work that cannot be traced (it reads
    files, or needs a concrete value on the host)."""
    return EntryPoint(pure, False)


@dataclasses.dataclass(frozen=True)
class Trainer(abc.ABC):
    """Base of every trainer; subclasses are frozen dataclasses that define ``_init`` and
    ``_update`` (see the module docstring)."""

    init = jitted("_init")
    update = jitted("_update")

    @abc.abstractmethod
    def _init(self, key: jax.Array) -> Any:
        """A fresh training state from ``key``."""

    @abc.abstractmethod
    def _update(self, state: Any, *batch: Any) -> tuple[Any, Any]:
        """One step of training: the next state, and what the step measured."""
