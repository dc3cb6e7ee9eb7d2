import dataclasses
import importlib
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

from experiments.configs.rotation import PRESETS
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.core import dataclass_config as config_lib
from orient_jax.core import runs
from orient_jax.tasks.rotation.config import RotationExperiment


@pytest.mark.unit
@pytest.mark.parametrize("name", PRESETS.names())
def test_every_preset_can_be_created_and_round_trips(name):
    exp = PRESETS.get(name)
    assert exp.ppo.num_updates >= 1
    assert config_lib.from_dict(RotationExperiment, config_lib.to_dict(exp)) == exp


@pytest.mark.unit
def test_overrides_are_typed():
    exp = config_lib.apply_overrides(
        PRESETS.get("cpu"),
        ["ppo.learning_rate=1e-3", "env.disturbances=false", "ppo.hidden_sizes=64,64", "seed=7", "env.noise_deg=3"],
    )
    assert exp.ppo.learning_rate == 1e-3 and exp.env.disturbances is False
    assert exp.ppo.hidden_sizes == (64, 64) and exp.seed == 7 and exp.env.noise_deg == 3.0
    assert config_lib.apply_overrides(PRESETS.get("cpu"), ["ppo.num_envs=1e3"]).ppo.num_envs == 1000  # whole


@pytest.mark.unit
def test_one_strict_rule_for_every_config_render_too():
    from render import config as render_config

    with pytest.raises(ValueError, match=r"config.count: cannot read '2.5' as a whole number"):
        render_config.apply_overrides(render_config.get_preset("tiny"), ["count=2.5"])
    with pytest.raises(ValueError, match="cannot read 'nan' as a finite number"):
        render_config.apply_overrides(render_config.get_preset("tiny"), ["dr.blur_prob=nan"])
    # JSON values are held to the same rule as text, and a field may opt in to non-finite values.
    with pytest.raises(ValueError, match=r"config.n: cannot read 2.5 as a whole number"):
        config_lib.from_dict(Loose, {"n": 2.5})
    with pytest.raises(ValueError, match=r"config.n: cannot read True as a whole number"):
        config_lib.from_dict(Loose, {"n": True})
    assert config_lib.from_dict(Loose, {"n": 3.0, "cap": "inf"}) == Loose(n=3, cap=float("inf"))
    with pytest.raises(ValueError, match="config.x: cannot read 'nan' as a finite number"):
        config_lib.from_dict(Loose, {"x": "nan"})


@dataclasses.dataclass(frozen=True)
class Loose:
    n: int = 0
    x: float = 0.0
    cap: float = dataclasses.field(default=1.0, metadata={"non_finite": True})


@pytest.mark.unit
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["ppo.num_minibatches=7"], "not divisible by ppo.num_minibatches=7"),
        (["ppo.lerning_rate=1"], "unknown key 'lerning_rate'"),
        (["ppo=hello"], r"'ppo' is a config section, not a value; set its keys: ppo.anneal_lr, "),
        (["ppo.num_envs=abc"], "cannot read 'abc' as a whole number"),
        (["ppo.num_envs=1.5"], r"ppo.num_envs: cannot read '1.5' as a whole number"),
        (["ppo.num_envs=1e3.5"], "cannot read '1e3.5' as a whole number"),
        (["ppo.num_envs=inf"], "cannot read 'inf' as a whole number"),
        (["ppo.learning_rate=nan"], r"ppo.learning_rate: cannot read 'nan' as a finite number"),
        (["ppo.clip_eps=inf"], "cannot read 'inf' as a finite number"),
        (["ppo.clip_eps=-Infinity"], "cannot read '-Infinity' as a finite number"),
        (["env.torque_scale=1.2,0.8"], "torque_scale"),
        (["noequals"], "key=value"),
        (["ppo.total_env_steps=10"], "less than one update"),
    ],
)
def test_bad_overrides_fail_clearly(overrides, message):
    with pytest.raises(ValueError, match=message):
        config_lib.apply_overrides(PRESETS.get("cpu"), overrides)


@pytest.mark.unit
def test_the_task_profile_is_chosen_by_name():
    assert PRESETS.get("cpu").spec.name == "cube"
    assert config_lib.apply_overrides(PRESETS.get("cpu"), ["task=test_box"]).spec.name == "test_box"
    with pytest.raises(ValueError, match="unknown task profile 'nope'; choose one of cube, original, test_box"):
        config_lib.apply_overrides(PRESETS.get("cpu"), ["task=nope"])


@pytest.mark.unit
def test_overrides_of_the_unused_algorithm_section_are_refused():
    from experiments.configs.humanoid import PRESETS as HUMANOID

    humanoid_preset = HUMANOID.get

    with pytest.raises(ValueError, match=r"override 'dqn.bins=7': the 'dqn' section is not used here \(algo is 'ppo'"):
        config_lib.apply_overrides(humanoid_preset("ppo200"), ["dqn.bins=7"])
    with pytest.raises(ValueError, match="the 'ppo' section is not used here"):
        config_lib.apply_overrides(humanoid_preset("seed003"), ["seed=1", "ppo.learning_rate=1e-3"])
    switched = config_lib.apply_overrides(humanoid_preset("ppo200"), ["algo=dqn", "dqn.bins=7"])
    assert (switched.algo, switched.dqn.bins) == ("dqn", 7)


@pytest.mark.unit
def test_unknown_preset_fails_clearly():
    names = "cpu, demo, gpu, original_cpu, original_test, test"
    with pytest.raises(ValueError, match=f"unknown rotation preset 'nope'; choose from {names}"):
        PRESETS.get("nope")


@pytest.mark.unit
def test_the_memory_bound_counts_every_env_state_and_the_rollout_observations():
    from orient_jax import profiles
    from orient_jax.agents.ppo import memory
    from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig

    env = RotationEnv(profiles.get("cube"), RotationEnvConfig())
    state = jax.eval_shape(env.reset, jax.ShapeDtypeStruct((2,), jnp.uint32))
    per_env = memory.state_bytes(state) + 10 * memory.state_bytes(state.obs)
    assert memory.state_bytes(state.obs) == 4 * state.obs.shape[-1] > 0
    assert memory.lower_bound(env, PPOConfig(num_envs=64, rollout_length=10, total_env_steps=640)) == 64 * per_env
    too_many = (10 * memory.device_bytes(jax.local_devices()[0]) // per_env) // 8 * 8  # a batch the minibatches divide
    with pytest.raises(ValueError, match=rf"ppo.num_envs={too_many} needs at least .* GiB per device .* than the"):
        memory.check_fits(env, PPOConfig(num_envs=too_many, rollout_length=10, total_env_steps=10**15))
    memory.check_fits(env, PPOConfig(num_envs=64, rollout_length=10, total_env_steps=640))


@pytest.mark.unit
def test_batch_divisibility_is_checked_up_front():
    with pytest.raises(ValueError, match="not divisible"):
        PPOConfig(num_envs=10, rollout_length=3, num_minibatches=4)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "nope"], "unknown rotation preset 'nope'"),
        (["--config", "cpu", "ppo.num_minibatches=7"], "not divisible"),
        (["--config", "test", "ppo.num_envs=1.5"], "ppo.num_envs: cannot read '1.5' as a whole number"),
        (["--config", "test", "ppo.learning_rate=nan"], "ppo.learning_rate: cannot read 'nan' as a finite number"),
        (["--config", "test", "env.noise_model=/nonexistent.json"], "noise model /nonexistent.json not found"),
        (["--config", "gpu"], "preset 'gpu' is sized for a GPU, but JAX runs on the CPU here"),
        (["--config", "test", "--coordinator", "127.0.0.1:1"], "missing --num-processes, --process-id"),
        (["--config", "test", "seed=1e30"], "seed must be a whole number in [0, 4294967295], got 1"),
        (["--config", "test", "seed=-1"], "seed must be a whole number in [0, 4294967295], got -1"),
        (
            ["--config", "test", "ppo.num_envs=50000000", "ppo.total_env_steps=1e12"],
            "ppo.num_envs=50000000 needs at least",
        ),
    ],
)
def test_train_script_reports_bad_config(root, args, message, tmp_path):
    """One `error:` line, exit 2, and no run directory: inputs are read before one is made."""
    runs_root = tmp_path / "runs"
    out = subprocess.run(
        [sys.executable, "-m", "experiments.train_rotation", "--runs-root", str(runs_root), *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()] and out.stderr.startswith("error: ")
    assert message in out.stderr
    assert not runs_root.exists()
    assert out.stdout == ""


@pytest.mark.unit
@pytest.mark.parametrize("script", ["train_rotation", "train_vision", "train_humanoid"])
def test_help_lists_every_preset_in_the_registry(script, capsys):
    module = importlib.import_module(f"experiments.{script}")
    registry = importlib.import_module(f"experiments.configs.{script.removeprefix('train_')}").PRESETS
    with pytest.raises(SystemExit):
        module.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    assert "presets: " + ", ".join(registry.names()) in text


@pytest.mark.unit
def test_test_presets_are_registered_by_the_tests_not_the_product():
    """The product tables hold no test preset: a process without the tests' plugin lists none."""
    code = (
        "from experiments.configs import humanoid, rotation, vision; "
        "print(rotation.PRESETS.names(), vision.PRESETS.names(), humanoid.PRESETS.names())"
    )
    env = {k: v for k, v in os.environ.items() if k != "ORIENT_JAX_PRESET_MODULES"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "test" not in out.stdout and "'cpu'" in out.stdout
    assert "test" in PRESETS.names()  # registered here by tests/presets.py


@pytest.mark.unit
def test_a_preset_name_is_registered_once_and_gpu_marks_are_checked():
    from experiments.configs import Presets

    presets = Presets("demo", {"a": dict}, gpu={"a"})
    assert presets.gpu == {"a"} and presets.get("a") == {}
    with pytest.raises(ValueError, match="a demo preset named 'a' exists already"):
        presets.register("a", dict)
    with pytest.raises(ValueError, match=r"marked gpu but not defined: \['b'\]"):
        Presets("demo", {"a": dict}, gpu={"b"})


@pytest.mark.unit
@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        ([], 2, "error: name the run kind first"),
        (["--config", "cpu"], 2, "error: name the run kind first"),
        (["walker"], 2, "error: unknown run kind 'walker'; choose from rotation, vision, humanoid"),
    ],
)
def test_the_train_command_names_its_kinds(argv, status, message, capsys):
    from experiments import train

    assert train.main(argv) == status
    assert message in capsys.readouterr().err


@pytest.mark.unit
def test_a_bad_plugin_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("ORIENT_JAX_PRESET_MODULES", "tests.presets,no_such_module_here")
    with pytest.raises(ValueError, match="ORIENT_JAX_PRESET_MODULES names 'no_such_module_here', which cannot be"):
        PRESETS.get("cpu")


@pytest.mark.integration
def test_resuming_with_another_preset_is_refused_not_ignored(tmp_path, capsys):
    """A run directory keeps the preset it was started from: --config naming another is one
    error line, and the run is untouched; its own name, or none, resumes it."""
    from experiments import train

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(runs.config_record(PRESETS.get("test"), "test")))
    before = (run / "config.json").read_bytes()
    assert train.main(["rotation", "--run", str(run), "--config", "cpu", "--stop-after", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "was started from preset 'test', not 'cpu'" in err
    assert (run / "config.json").read_bytes() == before and sorted(p.name for p in run.iterdir()) == ["config.json"]
