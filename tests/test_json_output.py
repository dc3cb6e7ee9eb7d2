"""``--json`` means stdout is one JSON document: every script that has the flag, parsed whole."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments import check_onnx, export, export_humanoid, json_output

ROOT = Path(__file__).resolve().parents[1]

# Every experiments script with --json, and the test that parses its whole stdout.
COVERED = {
    "check_onnx": "tests/test_json_output.py::test_check_onnx_stdout_is_one_document",
    "compare": "tests/test_compare.py::test_json_prints_one_document_and_the_table_goes_to_stderr",
    "evaluate": "tests/test_eval_rotation.py::test_eval_script_json_on_shipped_policy",  # and vision's:
    # tests/test_vision.py::test_eval_writes_figures_and_an_error_model_the_env_loads
    "export": "tests/test_json_output.py::test_export_stdout_is_one_document",
    "export_humanoid": "tests/test_json_output.py::test_export_humanoid_stdout_is_one_document",
    "install_original": "tests/test_install_original.py::test_the_command_with_json_prints_one_document",
    "original_transfer": "tests/test_original_profile.py::test_free_flight_agrees_with_the_original_physics_js",
}


@pytest.mark.unit
def test_every_script_with_json_is_covered():
    flag = re.compile(r'add_argument\(\s*"--json"')
    scripts = {p.stem for p in (ROOT / "experiments").glob("*.py") if flag.search(p.read_text())}
    assert scripts == set(COVERED)
    for node in COVERED.values():
        path, name = node.split("::")
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), node


@pytest.mark.unit
def test_everything_but_the_document_goes_to_stderr(capfd):
    with json_output.stdout_document(True) as doc:
        print("a human line")
        os.write(1, b"a C library's line\n")
        subprocess.run([sys.executable, "-c", "print('a child process line')"], check=True)
        doc.set({"ok": True, "n": 3})
    out, err = capfd.readouterr()
    assert json.loads(out) == {"ok": True, "n": 3}
    assert out.count("\n") == 1
    for line in ("a human line", "a C library's line", "a child process line"):
        assert line in err
    print("stdout again")
    assert capfd.readouterr().out == "stdout again\n"


@pytest.mark.unit
def test_without_json_nothing_moves_and_nothing_is_printed(capfd):
    with json_output.stdout_document(False) as doc:
        print("a human line")
        doc.set({"ok": True})
    assert capfd.readouterr().out == "a human line\n"


@pytest.mark.unit
def test_every_exit_path_writes_one_document(capfd):
    with pytest.raises(RuntimeError), json_output.stdout_document(True) as doc:
        doc.set({"ok": True})
        raise RuntimeError("boom\nsecond line")
    assert json.loads(capfd.readouterr().out) == {"ok": False, "error": "RuntimeError: boom"}
    with json_output.stdout_document(True):
        print("error: the run is in use", file=sys.stderr)  # an error path that returns 2
    out, err = capfd.readouterr()
    assert json.loads(out) == {"ok": False, "error": "the run is in use"} and err.startswith("error:")


@pytest.mark.unit
def test_non_finite_numbers_are_null_not_bare_tokens(capfd):
    with json_output.stdout_document(True) as doc:
        doc.set({"a": math.nan, "b": [np.float32(np.inf), 1.5, np.float64(-np.inf)], "c": np.int64(2)})
    out = capfd.readouterr().out
    assert "NaN" not in out and "Infinity" not in out
    assert json.loads(out) == {"a": None, "b": [None, 1.5, None], "c": 2}


@pytest.mark.integration
def test_check_onnx_stdout_is_one_document(capfd, tmp_path):
    assert check_onnx.main([str(ROOT / "web/public/models"), "--json"]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out)["ok"] is True and err  # the human report went to stderr
    # A missing folder and an unknown task fail alike: exit 2, one error line, {"ok": false, "error"}.
    for args in ([str(tmp_path / "absent")], [str(ROOT / "web/public/models"), "--task", "nope"]):
        assert check_onnx.main([*args, "--json"]) == 2
        out, err = capfd.readouterr()
        doc = json.loads(out)
        assert doc["ok"] is False and err == f"error: {doc['error']}\n"


@pytest.mark.integration
def test_export_stdout_is_one_document(capfd, tmp_path):
    args = ["--vision-run", "none", "--out", str(tmp_path), "--parity-inputs", "8", "--parity-data", "none", "--json"]
    assert export.main(args) == 0
    manifest = json.loads(capfd.readouterr().out)
    assert manifest == json.loads((tmp_path / "manifest.json").read_text())
    # --out onto an existing file: one error line, and with --json still one document.
    (tmp_path / "a-file").write_text("mine")
    args[args.index("--out") + 1] = str(tmp_path / "a-file")
    assert export.main(args) == 2
    out, err = capfd.readouterr()
    assert json.loads(out)["ok"] is False
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: cannot write the export")
    assert (tmp_path / "a-file").read_text() == "mine"


@pytest.mark.integration
def test_export_humanoid_stdout_is_one_document(capfd, tmp_path):
    args = [
        "--ppo",
        str(ROOT / "models/humanoid/ppo"),
        "--out",
        str(tmp_path),
        "--latency",
        "0",
        "--parity-inputs",
        "random",
        "--json",
    ]
    assert export_humanoid.main(args) == 0
    assert set(json.loads(capfd.readouterr().out)) == {"ppo"}
