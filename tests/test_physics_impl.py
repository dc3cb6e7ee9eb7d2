"""The physics implementation choice (``env.impl``: MJX's JAX code or MuJoCo Warp) at the
command line: a machine without warp-lang gets one ``error:`` line before anything is
written, and ``experiments.physics_impl`` measures both on the CPU.

The Warp physics itself is checked against Gymnasium in tests/test_humanoid.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def _without_warp(tmp_path) -> dict:
    """An environment in which ``import warp`` fails, as on a machine without warp-lang."""
    shadow = tmp_path / "shadow"
    (shadow / "warp").mkdir(parents=True)
    (shadow / "warp" / "__init__.py").write_text("raise ImportError('warp-lang is hidden by the test')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shadow), env.get("PYTHONPATH", "")]))
    return env


@pytest.mark.integration
@pytest.mark.parametrize(
    "command",
    [
        ["experiments.train", "humanoid", "--config", "cpu", "env.impl=warp"],
        ["experiments.physics_impl", "--impl", "warp", "--batches", "2"],
    ],
)
def test_warp_without_warp_lang_is_one_error_line(root, tmp_path, command):
    runs_root = tmp_path / "runs"
    extra = ["--runs-root", str(runs_root)] if command[0] == "experiments.train" else ["--out", str(runs_root / "x")]
    out = subprocess.run(
        [sys.executable, "-m", *command, *extra],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env=_without_warp(tmp_path),
    )
    assert out.returncode == 2, out.stderr
    lines = [line for line in out.stderr.strip().splitlines() if not line.startswith("Failed to import")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "warp-lang" in lines[0], out.stderr
    assert not runs_root.exists()


@pytest.mark.unit
def test_a_bad_impl_or_physics_is_refused(root):
    for args, message in ((["--impl", "cuda"], "invalid choice"), (["--physics", "pgs"], "--physics must be among")):
        out = subprocess.run(
            [sys.executable, "-m", "experiments.physics_impl", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 2 and message in out.stderr, out.stderr


@pytest.mark.slow
def test_physics_impl_measures_both_and_writes_as_it_goes(root, tmp_path):
    out_file = tmp_path / "physics.jsonl"
    commands = (  # rates on the quickest model; parity on Gymnasium's, whose solver converges
        ["--impl", "warp", "jax", "--physics", "lean", "--batches", "2", "--steps", "4", "--native-batch", "4"],
        ["--impl", "warp", "--physics", "gymnasium", "--batches", "--parity-steps", "20"],
    )
    for args in commands:
        out = subprocess.run(
            [sys.executable, "-m", "experiments.physics_impl", *args, "--out", str(out_file)],
            cwd=root, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]  # appended, never rewritten
    assert [r["kind"] for r in rows] == ["host", "physics", "physics", "native", "host", "parity"]
    for r in rows[1:3]:
        assert r["physics_steps_per_s"] > 0 and r["finite"], r
    assert {r["impl"] for r in rows[1:3]} == {"jax", "warp"}
    assert rows[3]["physics_steps_per_s"] > 0
    gaps = rows[5]["warp"]  # float32 against float64 on the same model: close after 20 steps
    assert 0 <= gaps["10"] < 1e-4, gaps
