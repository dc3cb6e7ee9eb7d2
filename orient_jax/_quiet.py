"""Start-up without noise a user has to learn to ignore.

``mujoco.mjx.warp`` prints "Failed to import warp: ..." and "Failed to import
mujoco_warp: ..." to stdout whenever the optional NVIDIA Warp backend is absent, which
it is here by design (MJX's JAX backend is the one we use). Those lines would break
every ``--json`` stdout. ``install()`` puts a finder on ``sys.meta_path`` that runs that
one module with its stdout captured and drops exactly those lines; anything else it
prints is passed on. Standard library only: the render venv imports this package too.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import io
import sys

NOISY_MODULE = "mujoco.mjx.warp"
DROPPED_PREFIXES = ("Failed to import warp:", "Failed to import mujoco_warp:")


def filter_lines(text: str) -> str:
    """``text`` without the known warp lines."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(DROPPED_PREFIXES))


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module) -> None:
        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(captured):
                self.inner.exec_module(module)
        finally:
            sys.stdout.write(filter_lines(captured.getvalue()))


class _QuietFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != NOISY_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Idempotent: one finder, first on ``sys.meta_path``."""
    if not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
