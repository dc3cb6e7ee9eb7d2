"""experiments.reproduce: a tiny rotation run re-run from its saved config matches its final
metrics exactly; a difference is reported and fails; provenance records the inputs."""

import json

import pytest

from experiments import reproduce as reproduce_script
from experiments import train_rotation
from orient_jax.core import reproduce, runs


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("original") / "test-run"
    assert train_rotation.main(["--config", "test", "--run", str(run_dir)]) == 0
    return run_dir


@pytest.mark.slow
@pytest.mark.timeout(600)  # two tiny PPO runs: ~55 s on a quiet machine, ~250 s on a busy one
def test_rerun_from_saved_config_matches_exactly(original, tmp_path, capsys):
    out = tmp_path / "repro"
    assert reproduce_script.main([str(original), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "match exactly" in printed
    kind = reproduce_script.KINDS[0]
    assert kind.name == "rotation"
    final = reproduce.final_metrics(out, kind)
    assert {"metrics.success_rate", "eval.success_rate", "weights.sha256"} <= set(final)
    assert not any(k.endswith(("wall_s", "steps_per_s")) for k in final)  # timings are not results
    assert json.loads((out / "config.json").read_text()) == json.loads((original / "config.json").read_text())
    meta = json.loads((original / "meta.json").read_text())
    assert {"seed", "git_sha", "packages", "inputs"} <= set(meta)


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_a_differing_metric_fails_with_a_table(original, tmp_path, capsys):
    changed = tmp_path / "changed"
    changed.mkdir()
    for name in ("config.json", "meta.json", "eval.json"):
        (changed / name).write_text((original / name).read_text())
    rows = runs.MetricsLog(original / "metrics.jsonl").read()
    rows[-1]["value_loss"] += 1e-7
    (changed / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert reproduce_script.main([str(original), "--out", str(changed), "--compare-only"]) == 1
    printed = capsys.readouterr().out
    assert "MISMATCH" in printed and "! metrics.value_loss" in printed
    assert "! weights.sha256" in printed  # the copy has no weights at all


@pytest.mark.integration
def test_run_kind_and_refusals(tmp_path, capsys):
    assert reproduce_script.main([str(tmp_path)]) == 2  # no config.json
    (tmp_path / "config.json").write_text(json.dumps({"preset": "x", "experiment": {"model": {}, "data": "d"}}))
    assert reproduce.run_kind(tmp_path, reproduce_script.KINDS).name == "vision"
    assert "not found" in capsys.readouterr().err


@pytest.mark.integration
def test_environment_warnings_name_changed_inputs(tmp_path):
    data = tmp_path / "manifest.json"
    data.write_text("{}")
    meta = {"git_sha": runs.git_sha(), "inputs": {"data": runs.file_record(data)}}
    assert not [w for w in reproduce.environment_warnings(meta) if "input" in w]
    data.write_text('{"changed": 1}')
    assert any("input data" in w and "other contents" in w for w in reproduce.environment_warnings(meta))
    data.unlink()
    assert any("is missing" in w for w in reproduce.environment_warnings(meta))
