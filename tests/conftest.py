"""Shared fixtures, and the test tiers.

Every test carries exactly one tier marker (unit, integration, slow, e2e; see
pyproject.toml): a test without one, or with two, fails collection. Jitted functions
are built once per session: each costs seconds to compile. Heavy imports (MJX, Brax)
happen inside the fixtures that need them, so the unit tier starts fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The test presets are registered from tests/presets.py, in this process and in every
# command a test starts (experiments.configs).
os.environ["ORIENT_JAX_PRESET_MODULES"] = ",".join(
    dict.fromkeys([*filter(None, os.environ.get("ORIENT_JAX_PRESET_MODULES", "").split(",")), "tests.presets"])
)
# The tests are an entry point like experiments/: they make the process-wide settings
# (XLA's CPU flag, quiet start-up) before anything imports JAX.
from orient_jax.core import launch  # noqa: E402

launch.configure_process()
# The train scripts turn JAX's persistent compile cache on (orient_jax.core.launch): in the
# tests it lives in a folder of this session, never in the user's cache.
if "ORIENT_JAX_CACHE" not in os.environ:
    import tempfile

    os.environ["ORIENT_JAX_CACHE"] = tempfile.mkdtemp(prefix="orient-jax-test-cache-")
# The test-only task profile test_box (tests/profile_test_box.py), registered in this process
# and in every command a test starts: the renderer, python -m orient_jax.profiles.
_profile_modules = filter(None, os.environ.get("ORIENT_JAX_PROFILE_MODULES", "").split(","))
os.environ["ORIENT_JAX_PROFILE_MODULES"] = ",".join(dict.fromkeys([*_profile_modules, "tests.profile_test_box"]))

from tests.render_helpers import find_render_python, render_tiny  # noqa: E402

TIERS = ("unit", "integration", "slow", "e2e")


def pytest_collection_modifyitems(config, items):
    wrong = []
    for item in items:
        tiers = [m.name for m in item.iter_markers() if m.name in TIERS]
        if len(tiers) != 1:
            wrong.append(f"{item.nodeid}: {tiers or 'no tier'}")
    if wrong:
        raise pytest.UsageError("every test needs exactly one tier marker (" + ", ".join(TIERS) + "):\n  "
                                + "\n  ".join(wrong))  # fmt: skip


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def _env_fns(config):
    import jax

    from orient_jax import profiles
    from orient_jax.tasks.rotation.env import RotationEnv

    env = RotationEnv(profiles.get("cube"), config)
    return env, jax.jit(jax.vmap(env.reset)), jax.jit(jax.vmap(env.step))


@pytest.fixture(scope="session")
def env_fns():
    """A quiet env (no noise, disturbances or randomization) with jitted batched reset/step."""
    from orient_jax.tasks.rotation.env import RotationEnvConfig

    return _env_fns(RotationEnvConfig(noise_deg=0.0, disturbances=False, domain_randomization=False))


@pytest.fixture(scope="session")
def noisy_env_fns():
    from orient_jax.tasks.rotation.env import RotationEnvConfig

    return _env_fns(RotationEnvConfig(noise_deg=5.0))


@pytest.fixture(scope="session")
def render_python() -> Path:
    """The render venv's python; fails (does not skip) without it: the dataset is part of the product."""
    return find_render_python()


@pytest.fixture(scope="session")
def tiny_dataset(render_python, tmp_path_factory) -> Path:
    """The tiny preset (32 real Blender renders), rendered once per session by two workers."""
    out = tmp_path_factory.mktemp("render") / "tiny"
    render_tiny(render_python, out, "--workers", "2")
    return out
