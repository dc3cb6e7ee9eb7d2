"""The one checkpointed host loop, shared by every trainer (PPO, DQN, the vision CNN).

A trainer (``orient_jax.core.trainer``: ``init`` and a jitted ``update``) is run through a
``Program``: its fresh state, one *chunk* of work (an ``update``, or a few) and what that
chunk measured, and how to export its weights. ``run`` owns
everything else, the same way for all of them:

* **checkpoints** (Orbax, ``checkpoints/``) every ``checkpoint_every`` steps, when the
  run ends or stops early, and on Ctrl-C or SIGTERM; the program's weights are exported
  beside each one;
* **exact resume**: the latest checkpoint is restored into a fresh state (refused if it
  was made with another config) and every log loses the rows written after it, so a
  resumed run writes what an uninterrupted one would;
* **logs**: ``metrics.jsonl`` (one row per chunk that reports metrics, with the step,
  the wall time so far and the program's rate) and any other JSONL logs the program
  names, every row keyed by ``update``, the step it ends;
* the **progress bar**, and the learning-curve PNG when the loop ends;
* **early stops**: a program may end before its total (``Program.stop_early``, e.g.
  ``HeldAtLeast``: a metric held above a bar); the rule reads the metrics rows, so a
  resumed run stops where an uninterrupted one would, and a stopped one stays stopped;
* **divergence**: a row with a NaN or infinite number stops the run (``NonFiniteMetric``,
  naming the step and the metric) before anything of that step is written or saved, so
  the run keeps its last good checkpoint and its logs stay valid JSON. A metric with no
  value for a step (no episode ended) is None, not NaN.

With several processes (``orient_jax.core.launch``) every process runs the loop and
saves its shards of each checkpoint; process 0 alone writes the logs, the exported
weights and the plot.

The loop's position is the *step*: what a checkpoint is numbered by (PPO: updates, DQN:
jitted calls, vision: gradient steps). A chunk advances it by one or more.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, NamedTuple

from tqdm import tqdm

from orient_jax.core import runs, tensorboard
from orient_jax.core.checkpointing import Checkpoints

METRICS = "metrics"  # the log every program has: metrics.jsonl


class Chunk(NamedTuple):
    """What one call of ``Program.chunk`` did."""

    state: Any
    step: int  # the loop's position after the chunk
    metrics: dict | None  # the metrics.jsonl row (``update``, ``wall_s`` and the rate are added); None: no row
    work: int = 0  # items processed (env steps, images): the row's rate is work per second
    rows: dict[str, list[dict]] | None = None  # rows for the program's other logs


class Program:
    """One trainer, as the host loop sees it. Subclasses set the class attributes and
    implement ``init``, ``chunk`` and ``save``; the other methods have defaults."""

    name = "training"  # progress-bar label
    unit = "step"  # what the step counts, for messages
    rate_key = "steps_per_s"  # metrics key of ``Chunk.work`` per second
    logs: tuple[str, ...] = ()  # JSONL logs besides metrics.jsonl, e.g. ("episodes",)
    curve_keys: tuple[str, ...] = ()  # metrics drawn into learning_curve.png
    curve_x = "env_steps"

    total: int  # progress() at which the run is finished

    def init(self) -> Any:
        """A fresh training state (from the run's seed)."""
        raise NotImplementedError

    def chunk(self, state: Any, step: int, stop: int) -> Chunk:
        """Advance from ``step``, never past ``stop``."""
        raise NotImplementedError

    def save(self, state: Any, step: int) -> None:
        """Export the weights of ``state`` (runs beside every checkpoint)."""
        raise NotImplementedError

    def progress(self, state: Any, step: int) -> int:
        """How far the run is, out of ``total`` (the bar's position)."""
        return step

    def evaluate(self, state: Any, step: int) -> dict:
        """Metrics measured after a chunk, outside its timing (e.g. validation); merged into its row."""
        return {}

    def resumed(self, logs: dict[str, list[dict]]) -> None:
        """Called once before the first chunk with every log's rows so far (empty on a fresh run)."""

    def postfix(self, row: dict) -> dict:
        """What the progress bar shows of a metrics row."""
        return {}

    def stop_early(self, rows: list[dict]) -> str | None:
        """Why the run ends before ``total``, judged from every metrics row so far (read before
        each chunk, so a finished run that is run again stops at once); None: go on."""
        return None


@dataclasses.dataclass(frozen=True)
class HeldAtLeast:
    """An early stop: ``metric`` at least ``threshold`` in each of the last ``rows`` metrics rows
    (a row without a value for it, None, breaks the streak)."""

    metric: str
    threshold: float
    rows: int

    def __call__(self, rows: list[dict]) -> str | None:
        last = rows[-self.rows :]
        if len(last) < self.rows or any((r.get(self.metric) is None or r[self.metric] < self.threshold) for r in last):
            return None
        return f"{self.metric} >= {self.threshold:g} in each of the last {self.rows} rows"


class NonFiniteMetric(ValueError):
    """A training metric came out NaN or infinite: the run stops, keeping its checkpoints."""


def run(
    program: Program,
    run_dir: Path,
    config: dict,
    checkpoint_every: int,
    keep_checkpoints: int = 2,
    stop_after: int | None = None,
    progress: bool = True,
) -> tuple[Any, int]:
    """Run ``program`` in ``run_dir`` until it is finished, or until step ``stop_after``
    (as an interruption would stop it), resuming from the latest checkpoint there.
    ``config`` (the run's config.json) is saved with every checkpoint. Ctrl-C or SIGTERM
    saves first, then re-raises. Returns the state and the step it ended at."""
    run_dir = Path(run_dir)
    writer = runs.is_writer()
    ckpt = Checkpoints(run_dir / "checkpoints", keep=keep_checkpoints)
    logs = {name: runs.MetricsLog(run_dir / f"{name}.jsonl") for name in (METRICS, *program.logs)}
    state, start = runs.restore(run_dir, ckpt, program.init(), config)
    step = start or 0
    if writer:
        for log in logs.values():  # rows written after the checkpoint go; a fresh run starts them empty
            log.truncate_after(step)
    runs.barrier("logs_truncated")
    previous = logs[METRICS].read()  # the metrics rows so far; each new one is appended
    elapsed = previous[-1]["wall_s"] if previous else 0.0
    if start is not None and writer:
        print(f"resumed {run_dir} at {program.unit} {start}")
    program.resumed({name: log.read() for name, log in logs.items()})
    stop = stop_after if stop_after is not None else float("inf")
    events = tensorboard.Events(run_dir, resumed_at=start) if writer else None  # a view of metrics.jsonl

    def finished() -> bool:
        return program.progress(state, step) >= program.total

    def checkpoint() -> None:
        ckpt.save(step, state, config)  # every process: each writes its shards
        if writer:
            program.save(state, step)

    bar = tqdm(total=program.total, initial=min(program.progress(state, step), program.total), desc=program.name,
               disable=not (progress and writer), dynamic_ncols=True)  # fmt: skip
    t_last = time.perf_counter()
    stopped = None
    with runs.sigterm_as_interrupt():
        try:
            while not finished() and step < stop and (stopped := program.stop_early(previous)) is None:
                done = program.chunk(state, step, stop)
                now = time.perf_counter()
                dt, t_last = now - t_last, now
                elapsed += dt
                rows = {name: list(r) for name, r in (done.rows or {}).items()}
                if done.metrics is not None:
                    metrics = {"wall_s": round(elapsed, 3), program.rate_key: done.work / dt, **done.metrics}
                    metrics.update(program.evaluate(done.state, done.step))
                    t_last = time.perf_counter()  # evaluation time is not training throughput
                    rows.setdefault(METRICS, []).append(metrics)
                for name, log_rows in rows.items():  # nothing of a diverged update is written or saved
                    for row in log_rows:
                        if bad := runs.non_finite(row):
                            kept, value = ckpt.latest_step(), row[bad[0]]
                            what = value if isinstance(value, float) else "a list holding a non-finite number"
                            raise NonFiniteMetric(
                                f"{program.unit} {done.step}: {name} {bad[0]} is {what} (training diverged); "
                                f"stopped, nothing of it was written; the last checkpoint is "
                                f"{f'{program.unit} {kept}' if kept is not None else 'none yet'} in {run_dir}"
                            )
                for name, log_rows in rows.items():  # before advancing: a checkpoint never lacks its rows
                    for row in log_rows if writer else ():
                        logs[name].write({"update": done.step, **row})
                        if name == METRICS:
                            events.write(row, done.step)
                previous.extend(rows.get(METRICS, ()))
                before = program.progress(state, step)
                state, step = done.state, done.step
                bar.update(min(program.progress(state, step), program.total) - min(before, program.total))
                if done.metrics is not None:
                    bar.set_postfix(program.postfix(rows[METRICS][-1]))
                if step % checkpoint_every == 0:
                    checkpoint()
            if stopped is not None and writer:
                print(f"stopped early at {program.unit} {step}: {stopped}")
            if ckpt.latest_step() != step:
                checkpoint()  # the end of the run, or of this part of it
        except KeyboardInterrupt:
            bar.close()
            if ckpt.latest_step() != step:
                checkpoint()
            print(f"\ninterrupted: saved {program.unit} {step}; rerun with --run {run_dir} to resume")
            raise
        finally:
            bar.close()
            ckpt.close()
            if events is not None:
                events.close()
            if writer:
                curve = run_dir / "learning_curve.png"
                runs.plot_curves(logs[METRICS].read(), program.curve_keys, curve, program.curve_x)
    runs.barrier("run_finished")  # the policy process 0 exported is in place for every process
    return state, step
