"""Start-up is quiet: importing the stack prints nothing a user has to learn to ignore."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orient_jax import _quiet


@pytest.mark.unit
def test_only_the_known_warp_lines_are_dropped():
    text = "Failed to import warp: No module named 'warp'\nkept\nFailed to import mujoco_warp: x\nalso kept"
    assert _quiet.filter_lines(text) == "kept\nalso kept"


@pytest.mark.integration
def test_importing_mjx_and_brax_prints_nothing(root):
    code = "import orient_jax, mujoco.mjx, brax.envs; from mujoco.mjx import warp; print(warp.WARP_INSTALLED)"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout == "False\n"  # the module ran (no Warp here), and said nothing
    assert "warp" not in out.stderr.lower()
