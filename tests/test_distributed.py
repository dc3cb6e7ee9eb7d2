"""Training across processes (``orient_jax.core.launch``): two local processes on 127.0.0.1
train the rotation ``test`` preset together over Gloo, and their result equals one
process driving two forced host devices with the same seed and global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from orient_jax.core import launch


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(devices: int, cache) -> dict:
    env = dict(os.environ)
    flags = f"--xla_force_host_platform_device_count={devices}" if devices > 1 else ""
    env["XLA_FLAGS"] = launch.with_cpu_flags(flags)
    env["ORIENT_JAX_CACHE"] = str(cache)
    return env


def _train(run_dir, extra, env) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "experiments.train_rotation", "--config", "test", "--run", str(run_dir), "--no-eval",
           *extra]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _params(run_dir):
    from orient_jax.agents.ppo.policy_io import load_policy

    _, params, normalizer, info = load_policy(run_dir / "policy")
    import jax

    return [np.asarray(x) for x in jax.tree.leaves((params, normalizer))], info


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_two_processes_train_together_and_match_one_process_on_two_devices(tmp_path):
    port = _free_port()
    shared = tmp_path / "two-processes"
    unused_cache, cache = tmp_path / "unused-cache", tmp_path / "cache"
    job = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--no-compile-cache"]

    def together(extra):
        procs = [_train(shared, [*job, *extra, "--process-id", str(i)], _env(1, unused_cache)) for i in range(2)]
        outs = [p.communicate(timeout=540) for p in procs]
        for i, (p, (out, err)) in enumerate(zip(procs, outs)):
            assert p.returncode == 0, f"process {i} failed:\n{out}\n{err[-3000:]}"
        return outs

    # Stopped after 2 of 4 updates and resumed: the checkpoint both processes wrote their
    # shards of is restored by both, as Orbax's multi-host rules have it.
    together(["--stop-after", "2"])
    assert json.loads((shared / "policy" / "policy.json").read_text())["update"] == 2
    outs = together([])
    assert "resumed" in outs[0][0] and "resumed" not in outs[1][0]  # process 0 alone reports
    first = "backend: cpu (2 x cpu, 1 local; process 0 of 2); compile cache: off"
    assert outs[0][0].splitlines()[0] == first, outs[0][0]
    assert "process 1 of 2" in outs[1][0].splitlines()[0]
    assert not unused_cache.exists()  # --no-compile-cache

    single = tmp_path / "one-process"
    ref = _train(single, [], _env(2, cache))
    out, err = ref.communicate(timeout=540)
    assert ref.returncode == 0, f"{out}\n{err[-3000:]}"
    assert out.splitlines()[0] == f"backend: cpu (2 x cpu, 2 local); compile cache: {cache}"
    assert any(p.is_file() for p in cache.rglob("*")), "the compile cache is on by default and gets the executables"

    # Process 0 alone wrote the logs: one row per update, not one per process or per part.
    rows = [json.loads(line) for line in (shared / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in rows] == [1, 2, 3, 4]
    meta = json.loads((shared / "meta.json").read_text())
    assert meta["process_count"] == 2 and len(meta["devices"]) == 2 and meta["runtime"]["process_count"] == 2
    assert meta["backend"] == "cpu"

    # The same arithmetic: the same mesh of 2 devices, the same seed and global batch. A
    # reduction over 2 shards adds the same two partial sums either way, so bitwise.
    two, info = _params(shared)
    one, _ = _params(single)
    assert info["update"] == 4
    assert len(two) == len(one)
    for a, b in zip(two, one):
        np.testing.assert_array_equal(a, b)
    ref_rows = [json.loads(line) for line in (single / "metrics.jsonl").read_text().splitlines()]
    for r, s in zip(rows, ref_rows):
        assert r["episode_return"] == s["episode_return"] and r["value_loss"] == s["value_loss"]


@pytest.mark.unit
def test_process_arguments_are_all_or_none_and_checked():
    import argparse

    parser = argparse.ArgumentParser()
    launch.add_arguments(parser)

    def parse(*a):
        return launch.parse_process_args(parser.parse_args(list(a)))

    assert parse() is None
    assert parse("--distributed") == {}
    assert parse("--coordinator", "10.0.0.1:1234", "--num-processes", "2", "--process-id", "1") == {
        "coordinator_address": "10.0.0.1:1234",
        "num_processes": 2,
        "process_id": 1,
    }
    bad = [
        (("--coordinator", "h:1"), "missing --num-processes, --process-id"),
        (("--coordinator", "h", "--num-processes", "2", "--process-id", "0"), "HOST:PORT"),
        (("--coordinator", "h:99999", "--num-processes", "2", "--process-id", "0"), "HOST:PORT"),
        (("--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"), "0..1"),
        (("--coordinator", "h:1", "--num-processes", "0", "--process-id", "0"), ">= 1"),
        (("--distributed", "--coordinator", "h:1", "--num-processes", "2", "--process-id", "0"), "either"),
    ]
    for args, message in bad:
        with pytest.raises(ValueError, match=message.replace(".", r"\.")):
            parse(*args)


@pytest.mark.unit
def test_a_gpu_preset_on_the_cpu_needs_allow_cpu():
    cpu = launch.Runtime("cpu", 1, 1, "cpu", 0, 1, None)
    with pytest.raises(ValueError, match="--allow-cpu"):
        launch.check_backend(cpu, "gpu", {"gpu"}, allow_cpu=False)
    launch.check_backend(cpu, "gpu", {"gpu"}, allow_cpu=True)
    launch.check_backend(cpu, "cpu", {"gpu"}, allow_cpu=False)
    launch.check_backend(launch.Runtime("gpu", 1, 1, "H200", 0, 1, None), "gpu", {"gpu"}, allow_cpu=False)
