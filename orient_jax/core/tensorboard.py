"""TensorBoard event files beside a run's ``metrics.jsonl``, for watching a run while it trains.

``loop.run`` writes every numeric figure of every metrics row into ``RUN/tensorboard/``
(tensorboardX, the writer Brax already pulls in), at the row's ``update``; the train
command adds the final evaluation's figures under ``eval/``. ``make tensorboard RUN=DIR``
serves them on 127.0.0.1.

``metrics.jsonl`` stays the record: the event files are a view of it. A resumed run
purges the events after the step it resumed from (``purge_step``), as ``loop.run``
truncates the JSONL rows after it, so a curve never doubles back on itself.
"""

from __future__ import annotations

import math
import numbers
import os
import time
from pathlib import Path

from tensorboardX import SummaryWriter

from orient_jax.core.runs import MetricsLog

DIRECTORY = "tensorboard"


def scalars(row: dict, prefix: str = "") -> dict[str, float]:
    """The finite numbers of a metrics row (nested dicts flattened with ``/``); bools, lists,
    strings and None are not curves."""
    out = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(scalars(value, f"{name}/"))
        elif isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


class Events:
    """Event files in ``run_dir/tensorboard``; ``resumed_at``: the step a resumed run
    continues after (its later events are dropped), or None for a fresh run."""

    def __init__(self, run_dir: Path, resumed_at: int | None = None):
        purge = None if resumed_at is None else resumed_at + 1
        # The file name holds the second it was made in; the suffix keeps two writers opened
        # within one second (a quick resume, the final figures) from writing over each other.
        suffix = f".{os.getpid()}.{time.time_ns()}"
        self.writer = SummaryWriter(str(Path(run_dir) / DIRECTORY), purge_step=purge, flush_secs=30,
                                    filename_suffix=suffix)  # fmt: skip

    def write(self, row: dict, step: int, prefix: str = "", skip: tuple[str, ...] = ("update",)) -> None:
        for name, value in scalars({k: v for k, v in row.items() if k not in skip}, prefix).items():
            self.writer.add_scalar(name, value, global_step=step)

    def close(self) -> None:
        self.writer.close()


def write_final(run_dir: Path, figures: dict) -> None:
    """The figures of a finished run (its evaluation) under ``eval/``, at its last update."""
    rows = MetricsLog(Path(run_dir) / "metrics.jsonl").read()
    events = Events(run_dir)
    try:
        events.write(figures, rows[-1]["update"] if rows else 0, prefix="eval/", skip=())
    finally:
        events.close()
