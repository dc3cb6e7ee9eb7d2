"""Orbax checkpoints holding everything an exact resume needs.

A checkpoint stores the whole training state pytree (params, optimizer state,
normalizer, env state, RNG key, step) plus the resolved config as JSON. Restoring
needs a target of the same structure (a freshly initialised state).

Leaves are stored flat, by position: MJX data holds zero-size arrays (no actuators),
which Orbax refuses to write, so those are taken from the target on restore.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from orient_jax.core import stages


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be restored."""


def _first_line(e: BaseException) -> str:
    """An exception in one line of at most 300 characters (Orbax's can run to 199 lines)."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text[:300]}"


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
        if jax.process_index() == 0:
            _write_sums(self.directory / str(step))

    def restore(self, target: Any, step: int | None = None) -> tuple[Any, dict]:
        """Restore into the structure (and shardings) of ``target``. The step's files are
        checked against the sha256 recorded when it was saved first: a damaged step is a
        ``CheckpointError`` before TensorStore reads it (its error path for a truncated
        file can hang while cancelling the other reads)."""
        step = self.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f"no checkpoint in {self.directory}")
        _verify_sums(self.directory / str(step), step)
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, _flat(target))
        try:
            out = self.manager.restore(
                step,
                args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract), config=ocp.args.JsonRestore()),
            )
        except Exception as e:  # orbax raises several types for a damaged directory
            raise CheckpointError(
                f"checkpoint {step} in {self.directory} could not be restored: {_first_line(e)}"
            ) from e
        leaves, treedef = jax.tree.flatten(target)
        restored = [_like(out.state.get(_name(i), leaf), leaf) for i, leaf in enumerate(leaves)]
        return jax.tree.unflatten(treedef, restored), out.config

    def saved_config(self, step: int) -> dict | None:
        """The config saved with ``step`` (its small JSON item alone; no array is read), or
        None where it cannot be read (``restore`` then decides what the step is worth)."""
        try:
            return self.manager.restore(step, args=ocp.args.Composite(config=ocp.args.JsonRestore())).config
        except Exception:  # noqa: BLE001  (orbax raises several types for a damaged directory)
            return None

    def restore_latest_good(self, target: Any, warn=print) -> tuple[Any, dict, int] | None:
        """Restore the newest step that restores (None: there is no checkpoint). A step that
        fails is moved aside to ``checkpoints.broken/`` (renamed, never deleted), with a
        one-line warning, and the one before it is tried; if none restores, the error
        lists every step tried and where it went."""
        tried = []
        for step in sorted(self.manager.all_steps(), reverse=True):
            try:
                state, config = self.restore(target, step)
                return state, config, step
            except CheckpointError as e:
                # Several processes see the same folder: none renames it under the others.
                moved = self._move_aside(step) if jax.process_count() == 1 else "nowhere (a run of several processes)"
                why = _first_line(e.__cause__) if e.__cause__ is not None else str(e)
                tried.append(f"{step} ({why}; moved to {moved})")
                warn(f"warning: checkpoint {step} in {self.directory} does not restore; moved it to {moved}")
        if tried:
            raise CheckpointError(
                f"no checkpoint in {self.directory} restores; tried {'; '.join(tried)}. Start a new run, "
                "or put a good step folder back"
            )
        return None

    def _move_aside(self, step: int) -> Path:
        broken = self.directory.parent / f"{self.directory.name}.broken"
        broken.mkdir(exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        destination = broken / f"{step}-{stamp}"
        (self.directory / str(step)).rename(destination)
        self.manager.reload()
        return destination

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


SUMS = "sha256sums.json"  # written into each step's folder once Orbax has finished it


def _hashes(step_dir: Path) -> dict[str, str]:
    """sha256 of every file of a step, keyed by its path in the step (the sums file aside)."""
    return stages.hash_paths(step_dir, sorted(p.name for p in step_dir.iterdir() if not p.name.startswith(SUMS)))


def _write_sums(step_dir: Path) -> None:
    sums = _hashes(step_dir)
    tmp = step_dir / (SUMS + ".tmp")
    tmp.write_text(json.dumps(sums, indent=1, sort_keys=True) + "\n")
    tmp.replace(step_dir / SUMS)


def _verify_sums(step_dir: Path, step: int) -> None:
    """Raise CheckpointError naming the first file that is missing or changed since the
    save. A step saved before sums were recorded (no file) is left to Orbax."""
    try:
        recorded = json.loads((step_dir / SUMS).read_text())
    except FileNotFoundError:
        return
    except (OSError, ValueError) as e:
        raise CheckpointError(f"checkpoint {step} in {step_dir.parent}: its {SUMS} is unreadable ({e})") from None
    present = _hashes(step_dir)
    for name, digest in recorded.items():
        if name not in present:
            raise CheckpointError(f"checkpoint {step} in {step_dir.parent} is damaged: {name} is missing")
        if present[name] != digest:
            raise CheckpointError(
                f"checkpoint {step} in {step_dir.parent} is damaged: {name} differs from what was saved"
            )


def _name(i: int) -> str:
    return f"leaf_{i:05d}"


def _flat(tree: Any) -> dict[str, Any]:
    return {_name(i): x for i, x in enumerate(jax.tree.leaves(tree)) if x.size}
