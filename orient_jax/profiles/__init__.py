"""Task profiles: the re-orientation task contract as named, frozen values.

    from orient_jax import profiles
    spec = profiles.get("cube")        # a TaskSpec (orient_jax.profiles.spec)

A profile of this package is one module that defines ``PROFILE`` plus an entry in
``PROFILES``.

A profile from outside the package (a researcher's own, or a test fixture) is a module
that defines ``PROFILE``, a ``TaskSpec`` whose ``name`` is new, named in the environment
variable ``ORIENT_JAX_PROFILE_MODULES`` (comma-separated module names, importable from
the working directory)::

    ORIENT_JAX_PROFILE_MODULES=my_profiles.big_box python -m orient_jax.profiles --list

The registry imports those modules on its first lookup (``names``, ``get``), in this
process and in every command it starts, since they inherit the variable: the renderer,
the exporter and the training scripts all see the profile. A module that cannot be
imported, has no ``PROFILE``, whose ``PROFILE`` is not a ``TaskSpec`` or reuses a name
raises ValueError naming it. The tests register their ``test_box`` so
(``tests/profile_test_box.py``, from ``tests/conftest.py``).

Standard library only, like ``spec``: the render venv imports this package, and the
modules it names (so a profile module should build its ``TaskSpec`` with the standard
library alone, from ``orient_jax.profiles`` and ``orient_jax.profiles.spec``).
"""

from __future__ import annotations

import os

from orient_jax import extensions
from orient_jax.profiles import cube, original
from orient_jax.profiles.spec import TaskSpec

MODULES_ENV = "ORIENT_JAX_PROFILE_MODULES"

PROFILES: dict[str, TaskSpec] = {
    "cube": cube.PROFILE,  # our own task and web/ app
    "original": original.PROFILE,  # the original, unchanged runtime (sagerkudrick/main-prediction-RL)
}

_extra: dict[str, dict[str, TaskSpec]] = {}  # the variable's value -> the profiles its modules define


def _load(module_name: str) -> TaskSpec:
    where = f"{MODULES_ENV} names {module_name!r}"
    module = extensions.load(MODULES_ENV, module_name)
    if not hasattr(module, "PROFILE"):
        raise ValueError(f"{where}, which defines no PROFILE (a TaskSpec)")
    if not isinstance(module.PROFILE, TaskSpec):
        raise ValueError(f"{where}, whose PROFILE is a {type(module.PROFILE).__name__}, not a TaskSpec")
    return module.PROFILE


def _registry() -> dict[str, TaskSpec]:
    """The package's profiles and those of the modules the variable names (imported once per value)."""
    value = os.environ.get(MODULES_ENV, "")
    if value not in _extra:
        # Entered first: a module that looks a profile up while it is imported sees those loaded so far.
        _extra[value] = extra = {}
        try:
            for module_name in extensions.module_names(MODULES_ENV):
                profile = _load(module_name)
                if profile.name in PROFILES or profile.name in extra:
                    raise ValueError(f"{MODULES_ENV} names {module_name!r}, whose profile {profile.name!r} is taken")
                extra[profile.name] = profile
        except BaseException:
            del _extra[value]
            raise
    return {**PROFILES, **_extra[value]}


def names() -> list[str]:
    return sorted(_registry())


def get(name: str) -> TaskSpec:
    """The profile called ``name``; an unknown name says which exist."""
    registry = _registry()
    try:
        return registry[name]
    except KeyError:
        raise ValueError(f"unknown task profile {name!r}; choose one of {', '.join(sorted(registry))}") from None
