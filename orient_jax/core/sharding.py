"""Data-parallel layout: environments are split over all devices, parameters replicated.

The mesh spans ``jax.devices()``, which after ``jax.distributed.initialize()`` includes
every host's devices, so the same code runs on one CPU, one GPU, several local
devices (test with ``XLA_FLAGS=--xla_force_host_platform_device_count=2``) or many hosts.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

ENV_AXIS = "env"


def local_device() -> jax.Device:
    """This process's first device. MJX's ``put_model``/``make_data`` default to
    ``jax.devices()[0]``, which in a run of several processes belongs to process 0, so
    every other process must name its own."""
    return jax.local_devices()[0]


def make_mesh() -> Mesh:
    return Mesh(np.asarray(jax.devices()), (ENV_AXIS,))


def check_divisible(num_envs: int, mesh: Mesh) -> None:
    n = mesh.devices.size
    if num_envs % n:
        raise ValueError(f"num_envs={num_envs} must be divisible by the number of devices ({n})")


def env_sharding(mesh: Mesh, leading_axes: int = 0) -> NamedSharding:
    """Shard the env axis, which follows ``leading_axes`` unsharded axes (e.g. time)."""
    return NamedSharding(mesh, PartitionSpec(*([None] * leading_axes), ENV_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def constrain(tree, sharding: NamedSharding):
    return jax.tree.map(lambda x: jax.lax.with_sharding_constraint(x, sharding), tree)
