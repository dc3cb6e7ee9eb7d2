"""experiments.original_results: the goal figures' keys from the harness CLIs' --json lines."""

from __future__ import annotations

import json

import pytest

from experiments import original_results

pytestmark = pytest.mark.unit


def _write(path, *objects, noise="a human line first\n"):
    path.write_text(noise + "".join(json.dumps(o) + "\n" for o in objects))
    return path


def test_the_keys_come_from_each_commands_last_line(tmp_path):
    node = _write(tmp_path / "n", {"episodes": 200, "upright": 199, "upright_rate": 0.995, "rows": [1, 2]})
    orig = _write(tmp_path / "o", {"episodes": 200, "upright": 196, "upright_rate": 0.98, "rows": []})
    noisy = _write(tmp_path / "e", {"episodes": 200, "upright": 197, "upright_rate": 0.985, "rows": []})
    frames = _write(tmp_path / "f", {"frames": 200, "median_deg": 3.25, "p95_deg": 11.5, "problems": []})
    page = _write(tmp_path / "p", {"episodes": 10, "upright": 9, "problems": ["x"], "rows": [{"seed": 0}]})
    out = tmp_path / "r.json"
    assert original_results.main(["--node", str(node), "--node-original", str(orig), "--frames", str(frames),
                                  "--page", str(page), "--node-noise", str(noisy), "--out", str(out)]) == 0  # fmt: skip
    got = json.loads(out.read_text())
    assert (got["node_upright_rate"], got["node_episodes"], got["node_upright_rate_original_models"]) == (
        0.995,
        200,
        0.98,
    )
    assert (got["pose_median_deg"], got["pose_p95_deg"], got["chromium_upright"], got["chromium_episodes"]) == (
        3.25,
        11.5,
        9,
        10,
    )
    assert (got["node_upright_rate_error_model"], got["node_episodes_error_model"]) == (0.985, 200)
    assert got["console_problems"] == 1
    assert "rows" not in got["details"]["node"] and got["details"]["page"]["rows"] == [{"seed": 0}]


def test_a_wrong_or_human_only_file_is_one_error_line(tmp_path, capsys):
    good = _write(tmp_path / "g", {"episodes": 1, "upright": 1, "upright_rate": 1.0})
    human = _write(tmp_path / "h", noise="0/1 upright\n")
    frames = _write(tmp_path / "f", {"frames": 2})  # not the frames command's full summary
    args = ["--node", str(good), "--node-original", str(good), "--page", str(good)]
    assert original_results.main([*args, "--frames", str(human), "--out", str(tmp_path / "x")]) == 2
    assert original_results.main([*args, "--frames", str(frames), "--out", str(tmp_path / "x")]) == 2
    assert original_results.main([*args, "--frames", str(tmp_path / "missing"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") for line in err)
    assert "not a JSON object" in err[0] and "median_deg" in err[1] and "missing" in err[2]
    assert not (tmp_path / "x").exists()


def test_the_optional_runs_are_null_when_not_given(tmp_path):
    node = _write(tmp_path / "n", {"episodes": 200, "upright": 199, "upright_rate": 0.995})
    frames = _write(tmp_path / "f", {"frames": 200, "median_deg": 3.25, "p95_deg": 11.5, "problems": []})
    page = _write(tmp_path / "p", {"episodes": 10, "upright": 9, "problems": [], "rows": []})
    got = original_results.collect(node, frames, page)
    assert got["node_upright_rate_error_model"] is None and got["node_upright_rate_original_models"] is None
    assert got["details"]["node_error_model"] is None


def test_an_upright_rate_is_a_float_and_a_number(tmp_path):
    frames = _write(tmp_path / "f", {"frames": 200, "median_deg": 3.25, "p95_deg": 11.5, "problems": []})
    page = _write(tmp_path / "p", {"episodes": 10, "upright": 9, "problems": [], "rows": []})
    whole = _write(tmp_path / "n", {"episodes": 200, "upright": 200, "upright_rate": 1})  # JS writes 1.0 as 1
    got = original_results.collect(whole, frames, page)["node_upright_rate"]
    assert got == 1.0 and isinstance(got, float)
    text = _write(tmp_path / "t", {"episodes": 200, "upright": 200, "upright_rate": "all"})
    with pytest.raises(original_results.ResultsError, match="upright_rate is 'all', not a number"):
        original_results.collect(text, frames, page)
