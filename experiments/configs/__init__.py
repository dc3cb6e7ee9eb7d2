"""Named config presets, one table per run kind, all of one type.

    from experiments.configs.rotation import PRESETS
    exp = PRESETS.get("cpu")                 # a fresh RotationExperiment
    PRESETS.names(), PRESETS.gpu

A preset is a function that returns a fresh experiment config; ``--config NAME`` picks
one and ``section.key=value`` arguments override its fields. Presets sized for an
accelerator are marked ``gpu``: the train command refuses them on the CPU without
``--allow-cpu``.

Presets from outside the package (a researcher's own, or the tests') live in modules
that register them when imported (``rotation.PRESETS.register("mine", make)``), named in
the environment variable ``ORIENT_JAX_PRESET_MODULES`` (comma-separated module names,
importable from the working directory)::

    ORIENT_JAX_PRESET_MODULES=my_presets python -m experiments.train rotation --config mine

Every table imports them before its first lookup, in this process and in every command
it starts, which inherit the variable. A module that cannot be imported is one
ValueError naming it. The tests register theirs so (``tests/presets.py``), and no test
preset sits in a product table. (Task profiles have the same door:
``ORIENT_JAX_PROFILE_MODULES``, in ``orient_jax.profiles``.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from orient_jax import extensions

MODULES_ENV = "ORIENT_JAX_PRESET_MODULES"
_imported: set[str] = set()


def load_modules() -> None:
    """Import every module ``$ORIENT_JAX_PRESET_MODULES`` names, each once."""
    for name in extensions.module_names(MODULES_ENV):
        if name in _imported:
            continue
        _imported.add(name)  # first: a module that reads a table while it registers does not loop
        try:
            extensions.load(MODULES_ENV, name)
        except ValueError:
            _imported.discard(name)
            raise


class Presets:
    """One run kind's presets: name -> a function returning a fresh experiment config."""

    def __init__(self, kind: str, table: dict[str, Callable[[], Any]], gpu: Iterable[str] = ()):
        self.kind = kind
        self._table = dict(table)
        self._gpu = set(gpu)
        if unknown := self._gpu - set(self._table):
            raise ValueError(f"{kind} presets marked gpu but not defined: {sorted(unknown)}")

    def register(self, name: str, make: Callable[[], Any], gpu: bool = False) -> None:
        """Add a preset (a plugin's, or a test's); a name already taken is refused."""
        if name in self._table:
            raise ValueError(f"a {self.kind} preset named {name!r} exists already")
        self._table[name] = make
        if gpu:
            self._gpu.add(name)

    def names(self) -> list[str]:
        load_modules()
        return sorted(self._table)

    def get(self, name: str) -> Any:
        """A fresh config of preset ``name``; an unknown name says which exist."""
        names = self.names()
        if name not in self._table:
            raise ValueError(f"unknown {self.kind} preset {name!r}; choose from {', '.join(names)}")
        return self._table[name]()

    @property
    def gpu(self) -> frozenset[str]:
        """The presets sized for an accelerator."""
        return frozenset(self._gpu)
