"""Orbax checkpoints holding everything an exact resume needs.

A checkpoint stores the whole training state pytree (params, optimizer state,
normalizer, env state, RNG key, step) plus the resolved config as JSON. Restoring
needs a target of the same structure (a freshly initialised state).

Leaves are stored flat, by position: MJX data holds zero-size arrays (no actuators),
which Orbax refuses to write, so those are taken from the target on restore.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp


class Checkpoints:
    def __init__(self, directory: str | Path, keep: int = 2):
        self.directory = Path(directory).resolve()
        options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True, enable_async_checkpointing=False)
        self.manager = ocp.CheckpointManager(self.directory, options=options, item_names=("state", "config"))

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(self, step: int, state: Any, config: dict) -> None:
        self.manager.save(
            step,
            args=ocp.args.Composite(state=ocp.args.StandardSave(_flat(state)), config=ocp.args.JsonSave(config)),
            force=True,
        )
        self.manager.wait_until_finished()

    def restore(self, target: Any, step: int | None = None) -> tuple[Any, dict]:
        """Restore into the structure (and shardings) of ``target``."""
        step = self.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f"no checkpoint in {self.directory}")
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, _flat(target))
        try:
            out = self.manager.restore(
                step,
                args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract), config=ocp.args.JsonRestore()),
            )
        except Exception as e:  # orbax raises several types for a damaged directory
            raise RuntimeError(
                f"checkpoint {step} in {self.directory} could not be restored ({type(e).__name__}: {e}); "
                "delete that step's folder to fall back to the previous checkpoint"
            ) from e
        leaves, treedef = jax.tree.flatten(target)
        restored = [_like(out.state.get(_name(i), leaf), leaf) for i, leaf in enumerate(leaves)]
        return jax.tree.unflatten(treedef, restored), out.config

    def close(self) -> None:
        self.manager.close()


def _like(restored: Any, target: Any) -> Any:
    """``restored`` placed as ``target`` is. Orbax returns arrays committed to a device;
    a fresh state's single-device arrays are uncommitted, and jit keys its executables on
    that, so without this every resume compiled the training step a second time (80 s for
    the tiny Humanoid DQN on the CPU, minutes for the Humanoid on a GPU)."""
    if isinstance(target, jax.Array) and not getattr(target, "_committed", True):
        return jnp.asarray(np.asarray(restored))  # uncommitted, on the default device
    return restored


def _name(i: int) -> str:
    return f"leaf_{i:05d}"


def _flat(tree: Any) -> dict[str, Any]:
    return {_name(i): x for i, x in enumerate(jax.tree.leaves(tree)) if x.size}
