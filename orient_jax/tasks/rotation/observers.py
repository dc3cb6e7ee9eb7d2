"""How a runtime's code turns the object's orientation into the policy's input.

A profile names its builder (``runtime.observation``); the env calls it once per control
step, before the policy acts. Each builder keeps its memory in the env state's ``info``
(its own keys) and sees the *true* orientation only through what the runtime would see:
the noise model stands for the pose CNN.

A builder computes the observation's *named parts* (slot name -> 1-D array) and ``pack``
lays them out by the profile's slot table (``Observation.slots``): that table is the one
place the layout is written. web/src/sim/observation.js does the same in the browser.

* ``CubeObserver`` (our web app, profile ``cube``): a fresh observed orientation every
  step, the 23 slots of ``orient_jax/profiles/cube.py``.
* ``PageObserver`` (the original page, profile ``original``): the pose model runs every
  ``pose_interval``-th step and its prediction is held in between (the ground truth until
  the first one); the quaternion is swizzled to the training frame, its z axis given
  twice, the "previous" quaternion is from two steps back, the "angular velocity" is the
  raw difference of successive held quaternions, and the actions come t-2 first
  (simulation.js:155-237, index.html:174). Every quirk is kept: it is what the page does.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from orient_jax import quat
from orient_jax.envs.noise import NoiseModel
from orient_jax.profiles.spec import Observation, TaskSpec

Array = jax.Array
IDENTITY = np.array([0.0, 0.0, 0.0, 1.0], np.float32)  # numpy: importing must not start a JAX backend


def pack(observation: Observation, parts: dict[str, Array]) -> Array:
    """The observation vector: each named part at its slot of ``observation.slots``.

    Raises ValueError naming the slots when the parts' names or sizes differ from the
    slots' (a missing part, an extra one, or one of the wrong size); each part must be a
    1-D array of its slot's size. The check runs on shapes, so it fires when a builder is
    traced (``jax.eval_shape``), before anything is computed."""
    sizes = {s.name: s.size for s in observation.slots}
    problems = [f"slot {n} is listed twice" for n in sizes if [s.name for s in observation.slots].count(n) > 1]
    if missing := [n for n in sizes if n not in parts]:
        problems.append(f"no part for slot(s) {', '.join(missing)}")
    if extra := [n for n in parts if n not in sizes]:
        problems.append(f"part(s) {', '.join(extra)} have no slot")
    problems += [f"part {n} has shape {tuple(jnp.shape(v))}, slot {n} holds {sizes[n]}"
                 for n, v in parts.items() if n in sizes and jnp.shape(v) != (sizes[n],)]  # fmt: skip
    if problems:
        raise ValueError(f"observation parts do not fit the slots [{', '.join(sizes)}]: {'; '.join(problems)}")
    return jnp.concatenate([parts[s.name] for s in sorted(observation.slots, key=lambda s: s.start)])


class CubeObserver:
    """Observed orientation q_t (noisy, w >= 0), body up in world, world up in body, the
    previous observed orientation, the body-rate estimate, the last two actions."""

    memory_keys = ("quat_obs", "actions")  # its entries of the env state's info

    def __init__(self, spec: TaskSpec, noise: NoiseModel):
        self.spec, self.noise = spec, noise

    def reset(self, q_true: Array, key: Array) -> tuple[Array, dict]:
        q_obs = quat.canonical(quat.multiply(self.noise.sample(key), q_true))
        actions = jnp.zeros((2, self.spec.action.size))
        return self.observe(q_obs, q_obs, actions), {"quat_obs": q_obs, "actions": actions}

    def step(self, memory: dict, action: Array, q_true: Array, key: Array) -> tuple[Array, dict]:
        """``action``: the one just taken; ``q_true``: the orientation after it."""
        q_obs = quat.canonical(quat.multiply(self.noise.sample(key), q_true))
        actions = jnp.stack([action, memory["actions"][0]])
        return self.observe(q_obs, memory["quat_obs"], actions), {"quat_obs": q_obs, "actions": actions}

    def observe(self, q_obs: Array, q_prev: Array, actions: Array) -> Array:
        """The observation from the observed orientation, the previous one and ``actions``
        [2, 3] = (t-1, t-2)."""
        return pack(self.spec.observation, self.parts(q_obs, q_prev, actions))

    def parts(self, q_obs: Array, q_prev: Array, actions: Array) -> dict[str, Array]:
        q_prev = quat.align_sign(q_prev, q_obs)
        rot = quat.to_matrix(q_obs)
        rel = quat.multiply(quat.conjugate(q_prev), q_obs)
        omega = quat.to_rotvec(rel) / self.spec.physics.control_dt
        omega = jnp.clip(omega / self.spec.observation.angular_velocity_scale, -1.0, 1.0)
        return {
            "quat": q_obs,
            "up_world": rot[:, 1],
            "world_up_in_body": rot[1, :],
            "prev_quat": q_prev,
            "angular_velocity": omega,
            "action_prev": actions[0],
            "action_prev2": actions[1],
        }


def swizzle(q: Array) -> Array:
    """The page's frame change for a quaternion (simulation.js:175-180): (x, y, z, w) -> (x, z, -y, w)."""
    return jnp.stack([q[..., 0], q[..., 2], -q[..., 1], q[..., 3]], axis=-1)


def swizzle_vector(v: Array) -> Array:
    """The same change for the xyz difference (simulation.js:201-205): (x, y, z) -> (x, z, -y)."""
    return jnp.stack([v[..., 0], v[..., 2], -v[..., 1]], axis=-1)


def z_axis(q: Array) -> Array:
    """physics.js:454-459 quaternionToZAxis: the third column of R(q), for q = (x, y, z, w)."""
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return jnp.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], axis=-1)


def page_parts(raw: Array, last_raw: Array, two_back: Array, actions: Array) -> dict[str, Array]:
    """The page's observation parts (simulation.js:208-216) from the held quaternion ``raw``
    (cannon frame, x y z w), the last step's ``last_raw``, the swizzled quaternion of two
    policy steps back, and ``actions`` [2, 3] = (t-2, t-1)."""
    train = swizzle(raw)
    axis = z_axis(train)
    return {
        "quat": train,
        "z_axis": axis,
        "z_axis_again": axis,
        "prev_quat": two_back,
        "angular_velocity": swizzle_vector(raw[:3] - last_raw[:3]),
        "action_prev2": actions[0],
        "action_prev": actions[1],
    }


class PageObserver:
    """The original page's builder. Memory: ``frame`` (the page's frameCount), the held
    prediction and whether one exists yet, the last step's quaternion, the swizzled
    quaternions of the last two steps (oldest first) and the last two actions (oldest first)."""

    memory_keys = ("frame", "held", "has_pred", "raw", "last_raw", "history", "actions", "first")

    def __init__(self, spec: TaskSpec, noise: NoiseModel):
        self.spec, self.noise = spec, noise
        self.interval = spec.runtime.pose_interval

    def reset(self, q_true: Array, key: Array) -> tuple[Array, dict]:
        return self.observe(self.initial_memory(), q_true, self._predict(q_true, key))

    def step(self, memory: dict, action: Array, q_true: Array, key: Array) -> tuple[Array, dict]:
        return self.observe(self.advance(memory, action), q_true, self._predict(q_true, key))

    def initial_memory(self) -> dict:
        """A page load: no frame counted, no prediction yet (simulation.js:25-32, 160-166)."""
        identity = jnp.asarray(IDENTITY)
        return {
            "frame": jnp.zeros((), jnp.int32),
            "held": identity,
            "has_pred": jnp.zeros((), jnp.bool_),
            "raw": identity,
            "last_raw": identity,
            "history": jnp.stack([identity, identity]),
            "actions": jnp.zeros((2, self.spec.action.size)),
            "first": jnp.ones((), jnp.bool_),  # no step has passed: the velocity slot is zero
        }

    def advance(self, memory: dict, action: Array) -> dict:
        """After the policy acted on the last observation, the page shifts its histories
        (simulation.js:227-233)."""
        raw = memory["raw"]
        return {
            **memory,
            "history": jnp.stack([memory["history"][1], swizzle(raw)]),
            "actions": jnp.stack([memory["actions"][1], action]),
            "last_raw": raw,
            "first": jnp.zeros((), jnp.bool_),
        }

    def _predict(self, q_true: Array, key: Array) -> Array:
        """What the pose model would say: the noise model's error, the sign ours gives (w >= 0)."""
        return quat.canonical(quat.multiply(self.noise.sample(key), q_true))

    def observe(self, memory: dict, q_true: Array, predicted: Array) -> tuple[Array, dict]:
        """One step of the page: count the frame, take ``predicted`` if the pose model runs
        now, and build the observation."""
        frame = memory["frame"] + 1  # simulation.js:96 this.frameCount++
        infer = frame % self.interval == 0  # simulation.js:106
        held = jnp.where(infer, predicted, memory["held"])
        has_pred = memory["has_pred"] | infer
        # simulation.js:160-166: the held prediction, else the (canonical) ground truth.
        raw = jnp.where(has_pred, held, quat.canonical(q_true))
        last_raw = jnp.where(memory["first"], raw, memory["last_raw"])  # simulation.js:194
        obs = pack(self.spec.observation, page_parts(raw, last_raw, memory["history"][0], memory["actions"]))
        return obs, {**memory, "frame": frame, "held": held, "has_pred": has_pred, "raw": raw}


OBSERVERS = {"cube": CubeObserver, "original_page": PageObserver}


def make_observer(spec: TaskSpec, noise: NoiseModel):
    return OBSERVERS[spec.runtime.observation](spec, noise)
