"""Whether a PPO config can fit on the device at all, checked before a run directory exists.

A ``ppo.num_envs`` far beyond the device (say 50M envs on a laptop) used to abort inside
XLA's allocator (exit 134) with the run directory already claimed. ``check_fits`` compares
a lower bound on what one PPO update holds with the device's memory and refuses the config
in one ``ValueError`` that names both figures and the knobs that lower the first.

The bound counts only what no implementation can avoid: every env's state, and the
rollout's observations (``rollout_length`` steps of every env). The real need is larger
(actions, values, the networks' activations, XLA's temporaries), so a config that passes
may still run out; one that fails cannot run.
"""

from __future__ import annotations

import os

import jax

from orient_jax.agents.ppo.config import PPOConfig

GIB = 2**30


def state_bytes(tree) -> int:
    return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(tree))


def lower_bound(env, config: PPOConfig) -> int:
    """Bytes a PPO update on ``env`` (one unbatched env) holds at least, over all devices."""
    state = jax.eval_shape(env.reset, jax.ShapeDtypeStruct((2,), jax.numpy.uint32))
    per_env = state_bytes(state) + config.rollout_length * state_bytes(state.obs)
    return config.num_envs * per_env


def device_bytes(device: jax.Device) -> int | None:
    """The memory one device of this process can hold: its allocator's limit on an
    accelerator, the machine's physical memory on the CPU; None when neither is known."""
    try:
        stats = device.memory_stats()
    except (AttributeError, RuntimeError):  # no allocator statistics on this backend
        stats = None
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"])
    if device.platform == "cpu":
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError):
            return None
    return None


def check_fits(env, config: PPOConfig, copies: int = 1) -> None:
    """Refuse ``config`` when ``copies`` of its envs (one per seed trained at once) cannot fit."""
    device = jax.local_devices()[0]  # memory is asked of a device this process owns
    limit = device_bytes(device)
    if limit is None:
        return
    count = jax.device_count()  # the envs are split over every device of every process
    need = copies * lower_bound(env, config) / count
    if need > limit:
        where = f"{count} x {device.device_kind}" if count > 1 else device.device_kind
        times, or_seeds = (f" x {copies} seeds", " (or seeds)") if copies > 1 else ("", "")
        raise ValueError(
            f"ppo.num_envs={config.num_envs}{times} needs at least {need / GIB:,.1f} GiB per device (every env's "
            f"state and a {config.rollout_length}-step rollout of observations), more than the "
            f"{limit / GIB:,.1f} GiB of {where}; lower ppo.num_envs or ppo.rollout_length{or_seeds}"
        )
