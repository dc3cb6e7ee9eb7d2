"""Training with envs sharded over two forced CPU devices."""

import json
import os
import subprocess
import sys

import pytest

from orient_jax.core import launch

pytestmark = pytest.mark.integration

SCRIPT = r"""
import json
import jax, numpy as np
from experiments.configs.rotation import PRESETS
from orient_jax.tasks.rotation import run as rotation_run
assert jax.device_count() == 2, jax.devices()
trainer = rotation_run.build_trainer(PRESETS.get("test"))
state = trainer.init(jax.random.PRNGKey(0))
obs = state.env_state.obs
shards_before = [s.data.shape for s in obs.addressable_shards]
for _ in range(2):
    state, metrics = trainer.update(state)
out = {
    "devices": len(state.env_state.obs.sharding.device_set),
    "shards_before": shards_before,
    "shards_after": [s.data.shape for s in state.env_state.obs.addressable_shards],
    "params_devices": len(jax.tree.leaves(state.params)[0].sharding.device_set),
    "finite": bool(all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(state.params))),
    "step": int(state.update_step),
    "reward": float(metrics["reward"]),
}
print("RESULT " + json.dumps(out))
"""


def test_training_shards_envs_over_two_devices(root):
    env = {**os.environ, "XLA_FLAGS": launch.with_cpu_flags("--xla_force_host_platform_device_count=2")}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(s for s in out.stdout.splitlines() if s.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    assert result["devices"] == 2
    assert result["shards_before"] == [[8, 23], [8, 23]]  # 16 envs split 8 + 8
    assert result["shards_after"] == [[8, 23], [8, 23]]
    assert result["params_devices"] == 2  # replicated
    assert result["finite"] and result["step"] == 2
