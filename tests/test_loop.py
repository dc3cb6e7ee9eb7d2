"""The one host loop (orient_jax.core.loop) with a counting program: checkpoint cadence,
the final save, every log keyed by step and truncated on resume, evaluation rows, and
Ctrl-C. The PPO, DQN and vision resume tests run real trainers through the same loop."""

from __future__ import annotations

import json

import numpy as np
import pytest

from orient_jax.core import dataclass_config as config_lib
from orient_jax.core import loop, runs, tensorboard
from orient_jax.core.checkpointing import Checkpoints

pytestmark = pytest.mark.unit


class Counter(loop.Program):
    """State: one float; a chunk adds 1 per step, two steps at a time (never past stop)."""

    name = "count"
    logs = ("events",)
    curve_keys = ("value",)
    curve_x = "update"

    def __init__(self, total=7, interrupt_at=None, nan_at=None):
        self.total, self.interrupt_at, self.nan_at = total, interrupt_at, nan_at
        self.saved, self.seen = [], None

    def init(self):
        return {"value": np.zeros((), np.float32)}

    def chunk(self, state, step, stop):
        end = int(min(step + 2, self.total, stop))
        if self.interrupt_at is not None and end > self.interrupt_at:
            raise KeyboardInterrupt
        value = state["value"] + (end - step)
        if self.nan_at is not None and end >= self.nan_at:
            value = value * np.float32("nan")  # training diverged
        events = [{"event": s} for s in range(step + 1, end + 1)]
        return loop.Chunk({"value": value}, end, {"value": float(value)}, work=end - step, rows={"events": events})

    def evaluate(self, state, step):
        return {"even": step % 2 == 0}

    def save(self, state, step):
        self.saved.append(step)

    def resumed(self, logs):
        self.seen = {name: len(rows) for name, rows in logs.items()}


CONFIG = {"preset": "t", "experiment": {"x": 1}}


def rows(run_dir, name="metrics"):
    return runs.MetricsLog(run_dir / f"{name}.jsonl").read()


def test_runs_to_the_end_logging_and_checkpointing(tmp_path):
    program = Counter()
    state, step = loop.run(program, tmp_path, CONFIG, checkpoint_every=4, progress=False)
    assert step == 7 and float(state["value"]) == 7.0
    metrics = rows(tmp_path)
    assert [r["update"] for r in metrics] == [2, 4, 6, 7]
    assert [r["value"] for r in metrics] == [2.0, 4.0, 6.0, 7.0] and [r["even"] for r in metrics] == [
        True,
        True,
        True,
        False,
    ]
    assert all(r["steps_per_s"] > 0 and r["wall_s"] >= 0 for r in metrics)
    assert [r["event"] for r in rows(tmp_path, "events")] == list(range(1, 8))
    assert program.saved == [4, 7]  # every 4 steps, and the end
    assert Checkpoints(tmp_path / "checkpoints").latest_step() == 7
    assert (tmp_path / "learning_curve.png").stat().st_size > 1000


def test_a_stopped_run_resumes_as_if_never_stopped(tmp_path):
    straight = tmp_path / "straight"
    loop.run(Counter(), straight, CONFIG, checkpoint_every=4, progress=False)
    parted = tmp_path / "parted"
    _, step = loop.run(Counter(), parted, CONFIG, checkpoint_every=4, stop_after=3, progress=False)
    assert step == 3 and Checkpoints(parted / "checkpoints").latest_step() == 3  # saved where it stopped
    # Rows written after the last checkpoint are dropped on resume: fake two.
    for name in ("metrics", "events"):
        runs.MetricsLog(parted / f"{name}.jsonl").write({"update": 9, "stale": True})
    program = Counter()
    state, step = loop.run(program, parted, CONFIG, checkpoint_every=4, progress=False)
    assert program.seen == {"metrics": 2, "events": 3}  # what resumed() was shown: rows up to step 3
    assert (step, float(state["value"])) == (7, 7.0)
    for name in ("metrics", "events"):
        keep = [{k: v for k, v in r.items() if k not in ("wall_s", "steps_per_s")} for r in rows(parted, name)]
        want = [{k: v for k, v in r.items() if k not in ("wall_s", "steps_per_s")} for r in rows(straight, name)]
        assert [r["update"] for r in keep] == sorted(r["update"] for r in keep)
        assert keep[-1] == want[-1] and "stale" not in json.dumps(keep)


def test_ctrl_c_saves_then_reraises(tmp_path, capsys):
    program = Counter(interrupt_at=2)
    with pytest.raises(KeyboardInterrupt):
        loop.run(program, tmp_path, CONFIG, checkpoint_every=100, progress=False)
    assert program.saved == [2] and Checkpoints(tmp_path / "checkpoints").latest_step() == 2
    assert "interrupted: saved step 2; rerun with --run" in capsys.readouterr().out
    _, step = loop.run(Counter(), tmp_path, CONFIG, checkpoint_every=100, progress=False)
    assert step == 7


def test_a_checkpoint_of_another_config_is_refused(tmp_path):
    loop.run(Counter(), tmp_path, CONFIG, checkpoint_every=4, stop_after=2, progress=False)
    other = {"preset": "t", "experiment": {"x": 2}}
    with pytest.raises(ValueError, match=r"another config \(differs in x\)"):
        loop.run(Counter(), tmp_path, other, checkpoint_every=4, progress=False)


def test_a_restored_state_reuses_the_compiled_step(tmp_path):
    """Orbax hands back committed arrays; a fresh state's are not, and jit keys on that.
    Restored leaves are placed as the target's, so resuming compiles nothing new."""
    import jax
    import jax.numpy as jnp

    step = jax.jit(lambda s: jax.tree.map(lambda x: x + 1, s))
    fresh = {"w": jnp.arange(6.0).reshape(2, 3), "n": jnp.zeros((), jnp.int32)}
    after = step(fresh)
    checkpoints = Checkpoints(tmp_path / "checkpoints")
    checkpoints.save(1, after, CONFIG)
    restored, config = checkpoints.restore(fresh)
    assert config == CONFIG
    for a, b in zip(jax.tree.leaves(after), jax.tree.leaves(restored)):
        np.testing.assert_array_equal(a, b)
    step(restored)
    assert step._cache_size() == 1


def test_a_diverged_metric_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    program = Counter(total=12, nan_at=7)
    with pytest.raises(loop.NonFiniteMetric) as stopped:
        loop.run(program, tmp_path, CONFIG, checkpoint_every=4, progress=False)
    assert str(stopped.value) == (
        f"step 8: metrics value is nan (training diverged); stopped, nothing of it was written; "
        f"the last checkpoint is step 4 in {tmp_path}"
    )
    text = (tmp_path / "metrics.jsonl").read_text()
    assert [json.loads(line)["update"] for line in text.splitlines()] == [2, 4, 6]  # strict JSON, no NaN row
    assert [r["event"] for r in rows(tmp_path, "events")] == list(range(1, 7))
    assert program.saved == [4] and Checkpoints(tmp_path / "checkpoints").latest_step() == 4
    restored, _ = Checkpoints(tmp_path / "checkpoints").restore(Counter().init())
    assert float(restored["value"]) == 4.0


def test_a_metric_with_no_value_is_null_and_a_non_finite_one_is_not_json(tmp_path):
    log = runs.MetricsLog(tmp_path / "m.jsonl")
    log.write({"update": 1, "success_rate": None})
    assert log.read() == [{"update": 1, "success_rate": None}]
    for bad in (float("nan"), float("inf"), [1.0, float("-inf")]):
        with pytest.raises(ValueError):
            log.write({"update": 2, "x": bad})
    assert runs.non_finite({"a": 1.0, "b": None, "c": float("nan"), "d": [0.0, float("inf")], "e": "nan"}) == ["c", "d"]


def test_a_field_added_since_a_run_started_is_no_difference():
    """A saved experiment without a field the experiment class has gained (at its default)
    is the same experiment; with the field set otherwise, it is not."""
    from experiments.configs.humanoid import PRESETS as HUMANOID

    exp = HUMANOID.get("dqn_native")
    config = runs.config_record(exp, "dqn_native")
    older = json.loads(json.dumps(config))
    del older["experiment"]["dqn"]["explore"], older["type"]
    assert runs.same_experiment(older, config)
    other = runs.config_record(config_lib.apply_overrides(exp, ["dqn.explore=nudge"]), "dqn_native")
    assert not runs.same_experiment(older, other)
    assert runs.differing_keys(older["experiment"], other["experiment"]) == ["dqn.explore"]


def tensorboard_scalars(run_dir) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir / tensorboard.DIRECTORY))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_every_numeric_figure_goes_to_tensorboard_and_a_resume_purges_what_it_redoes(tmp_path):
    straight = tmp_path / "straight"
    loop.run(Counter(), straight, CONFIG, checkpoint_every=4, progress=False)
    events = tensorboard_scalars(straight)
    assert set(events) == {"value", "wall_s", "steps_per_s"}  # "even" is a bool, not a curve
    assert events["value"] == [(2, 2.0), (4, 4.0), (6, 6.0), (7, 7.0)]  # at each row's update

    parted = tmp_path / "parted"
    loop.run(Counter(), parted, CONFIG, checkpoint_every=4, stop_after=3, progress=False)
    crashed = tensorboard.Events(parted)  # a process killed after update 5, its checkpoint still at 3
    crashed.write({"value": 99.0}, 5)
    crashed.close()
    loop.run(Counter(), parted, CONFIG, checkpoint_every=4, progress=False)
    assert tensorboard_scalars(parted)["value"] == [(2, 2.0), (3, 3.0), (5, 5.0), (7, 7.0)]  # 99 is gone

    tensorboard.write_final(parted, {"success_rate": 0.5, "episodes": 8, "note": "text", "nested": {"p95": 1.5}})
    final = tensorboard_scalars(parted)
    assert final["eval/success_rate"] == [(7, 0.5)] and final["eval/nested/p95"] == [(7, 1.5)]
    assert "eval/note" not in final


class StopsAtValue(Counter):
    """The counter, stopped once ``value`` >= 4 in two rows in a row (rows at 2, 4, 6, ...)."""

    def stop_early(self, rows):
        return loop.HeldAtLeast("value", 4.0, 2)(rows)


def test_an_early_stop_ends_the_run_where_the_rule_holds_and_a_resume_agrees(tmp_path, capsys):
    program = StopsAtValue(total=20)
    _, step = loop.run(program, tmp_path / "a", CONFIG, checkpoint_every=100, progress=False)
    assert step == 6  # rows at 4 and 6 both hold
    assert [r["value"] for r in rows(tmp_path / "a")] == [2.0, 4.0, 6.0]
    assert "stopped early at step 6: value >= 4 in each of the last 2 rows" in capsys.readouterr().out
    assert Checkpoints(tmp_path / "a" / "checkpoints").latest_step() == 6
    # Run again: it stays stopped, writing nothing.
    _, again = loop.run(StopsAtValue(total=20), tmp_path / "a", CONFIG, checkpoint_every=100, progress=False)
    assert again == 6 and len(rows(tmp_path / "a")) == 3
    # Interrupted before the rule held, then resumed: the same stop.
    loop.run(StopsAtValue(total=20), tmp_path / "b", CONFIG, checkpoint_every=100, stop_after=4, progress=False)
    _, resumed = loop.run(StopsAtValue(total=20), tmp_path / "b", CONFIG, checkpoint_every=100, progress=False)
    assert resumed == 6 and [r["value"] for r in rows(tmp_path / "b")] == [2.0, 4.0, 6.0]


def test_held_at_least_needs_every_recent_row_and_treats_a_missing_value_as_not_held():
    rule = loop.HeldAtLeast("success_rate", 0.9, 3)
    assert rule([{"success_rate": 0.95}] * 2) is None  # too few rows
    assert rule([{"success_rate": 0.5}] + [{"success_rate": 0.95}] * 3) is not None
    assert rule([{"success_rate": 0.95}, {"success_rate": None}, {"success_rate": 0.95}]) is None
    assert rule([{"success_rate": 0.95}, {"success_rate": 0.89}, {"success_rate": 0.95}]) is None


def test_a_rotation_run_that_met_its_early_stop_counts_as_finished(tmp_path):
    """The train command evaluates a run that stopped on its rule, and resumes one that was cut short."""
    import dataclasses

    from experiments.configs.rotation import PRESETS
    from orient_jax.tasks.rotation import run as rotation_run

    exp = dataclasses.replace(PRESETS.get("test"), stop_success=0.9, stop_updates=2)
    log = runs.MetricsLog(tmp_path / "metrics.jsonl")
    for update, rate in enumerate([0.5, 0.95], 1):
        log.write({"update": update, "success_rate": rate})
    assert not rotation_run.stopped_early(exp, tmp_path)  # one row held: not yet
    log.write({"update": 3, "success_rate": 0.91})
    assert rotation_run.stopped_early(exp, tmp_path)
    assert not rotation_run.stopped_early(dataclasses.replace(exp, stop_success=0.0), tmp_path)  # no rule
    with pytest.raises(ValueError, match="stop_success must be in"):
        dataclasses.replace(exp, stop_success=1.5)
