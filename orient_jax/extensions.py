"""Modules from outside the package, named in an environment variable.

A registry that others may extend (task profiles: ``ORIENT_JAX_PROFILE_MODULES``; presets:
``ORIENT_JAX_PRESET_MODULES``) reads the variable's comma-separated module names here and
imports them through ``load``, which turns a module that cannot be imported into one
ValueError naming the variable and the module. Commands started from a process inherit
the variable, so they see the same extensions. Standard library only: the render venv
reads the profile registry too.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def module_names(env: str) -> list[str]:
    """The module names ``$env`` lists (comma-separated; blanks ignored)."""
    return [n.strip() for n in os.environ.get(env, "").split(",") if n.strip()]


def load(env: str, name: str) -> ModuleType:
    """Import module ``name`` that ``$env`` names; ValueError naming both when it cannot be."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise ValueError(f"{env} names {name!r}, which cannot be imported ({e})") from None
