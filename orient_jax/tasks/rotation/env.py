"""The re-orientation task in MJX, with the Brax ``Env`` API.

An object is dropped onto the floor from a random orientation. The policy applies a
body-frame torque (limited, ramped) and must turn the object so that its up axis (body
+Y) points along world +Y, and keep it still. Observations are built from a *noisy*
orientation, never from the true state. Everything physical comes from the task
profile it is given (``orient_jax.profiles``), and so does what the runtime's code does
(``runtime``): the observation builder (``observers``), the action map, the start
distribution, the frame of the kicks, the object (the marked box, or the runtime's own
mesh read from its folder: ``mesh``), its inertia, and whether the walls collide: the
scene MuJoCo is given (``scene``). This module only says how to simulate it.

Functions here act on a single environment; vmap them (or wrap with
``orient_jax.envs.wrappers``) for batches.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
from brax.envs import base
from mujoco import mjx

from orient_jax import quat
from orient_jax.core import sharding
from orient_jax.envs import noise as noise_lib
from orient_jax.profiles.spec import TaskSpec
from orient_jax.tasks.rotation import mesh as mesh_lib
from orient_jax.tasks.rotation import scene as scene_lib
from orient_jax.tasks.rotation.observers import make_observer

BOX_BODY = 1  # body index of the object in the model below (0 is the world)
Y_UP = (0.0, 1.0, 0.0)  # world up and the body's up axis, as this env models them


@dataclasses.dataclass(frozen=True)
class RotationEnvConfig:
    """Training-side choices; the task itself lives in the spec."""

    noise_deg: float = 5.0  # constant-angle observation noise (degrees)
    noise_model: str = ""  # path to a noise-model JSON; overrides noise_deg when set
    runtime_dir: str = ""  # the runtime's folder, for a profile whose object is its mesh (runtime.mesh)
    disturbances: bool = True
    domain_randomization: bool = True
    mass_scale: tuple[float, float] = (0.8, 1.25)  # inertia scales with mass
    friction_scale: tuple[float, float] = (0.6, 1.4)
    damping_scale: tuple[float, float] = (0.5, 2.0)
    torque_scale: tuple[float, float] = (0.85, 1.15)
    # Reward: cos(tilt) every step, plus bonuses for upright and upright-and-still,
    # minus a small action cost so the policy lets go once the box rests upright.
    upright_bonus: float = 1.0
    still_bonus: float = 1.0
    action_cost: float = 0.05

    def __post_init__(self):
        if self.noise_deg < 0:
            raise ValueError(f"env.noise_deg must be >= 0, got {self.noise_deg}")
        for name in ("mass_scale", "friction_scale", "damping_scale", "torque_scale"):
            lo, hi = getattr(self, name)
            if not (0 < lo <= hi):
                raise ValueError(f"env.{name} must satisfy 0 < low <= high, got {(lo, hi)}")


class RotationEnv(base.Env):
    """Brax-API MJX environment; ``reset(key) -> State``, ``step(state, action) -> State``."""

    def __init__(self, spec: TaskSpec, config: RotationEnvConfig = RotationEnvConfig(), mesh=None):
        """``mesh``: (vertices, triangles) for a mesh profile instead of the runtime's (tests)."""
        if tuple(spec.frames.body_up_axis) != Y_UP:
            raise ValueError(
                f"task profile {spec.name!r} makes body axis {spec.frames.body_up_axis} the up axis; this env "
                f"models a Y-up world with body +Y as the up axis"
            )
        if spec.action.size != 3:
            raise ValueError(f"task profile {spec.name!r} has {spec.action.size} actions; the env takes 3 torques")
        self.config = config
        self.spec = spec
        self.noise = noise_lib.load(config.noise_model) if config.noise_model else noise_lib.constant(config.noise_deg)
        self.observer = make_observer(spec, self.noise)
        try:  # the builder's parts must fit the profile's slots: trace it once (shapes only)
            jax.eval_shape(self.observer.reset, jax.ShapeDtypeStruct((4,), jnp.float32), jax.random.PRNGKey(0))
        except ValueError as e:
            raise ValueError(f"task profile {spec.name!r}, builder {spec.runtime.observation!r}: {e}") from None
        scene = scene_lib.build(spec, mesh_lib.object_vertices(spec, config.runtime_dir, mesh))
        self.mj_model, self._corners, self._world_inertia = scene.mj_model, scene.corners, scene.world_inertia
        self.mjx_model = mjx.put_model(self.mj_model, device=sharding.local_device())
        self._data0 = mjx.make_data(self.mjx_model, device=sharding.local_device())
        self._cos_max_tilt = math.cos(math.radians(spec.success.max_tilt_deg))
        order, signs = zip(*spec.runtime.action_map)
        self._action_order, self._action_signs = jnp.array(order), jnp.array(signs, jnp.float32)

    # -- Brax Env API ---------------------------------------------------------------
    @property
    def observation_size(self) -> int:
        return self.spec.observation.size

    @property
    def action_size(self) -> int:
        return self.spec.action.size

    @property
    def backend(self) -> str:
        return "mjx"

    def reset(self, rng: jax.Array) -> base.State:
        return self.reset_at(rng, self._random_start(jax.random.split(rng, 4)[0]))

    def reset_at(self, rng: jax.Array, q: jax.Array) -> base.State:
        """``reset``, dropping the object at orientation ``q`` (xyzw) instead of a random one."""
        _, key_params, key_noise, key_next = jax.random.split(rng, 4)
        qpos = jnp.concatenate([jnp.array([0.0, self.spec.physics.drop_height, 0.0]), quat.to_wxyz(q)])
        data = self._data0.replace(qpos=qpos)
        obs, memory = self.observer.reset(q, key_noise)
        info = {
            "rng": key_next,
            "time": jnp.zeros((), jnp.int32),
            "torque": jnp.zeros(3),
            **memory,
            "hold": jnp.zeros((), jnp.int32),
            "success": jnp.zeros((), jnp.bool_),
            "success_time": jnp.full((), -1.0, jnp.float32),
            "params": self._sample_params(key_params),
        }
        if self._world_inertia:  # fixed in the world at the drop, as cannon-es leaves it
            info["inertia_frame"] = q
            info["inertia_moments"] = scene_lib.world_aabb_inertia(self._corners, q, self.spec.physics.box_mass)
        zero = jnp.zeros(())
        metrics = {"cos_tilt": zero, "upright": zero, "success": zero}
        return base.State(data, obs, zero, zero, metrics, info)

    def step(self, state: base.State, action: jax.Array) -> base.State:
        info = state.info
        params = info["params"]
        action = jnp.clip(action, -1.0, 1.0)
        key_next, key_phys, key_noise = jax.random.split(info["rng"], 3)
        torque_axes = action[self._action_order] * self._action_signs  # the runtime's action -> body axes
        target = torque_axes * self.spec.actuation.max_torque * params["torque_scale"]
        inertia = (info["inertia_frame"], info["inertia_moments"]) if self._world_inertia else None
        data, torque = self._physics(state.pipeline_state, info["torque"], target, params, key_phys, inertia)

        q_true = quat.from_wxyz(data.qpos[3:7])
        omega = data.qvel[3:6]
        cos_tilt = quat.to_matrix(q_true)[1, 1]
        upright = cos_tilt >= self._cos_max_tilt
        still = jnp.linalg.norm(omega) < self.spec.success.max_angular_speed
        hold = jnp.where(upright & still, info["hold"] + 1, 0)
        time = info["time"] + 1
        newly = (hold >= self.spec.hold_steps) & (time <= self.spec.success_deadline_steps) & ~info["success"]
        success = info["success"] | newly
        # Time to upright: when the successful hold began.
        hold_start = (time - self.spec.hold_steps).astype(jnp.float32) * self.spec.physics.control_dt
        success_time = jnp.where(newly, hold_start, info["success_time"])

        memory = {k: info[k] for k in self.observer.memory_keys}
        obs, memory = self.observer.step(memory, action, q_true, key_noise)

        c = self.config
        reward = (
            cos_tilt
            + c.upright_bonus * upright
            + c.still_bonus * (upright & still)
            - c.action_cost * jnp.sum(action**2)
        )
        # A diverged simulation ends the episode; its numbers are not used.
        bad = ~(jnp.all(jnp.isfinite(data.qpos)) & jnp.all(jnp.isfinite(data.qvel)))
        obs = jnp.where(bad, 0.0, obs)
        reward = jnp.where(bad, 0.0, reward)
        info = {
            **info,
            "rng": key_next,
            "time": time,
            "torque": torque,
            **memory,
            "hold": hold,
            "success": success,
            "success_time": success_time,
        }
        metrics = {
            "cos_tilt": cos_tilt,
            "upright": upright.astype(jnp.float32),
            "success": success.astype(jnp.float32),
        }
        return state.replace(
            pipeline_state=data,
            obs=obs,
            reward=reward.astype(jnp.float32),
            done=bad.astype(jnp.float32),
            metrics=metrics,
            info=info,
        )

    # -- internals -------------------------------------------------------------------
    def _random_start(self, key: jax.Array) -> jax.Array:
        if self.spec.runtime.reset_rotation == "uniform":
            return quat.random_uniform(key)
        # physics.js:123-131: each axis component U[-0.5, 0.5], normalized; angle U[0, 2 pi).
        key_axis, key_angle = jax.random.split(key)
        axis = jax.random.uniform(key_axis, (3,), minval=-0.5, maxval=0.5)
        angle = jax.random.uniform(key_angle, maxval=2 * jnp.pi)
        return quat.from_axis_angle(axis / jnp.linalg.norm(axis), angle)

    def _sample_params(self, key: jax.Array) -> dict[str, jax.Array]:
        names = ("mass_scale", "friction_scale", "damping_scale", "torque_scale")
        if not self.config.domain_randomization:
            return {n: jnp.ones(()) for n in names}
        keys = jax.random.split(key, len(names))
        return {
            n: jax.random.uniform(k, minval=getattr(self.config, n)[0], maxval=getattr(self.config, n)[1])
            for n, k in zip(names, keys)
        }

    def _model(self, params: dict[str, jax.Array]) -> mjx.Model:
        m = self.mjx_model
        return m.replace(
            body_mass=m.body_mass * params["mass_scale"],
            body_inertia=m.body_inertia * params["mass_scale"],
            geom_friction=m.geom_friction * params["friction_scale"],
        )

    def _physics(self, data, torque, target, params, key, inertia=None):
        """``substeps`` physics steps at one control target. Returns (data, torque).
        ``inertia``: (frame quaternion, principal moments) of a world-fixed inertia."""
        p, act = self.spec.physics, self.spec.actuation
        model = self._model(params)
        lin = p.damping_factor(jnp.minimum(p.linear_damping * params["damping_scale"], 0.999))
        ang = p.damping_factor(jnp.minimum(p.angular_damping * params["damping_scale"], 0.999))
        vel_scale = jnp.concatenate([jnp.full(3, lin), jnp.full(3, ang)])

        def substep(carry, key):
            data, torque = carry
            torque = torque + act.torque_ramp * (target - torque)
            q = quat.from_wxyz(data.qpos[3:7])
            world_torque = quat.rotate(q, torque)
            if self.config.disturbances:
                key_hit, key_val = jax.random.split(key)
                hit = jax.random.uniform(key_hit) < act.disturbance_prob
                kick = jax.random.uniform(key_val, (3,), minval=-1.0, maxval=1.0) * act.disturbance_torque
                if self.spec.runtime.kick_frame == "body":
                    kick = quat.rotate(q, kick)
                world_torque = world_torque + jnp.where(hit, kick, 0.0)
            step_model = model
            if inertia is not None:
                step_model, bias = self._world_fixed(model, params, inertia, q, data.qvel[3:6])
                world_torque = world_torque + bias
            xfrc = data.xfrc_applied.at[BOX_BODY, 3:].set(world_torque)
            data = mjx.step(step_model, data.replace(xfrc_applied=xfrc))
            data = data.replace(qvel=data.qvel * vel_scale)
            return (data, torque), None

        keys = jax.random.split(key, p.substeps)
        (data, torque), _ = jax.lax.scan(substep, (data, torque), keys)
        return data, torque

    @staticmethod
    def _world_fixed(model, params, inertia, q, omega_body):
        """The model with the object's inertia turned back to its world-fixed frame for this
        step, and the torque that cancels MuJoCo's gyroscopic term w x (I w): cannon-es
        integrates w += dt I^-1 tau with that fixed I and has none."""
        frame, moments = inertia
        moments = moments * params["mass_scale"]
        iquat = quat.to_wxyz(quat.multiply(quat.conjugate(q), frame))  # the frame, seen from the body
        model = model.replace(
            body_inertia=model.body_inertia.at[BOX_BODY].set(moments),
            body_iquat=model.body_iquat.at[BOX_BODY].set(iquat),
        )
        rot = quat.to_matrix(frame)
        omega = quat.rotate(q, omega_body)  # MuJoCo's free joint keeps w in the body frame
        return model, jnp.cross(omega, rot @ (moments * (rot.T @ omega)))
