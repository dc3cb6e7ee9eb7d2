"""Humanoid policies (PPO or branching DQN) -> ONNX, ``obs [N,376] -> action [N,17]``.

The graph is the deterministic policy exactly as ``orient_jax.tasks.humanoid.run.load_policy``
returns it: observation normalization folded in as constants, then either
``0.4 * tanh(actor(obs))`` (PPO) or the arg-max bin of every Q head mapped to its
action value (DQN). Nothing samples; epsilon-greedy exploration is training-only.
"""

from __future__ import annotations

import numpy as np
import onnx
from jax2onnx import to_onnx

from orient_jax.export import contract
from orient_jax.export.onnx_export import BATCH_DIM, _quiet_exporter, finalize


def export_humanoid_policy(policy, algo: str) -> onnx.ModelProto:
    c = contract.HUMANOID[f"humanoid_{algo}"]
    with _quiet_exporter():
        proto = to_onnx(
            policy,
            [(BATCH_DIM, *c.input.shape[1:])],
            model_name=f"orient_jax_humanoid_{algo}",
            opset=contract.MAX_OPSET,
            input_names=[c.input.name],
            output_names=[c.output.name],
        )
    doc = f"Humanoid-v4 {algo.upper()} policy, deterministic: observation (376) -> motor controls in [-0.4, 0.4]^17"
    return finalize(proto, f"humanoid_{algo}", None, doc)


def parity(path, policy, observations: np.ndarray) -> dict:
    """Compare onnxruntime with JAX on ``observations`` [n, 376].

    For DQN an arg-max can flip between two nearly equal Q values under different
    float summation orders, so besides the largest difference this reports the
    fraction of actions that agree exactly."""
    import jax.numpy as jnp
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ours = np.asarray(policy(jnp.asarray(observations, jnp.float32)))
    theirs = session.run(["action"], {"obs": observations.astype(np.float32)})[0]
    diff = np.abs(ours - theirs)
    return {
        "n": int(observations.shape[0]),
        "max_abs_diff": float(diff.max()),
        "agree_1e-5": float(np.mean(np.all(diff <= 1e-5, axis=-1))),
    }
