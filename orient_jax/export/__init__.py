"""Export: the pose CNN and the policy to ONNX files that keep the browser contract.

* ``contract``    what a shipped file must be, and the checker that says why one is not;
* ``onnx_export`` JAX model -> ``onnx.ModelProto`` with jax2onnx (clean shapes, pinned opset);
* ``parity``      ONNX versus JAX on random and rendered inputs;
* ``latency``     batch-1 onnxruntime latency;
* ``pipeline``    the export command: load, export, check, compare, write atomically, manifest.
"""
