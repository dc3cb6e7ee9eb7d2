"""Shared fixtures. Jitted functions are built once per session: each costs seconds to compile."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import jax  # noqa: E402

from orient_jax.envs.rotation import RotationEnv, RotationEnvConfig  # noqa: E402
from tests.render_helpers import find_render_python, render_tiny  # noqa: E402


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def env_fns():
    """A quiet env (no noise, disturbances or randomization) with jitted batched reset/step."""
    env = RotationEnv(RotationEnvConfig(noise_deg=0.0, disturbances=False, domain_randomization=False))
    return env, jax.jit(jax.vmap(env.reset)), jax.jit(jax.vmap(env.step))


@pytest.fixture(scope="session")
def noisy_env_fns():
    env = RotationEnv(RotationEnvConfig(noise_deg=5.0))
    return env, jax.jit(jax.vmap(env.reset)), jax.jit(jax.vmap(env.step))


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
