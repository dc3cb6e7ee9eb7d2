"""Determinism, exact resume, checkpoints and run directories, on the tiny `test` preset.

One trainer is shared, so its update compiles once for all runs here.
"""

import json
import shutil

import jax
import numpy as np
import pytest

from experiments.configs.rotation import PRESETS
from orient_jax.agents.ppo.policy_io import load_policy
from orient_jax.agents.ppo.program import PPOProgram
from orient_jax.core import dataclass_config as config_lib
from orient_jax.core import loop, runs
from orient_jax.core.checkpointing import Checkpoints
from orient_jax.tasks.rotation import run as rotation_run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def setup():
    exp = PRESETS.get("test")
    return exp, rotation_run.build_trainer(exp), runs.config_record(exp, "test")


def train(trainer, run_dir, seed, cfg, checkpoint_every, stop_after=None):
    program = PPOProgram(trainer, seed, run_dir)
    return loop.run(program, run_dir, cfg, checkpoint_every, 2, stop_after, progress=False)[0]


def run(setup, run_dir, stop_after=None):
    exp, trainer, cfg = setup
    run_dir.mkdir(parents=True, exist_ok=True)
    return train(trainer, run_dir, exp.seed, cfg, exp.checkpoint_every, stop_after)


def assert_trees_equal(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture(scope="module")
def reference(setup, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("reference")
    return run_dir, run(setup, run_dir)


def test_same_seed_same_params(setup, reference, tmp_path):
    _, state_a = reference
    state_b = run(setup, tmp_path / "again")
    assert int(state_a.update_step) == setup[0].ppo.num_updates
    assert_trees_equal(state_a.params, state_b.params)
    assert_trees_equal(state_a.opt_state, state_b.opt_state)


def test_other_seed_other_params(setup, reference, tmp_path):
    exp, trainer, cfg = setup
    other = train(trainer, tmp_path, exp.seed + 1, cfg, exp.checkpoint_every)
    a = jax.tree.leaves(reference[1].params)[0]
    assert not np.array_equal(np.asarray(a), np.asarray(jax.tree.leaves(other.params)[0]))


def test_resume_from_mid_run_checkpoint_is_exact(setup, reference, tmp_path):
    _, state_full = reference
    partial = run(setup, tmp_path, stop_after=2)
    assert int(partial.update_step) == 2
    assert Checkpoints(tmp_path / "checkpoints").latest_step() == 2
    resumed = run(setup, tmp_path)
    assert int(resumed.update_step) == int(state_full.update_step)
    assert_trees_equal(state_full.params, resumed.params)
    assert_trees_equal(state_full.normalizer, resumed.normalizer)
    assert_trees_equal(state_full.env_state.obs, resumed.env_state.obs)
    # The resumed metrics log has each update exactly once.
    updates = [json.loads(line)["update"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert updates == list(range(1, int(state_full.update_step) + 1))


def test_run_directory_contents(setup, reference):
    run_dir, state = reference
    assert (run_dir / "learning_curve.png").stat().st_size > 1000
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert {"env_steps", "steps_per_s", "success_rate", "value_loss"} <= set(rows[-1])
    for r in rows:  # per-episode figures average over the episodes that ended in the update
        if r["episodes"] == 0:  # none (the test preset's 128 steps per env end no 300-step episode)
            assert r["success_rate"] is None and r["episode_return"] is None
        else:
            assert 0.0 <= r["success_rate"] <= 1.0 and isinstance(r["episode_return"], float)
    networks, params, normalizer, info = load_policy(run_dir)
    assert info["update"] == int(state.update_step)
    assert_trees_equal(params, state.params)
    assert_trees_equal(normalizer, state.normalizer)


def test_checkpoint_holds_config_and_rejects_other_config(setup, reference):
    run_dir, state = reference
    restored, saved = Checkpoints(run_dir / "checkpoints").restore(state)
    assert saved == setup[2]
    assert_trees_equal(restored.key, state.key)
    exp, trainer, cfg = setup
    other = {"preset": "test", "experiment": {**cfg["experiment"], "seed": 99}}
    with pytest.raises(ValueError, match="another config"):
        train(trainer, run_dir, exp.seed, other, exp.checkpoint_every)


def test_an_edited_config_is_refused_by_key_and_the_checkpoint_stays(setup, reference, tmp_path):
    """A run resumed with another config (its config.json edited: more envs, so other array
    shapes): one error naming the key; the checkpoint is neither moved aside nor replaced,
    no metrics row is lost, and with the config undone the run resumes as it was."""
    exp, trainer, cfg = setup
    run_dir = tmp_path / "edited"
    shutil.copytree(reference[0], run_dir)
    steps = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    rows = runs.MetricsLog(run_dir / "metrics.jsonl").read()
    edited = config_lib.apply_overrides(exp, [f"ppo.num_envs={2 * exp.ppo.num_envs}"])
    with pytest.raises(ValueError, match=r"another config \(differs in ppo.num_envs\); the checkpoint is left"):
        train(rotation_run.build_trainer(edited), run_dir, exp.seed, runs.config_record(edited, "test"), 1)
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == steps
    assert not (run_dir / "checkpoints.broken").exists()
    assert runs.MetricsLog(run_dir / "metrics.jsonl").read() == rows
    assert_trees_equal(train(trainer, run_dir, exp.seed, cfg, exp.checkpoint_every), reference[1])


def test_train_run_writes_metadata(tmp_path):
    exp = config_lib.apply_overrides(PRESETS.get("test"), ["ppo.total_env_steps=128", "eval_episodes=4"])
    with pytest.raises(ValueError, match="different config"):
        (tmp_path / "config.json").write_text(json.dumps({"preset": "test", "experiment": {"seed": 5}}))
        rotation_run.train_run(exp, "test", tmp_path, progress=False)
    meta_dir = tmp_path / "fresh"
    meta_dir.mkdir()
    runs.write_metadata(meta_dir, runs.config_record(exp, "test"), exp.seed)
    meta = json.loads((meta_dir / "meta.json").read_text())
    assert meta["seed"] == exp.seed and meta["packages"]["jax"] and meta["git_sha"]
    assert rotation_run.load_run_config(meta_dir) == exp


def test_update_compiles_once(setup, reference):
    """Every run in this module reused one compiled update: the state's types never drift
    (a weak-typed leaf in init once forced a second ~16 s compile at update 2)."""
    _, trainer, _ = setup
    assert trainer.update._cache_size() == 1


def damage(step_dir, how):
    """A power cut's work on one checkpoint step: its array data files cut to half (the
    OCDBT ``d/`` files; which one holds which leaf varies, so all of them), or an empty
    ``_METADATA``."""
    if how == "truncate":
        data_files = [p for p in step_dir.rglob("*") if p.is_file() and p.parent.name == "d"]
        assert data_files
        for path in data_files:
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        [meta] = [p for p in step_dir.rglob("_METADATA") if "state" in p.parts]
        meta.write_bytes(b"")


@pytest.mark.parametrize("how", ["truncate", "empty_metadata"])
def test_a_broken_latest_checkpoint_is_moved_aside_and_the_one_before_resumes(setup, reference, tmp_path, capsys, how):
    import shutil

    ref_dir, state_full = reference
    run_dir = tmp_path / "run"
    shutil.copytree(ref_dir, run_dir)
    assert Checkpoints(run_dir / "checkpoints").manager.all_steps() == [2, 4]
    assert (run_dir / "checkpoints" / "4" / "sha256sums.json").is_file()  # recorded at save: checked before Orbax reads
    damage(run_dir / "checkpoints" / "4", how)
    resumed = run(setup, run_dir)  # falls back to step 2, re-trains 3 and 4 exactly
    out = capsys.readouterr().out
    [moved] = list((run_dir / "checkpoints.broken").iterdir())
    assert moved.name.startswith("4-") and any(moved.rglob("_METADATA"))  # renamed, never deleted
    assert f"warning: checkpoint 4 in {run_dir / 'checkpoints'} does not restore; moved it to {moved}" in out
    assert f"resumed {run_dir} at update 2" in out
    assert int(resumed.update_step) == int(state_full.update_step)
    assert_trees_equal(state_full.params, resumed.params)
    updates = [json.loads(line)["update"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert updates == list(range(1, int(state_full.update_step) + 1))


def test_when_no_checkpoint_restores_the_error_lists_what_was_tried(setup, reference, tmp_path):
    import shutil

    from orient_jax.core.checkpointing import CheckpointError

    run_dir = tmp_path / "run"
    shutil.copytree(reference[0], run_dir)
    for step in (2, 4):
        damage(run_dir / "checkpoints" / str(step), "truncate")
    with pytest.raises(
        CheckpointError, match=r"no checkpoint in .* restores; tried 4 \(.* is damaged: .*; moved to .*\); 2 \("
    ):
        run(setup, run_dir)
    assert len(list((run_dir / "checkpoints.broken").iterdir())) == 2
