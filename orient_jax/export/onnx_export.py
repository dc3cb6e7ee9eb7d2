"""JAX models -> ``onnx.ModelProto`` with jax2onnx, shaped to the browser contract.

* ``export_pose``: the ``PoseNet`` in eval mode, ``input [N,3,R,R] -> output [N,4]`` (names
  and R from the task profile).
* ``export_policy``: the deterministic policy ``tanh(actor(normalize(obs)))``, observation
  normalization (mean, variance, clip) folded into the graph as constants,
  ``input [N,obs] -> actions [N,act]``. Nothing samples: the Gaussian's log-std is not
  even part of the graph.

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

from orient_jax.agents.normalization import RunningStats
from orient_jax.agents.ppo.networks import Networks, Params
from orient_jax.export import contract
from orient_jax.profiles.spec import SPEC_VERSION, TaskSpec
from orient_jax.vision.model import PoseNet

BATCH_DIM = "N"  # the symbolic batch dimension, as the contract writes it


def export_pose(model: PoseNet, spec: TaskSpec) -> onnx.ModelProto:
    """The pose CNN for ``spec``'s contract (call ``model.eval()`` first: batch statistics
    are then constants)."""
    c = contract.pose_contract(spec)
    if model.image_size != c.input.shape[-1]:
        raise ValueError(
            f"the pose model takes {model.image_size}-pixel images; task profile {spec.name!r} renders "
            f"{c.input.shape[-1]} (export a model trained for it)"
        )
    with _quiet_exporter():
        proto = to_onnx(
            model,
            [(BATCH_DIM, *c.input.shape[1:])],
            model_name="orient_jax_pose",
            opset=contract.MAX_OPSET,
            input_names=[c.input.name],
            output_names=[c.output.name],
        )
    return finalize(proto, "pose", spec, "pose CNN: ImageNet-normalized RGB NCHW -> unit quaternion (x,y,z,w), w >= 0")


def export_policy(networks: Networks, params: Params, normalizer: RunningStats, spec: TaskSpec) -> onnx.ModelProto:
    """The deterministic policy on raw observations (normalization folded in), for ``spec``'s contract."""
    c = contract.policy_contract(spec)
    if (networks.obs_size, networks.action_size) != (c.input.shape[1], c.output.shape[1]):
        raise ValueError(
            f"the policy maps {networks.obs_size} observations to {networks.action_size} actions; task profile "
            f"{spec.name!r} has {c.input.shape[1]} and {c.output.shape[1]}"
        )
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
    return finalize(
        proto, "policy", spec, "deterministic policy: raw observation -> tanh(actor(normalize(obs))) in [-1, 1]"
    )


def finalize(proto: onnx.ModelProto, kind: str, spec: TaskSpec | None, doc: str) -> onnx.ModelProto:
    """Re-infer intermediate shapes and label the file with its kind and task profile
    (versions are left for the checker to judge)."""
    del proto.graph.value_info[:]
    proto = shape_inference.infer_shapes(proto, check_type=True, strict_mode=True, data_prop=True)
    proto.doc_string = doc
    del proto.metadata_props[:]
    labels = [("orient_jax.model", kind)]
    if spec is not None:
        labels += [("orient_jax.spec_version", str(SPEC_VERSION)), ("orient_jax.task", spec.name)]
    for key, value in labels:
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
