"""Running the renderer (its own venv) from tests; the fixtures are in conftest.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RENDER_PYTHON = ROOT / ".render-venv" / "bin" / "python"
DETERMINISTIC_FILES = ("plan.json", "manifest.json", "samples.png", "samples_labels.png")


def find_render_python() -> Path:
    probe = "import importlib.metadata as m; print(m.version('bpy'), m.version('numpy'))"
    ok = RENDER_PYTHON.exists() and subprocess.run([RENDER_PYTHON, "-c", probe], capture_output=True).returncode == 0
    if not ok:
        pytest.fail(
            f"the render venv is missing or broken ({RENDER_PYTHON} cannot import bpy): run `make render-setup` "
            "(it creates .render-venv from render/requirements.txt: bpy 5.0.1 with numpy 1.26)",
            pytrace=False,
        )
    return RENDER_PYTHON


def run_render(python: Path, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(python), "-m", "render", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        pytest.fail(f"python -m render {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def render_tiny(python: Path, out: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``python -m render render --preset tiny --out OUT --no-progress ARGS``."""
    return run_render(python, "render", "--preset", "tiny", "--out", str(out), "--no-progress", *args, check=check)
