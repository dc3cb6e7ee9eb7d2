"""One writer per run directory: a second process on the same --run stops at once, naming
the PID that holds it; the lock goes with its holder, SIGKILL included."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from experiments import train_rotation
from orient_jax.core import runs

pytestmark = pytest.mark.integration

HOLD = "import sys; from orient_jax.core import runs; runs.lock_run(sys.argv[1]); print('held', flush=True); input()"


def test_a_second_process_on_the_same_run_stops_and_a_killed_holder_frees_it(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        assert train_rotation.main(["--config", "test", "--run", str(run_dir)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            f"error: {run_dir} is in use by process {holder.pid} (a run writing to it now); wait for it to "
            "finish or stop it, or give another --run"
        ]
        assert sorted(p.name for p in run_dir.iterdir()) == [runs.LOCK_FILE]  # nothing written
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
    runs.lock_run(run_dir)  # the OS dropped the killed holder's lock
    runs.lock_run(run_dir)  # and this process may take it again (a resume in the same process)
    assert (run_dir / runs.LOCK_FILE).read_text().strip() != str(holder.pid)
