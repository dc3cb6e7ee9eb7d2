"""experiments.compare: methods over seeds, on synthetic runs whose answer is known."""

from __future__ import annotations

import json

import numpy as np
import pytest

from experiments import compare
from orient_jax.core import stats

pytestmark = pytest.mark.unit

ROTATION = "orient_jax.tasks.rotation.config:RotationExperiment"


def fake_run(root, name, seed, score, lr=3e-4, task="cube", steps=(0, 500, 1000)):
    run = root / name
    run.mkdir(parents=True)
    experiment = {"seed": seed, "task": task, "ppo": {"learning_rate": lr}}
    (run / "config.json").write_text(json.dumps({"preset": "cpu", "experiment": experiment, "type": ROTATION}))
    (run / "eval.json").write_text(json.dumps({"success_rate": score}))
    rows = [{"update": k, "env_steps": s, "success_rate": score * s / steps[-1]} for k, s in enumerate(steps)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(run)


def test_iqm_mean_median_and_intervals_match_their_definitions():
    x = np.array([0.8, 0.1, 0.5, 0.3, 0.7, 0.2, 0.6, 0.4, 5.0])  # one wild seed
    s = stats.summary(x)
    assert s["iqm"] == pytest.approx(np.mean(np.sort(x)[2:7]))  # 9 seeds: the middle five (25 % cut each side)
    assert s["median"] == pytest.approx(0.5) and s["mean"] == pytest.approx(x.mean())
    assert s["iqm"] < s["mean"]  # the outlier moves the mean, not the IQM
    low, high = s["iqm_ci95"]
    assert x.min() <= low < s["iqm"] < high <= x.max()
    assert stats.summary(x)["iqm_ci95"] == s["iqm_ci95"]  # seeded: the same interval every time
    assert stats.summary([0.5])["iqm_ci95"] is None and stats.summary([0.9, 0.9])["mean_ci95"] is None


def test_runs_group_into_methods_by_config_and_score_with_known_figures(tmp_path, capsys):
    a = [fake_run(tmp_path, f"a{s}", s, score) for s, score in enumerate([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])]
    b = [fake_run(tmp_path, f"b{s}", s, 0.9, lr=1e-3) for s in range(4)]
    out = tmp_path / "cmp"
    assert compare.main([*a, *b, "--out", str(out)]) == 0
    result = json.loads((out / "compare.json").read_text())
    assert list(result["methods"]) == ["cpu", "cpu ppo.learning_rate=0.001"]
    first, second = result["methods"].values()
    assert first["seeds"] == 8 and first["iqm"] == pytest.approx(0.45) and first["median"] == pytest.approx(0.45)
    assert first["iqm_ci95"][0] < 0.45 < first["iqm_ci95"][1]
    assert second["seeds"] == 4 and second["iqm"] == pytest.approx(0.9) and second["iqm_ci95"] is None
    # Curves: each run rises linearly to its score, so the IQM curve ends at the IQM of the scores.
    assert result["curve"]["grid"][0] == 0 and result["curve"]["grid"][-1] == 1000
    assert first["curve"]["iqm"][-1] == pytest.approx(0.45) and first["curve"]["iqm"][0] == pytest.approx(0.0)
    table = capsys.readouterr().out
    assert "| cpu | 8 | 0.45 |" in table and "| cpu ppo.learning_rate=0.001 | 4 | 0.9 | – |" in table
    html = (out / "curves.html").read_text()
    assert (out / "curves.png").stat().st_size > 5000 and '<script src="http' not in html and "plotly" in html

    # LABEL=RUN names methods by hand: here every run is one method.
    assert compare.main([f"all={r}" for r in (*a, *b)] + ["--out", str(out)]) == 0
    assert json.loads((out / "compare.json").read_text())["methods"]["all"]["seeds"] == 12


def test_bad_inputs_are_one_error_line(tmp_path, capsys):
    cube = fake_run(tmp_path, "cube", 0, 0.5)
    other = fake_run(tmp_path, "orig", 0, 0.5, task="original")
    for args, message in [
        ([cube, other], "of different tasks"),
        ([cube, str(tmp_path / "nothing")], "config.json not found"),
        ([cube, "--score", "eval.json:missing"], "has no 'missing'"),
        ([cube, "--curve", "nope"], "fewer than two rows with 'nope'"),
    ]:
        assert compare.main([*args, "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err


def test_json_prints_one_document_and_the_table_goes_to_stderr(tmp_path, capfd):
    runs_ = [fake_run(tmp_path, f"r{s}", s, 0.2 * s) for s in range(3)]
    assert compare.main([*runs_, "--out", str(tmp_path / "out"), "--json"]) == 0
    out, err = capfd.readouterr()
    doc = json.loads(out)
    assert doc["methods"]["cpu"]["seeds"] == 3 and "| cpu | 3 |" in err
    assert compare.main([runs_[0], str(tmp_path / "absent"), "--json"]) == 2
    out, err = capfd.readouterr()
    assert json.loads(out)["ok"] is False and err.startswith("error: ")


def test_a_vmapped_run_counts_each_of_its_seeds(tmp_path):
    """A run trained with --seeds 4: its per_seed scores and seeds.jsonl curves, beside single runs."""
    run = tmp_path / "vmapped"
    run.mkdir()
    experiment = {"seed": 10, "seeds": 4, "task": "cube", "ppo": {"learning_rate": 3e-4}}
    (run / "config.json").write_text(json.dumps({"preset": "cpu", "experiment": experiment, "type": ROTATION}))
    scores = [0.2, 0.4, 0.6, 0.8]
    per_seed = [{"training_seed": 10 + i, "success_rate": v} for i, v in enumerate(scores)]
    (run / "eval.json").write_text(json.dumps({"success_rate": scores[0], "seeds": 4, "per_seed": per_seed}))
    rows = [{"update": k, "seed": 10 + i, "env_steps": s, "success_rate": v * s / 1000}
            for k, s in enumerate((0, 500, 1000)) for i, v in enumerate(scores)]  # fmt: skip
    (run / "seeds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    single = fake_run(tmp_path, "single", 0, 0.9, lr=1e-3)
    result = compare.compare([str(run), single])
    vmapped, other = result["methods"].values()
    assert vmapped["seeds"] == 4 and vmapped["scores"] == scores and vmapped["mean"] == pytest.approx(0.5)
    assert vmapped["runs"] == [f"{run}#seed-{10 + i}" for i in range(4)]
    assert vmapped["curve"]["iqm"][-1] == pytest.approx(0.5) and other["seeds"] == 1


def fake_humanoid_run(root, name, seed, algo, native_mean):
    """A Humanoid run as PPO or the DQN logs it, with a native score written by
    ``evaluate humanoid --out``."""
    run = root / name
    run.mkdir(parents=True)
    experiment = {"seed": seed, "algo": algo, "episode_steps": 200}
    kind = "orient_jax.tasks.humanoid.config:HumanoidExperiment"
    (run / "config.json").write_text(json.dumps({"preset": f"{algo}_x", "experiment": experiment, "type": kind}))
    (run / "gymnasium_1000.json").write_text(json.dumps({"mean_return": native_mean}))
    curve = "episode_return" if algo == "ppo" else "return_last100"
    rows = [{"update": k, "env_steps": 100 * k, curve: 10.0 * k} for k in range(5)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(run)


def test_humanoid_runs_get_their_algorithms_curve_and_any_score_file(tmp_path, capsys):
    ppo = [fake_humanoid_run(tmp_path, f"p{s}", s, "ppo", 500.0 + 10 * s) for s in range(5)]
    out = tmp_path / "cmp"
    assert compare.main([*ppo, "--score", "gymnasium_1000.json:mean_return", "--out", str(out)]) == 0
    result = json.loads((out / "compare.json").read_text())
    assert result["curve"]["key"] == "episode_return"
    assert result["methods"]["ppo_x"]["iqm"] == pytest.approx(520.0)  # 510, 520, 530 of 500..540
    dqn = fake_humanoid_run(tmp_path, "d0", 0, "dqn", 400.0)
    assert compare.main([ppo[0], dqn, "--score", "gymnasium_1000.json:mean_return", "--out", str(out)]) == 2
    assert "train with dqn, ppo: no default curve fits" in capsys.readouterr().err
    assert compare.main([ppo[0], dqn, "--score", "gymnasium_1000.json:mean_return", "--curve", "env_steps",
                         "--out", str(out)]) == 0  # fmt: skip
