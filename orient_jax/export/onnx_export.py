"""JAX models -> ``onnx.ModelProto`` with jax2onnx, shaped to the browser contract.

* ``export_pose``: the ``PoseNet`` in eval mode, ``input [N,3,224,224] -> output [N,4]``.
* ``export_policy``: the deterministic policy ``tanh(actor(normalize(obs)))``, observation
  normalization (mean, variance, clip) folded into the graph as constants,
  ``input [N,23] -> actions [N,3]``. Nothing samples: the Gaussian's log-std is not even
  part of the graph.

Both are exported at ``contract.MAX_OPSET`` (jax2onnx defaults to a newer opset than the
web runtime is known to run) and then cleaned: jax2onnx 0.17.1 writes intermediate
``value_info`` shapes of convolutions in NHWC where the graph computes NCHW, which makes
onnxruntime warn (``MergeShapeInfo``) and ``onnx.checker`` fail. The intermediate shapes
are dropped and re-inferred by ONNX's own strict shape inference.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import jax
import jax.numpy as jnp
import onnx
from jax2onnx import to_onnx
from onnx import shape_inference

from orient_jax.agents.ppo.networks import Networks, Params
from orient_jax.export import contract
from orient_jax.normalization import RunningStats
from orient_jax.spec import SPEC_VERSION
from orient_jax.vision.model import PoseNet

BATCH_DIM = "N"  # the symbolic batch dimension, as the contract writes it


def export_pose(model: PoseNet) -> onnx.ModelProto:
    """The pose CNN (call ``model.eval()`` first: batch statistics are then constants)."""
    c = contract.POSE
    with _quiet_exporter():
        proto = to_onnx(
            model,
            [(BATCH_DIM, *c.input.shape[1:])],
            model_name="orient_jax_pose",
            opset=contract.MAX_OPSET,
            input_names=[c.input.name],
            output_names=[c.output.name],
        )
    return finalize(proto, "pose", "pose CNN: ImageNet-normalized RGB NCHW -> unit quaternion (x,y,z,w), w >= 0")


def export_policy(networks: Networks, params: Params, normalizer: RunningStats) -> onnx.ModelProto:
    """The deterministic policy on raw observations (normalization folded in)."""
    c = contract.POLICY
    params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), params)
    normalizer = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), normalizer)

    def policy(obs: jax.Array) -> jax.Array:
        return networks.mean_action(params, normalizer.normalize(obs))

    with _quiet_exporter():
        proto = to_onnx(
            policy,
            [(BATCH_DIM, *c.input.shape[1:])],
            model_name="orient_jax_policy",
            opset=contract.MAX_OPSET,
            input_names=[c.input.name],
            output_names=[c.output.name],
        )
    return finalize(proto, "policy", "deterministic policy: raw observation -> tanh(actor(normalize(obs))) in [-1, 1]")


def finalize(proto: onnx.ModelProto, kind: str, doc: str) -> onnx.ModelProto:
    """Re-infer intermediate shapes and label the file (versions are left for the checker to judge)."""
    del proto.graph.value_info[:]
    proto = shape_inference.infer_shapes(proto, check_type=True, strict_mode=True, data_prop=True)
    proto.doc_string = doc
    del proto.metadata_props[:]
    for key, value in (("orient_jax.model", kind), ("orient_jax.spec_version", str(SPEC_VERSION))):
        proto.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def save_atomic(proto: onnx.ModelProto | bytes, path: str | Path) -> Path:
    """Write to a temporary name beside ``path`` and rename: never a half-written file."""
    path = Path(path)
    data = proto if isinstance(proto, bytes) else proto.SerializeToString()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """jax2onnx's serializer logs a warning per untyped helper value; they are noise here
    (the checker validates the result)."""
    logger = logging.getLogger("onnx_ir.serde")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
