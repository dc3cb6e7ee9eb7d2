"""Start-up is quiet: an entry point importing the stack prints nothing a user has to learn
to ignore; and importing the library alone changes nothing about the process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from orient_jax import _quiet
from orient_jax.core import launch


@pytest.mark.unit
def test_only_the_known_warp_lines_are_dropped():
    text = "Failed to import warp: No module named 'warp'\nkept\nFailed to import mujoco_warp: x\nalso kept"
    assert _quiet.filter_lines(text) == "kept\nalso kept"


@pytest.mark.integration
def test_importing_mjx_and_brax_prints_nothing(root):
    code = "import experiments, mujoco.mjx, brax.envs; from mujoco.mjx import warp; print(warp.WARP_INSTALLED)"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout == "True\n"  # warp-lang is a requirement: MJX found it, and said nothing
    assert out.stderr == ""


@pytest.mark.integration
def test_importing_the_library_sets_nothing_process_wide(root):
    """``import orient_jax`` (and its modules) leaves XLA_FLAGS and the import system as they
    were; importing the ``experiments`` entry package then makes the settings."""
    code = (
        "import os, sys; before = (os.environ.get('XLA_FLAGS'), list(sys.meta_path)); "
        "import orient_jax, orient_jax.paths, orient_jax.profiles, orient_jax.core.launch; "
        "assert (os.environ.get('XLA_FLAGS'), list(sys.meta_path)) == before, 'the library changed the process'; "
        "import experiments; print(os.environ['XLA_FLAGS']); print(type(sys.meta_path[0]).__name__)"
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == [" ".join(launch.CPU_XLA_FLAGS), "_QuietFinder"]
