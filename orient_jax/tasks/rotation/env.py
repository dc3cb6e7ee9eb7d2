"""The re-orientation task in MJX, with the Brax ``Env`` API.

A box is dropped onto the floor from a uniformly random orientation. The policy
applies a body-frame torque (limited, ramped) and must turn the box so that its up
axis (body +Y) points along world +Y, and keep it still. Observations are built from
a *noisy* orientation, never from the true state. Everything physical comes from the
task profile it is given (``orient_jax.profiles``); this module only says how to
simulate it.

Functions here act on a single environment; vmap them (or wrap with
``orient_jax.envs.wrappers``) for batches.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import mujoco
from brax.envs import base
from mujoco import mjx

from orient_jax import quat
from orient_jax.envs import noise as noise_lib
from orient_jax.profiles.spec import TaskSpec

BOX_BODY = 1  # body index of the box in the model below (0 is the world)
Y_UP = (0.0, 1.0, 0.0)  # world up and the body's up axis, as this env models them
# The observation ``_observe`` builds: (slot name, start, size). A profile must lay its
# slots out so; one that differs needs its own observation code, not a silent mismatch.
OBSERVATION_LAYOUT = (
    ("quat", 0, 4), ("up_world", 4, 3), ("world_up_in_body", 7, 3), ("prev_quat", 10, 4),
    ("angular_velocity", 14, 3), ("action_prev", 17, 3), ("action_prev2", 20, 3),
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class RotationEnvConfig:
    """Training-side choices; the task itself lives in the spec."""

    noise_deg: float = 5.0  # constant-angle observation noise (degrees)
    noise_model: str = ""  # path to a noise-model JSON; overrides noise_deg when set
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


def build_mjcf(spec: TaskSpec) -> str:
    """The scene as MJCF, in the spec's Y-up world frame."""
    p = spec.physics
    h = p.box_size / 2
    a = p.arena_half_width
    inertia = p.inertia
    walls = "\n".join(
        f'    <geom name="wall_{n}" type="plane" size="{a} {p.wall_height} 0.1" pos="{x} 0 {z}" zaxis="{nx} 0 {nz}"/>'
        for n, x, z, nx, nz in (("px", a, 0, -1, 0), ("nx", -a, 0, 1, 0), ("pz", 0, a, 0, -1), ("nz", 0, -a, 0, 1))
    )
    return f"""<mujoco model="orient_box">
  <option timestep="{p.timestep}" gravity="0 {-p.gravity} 0" iterations="{p.solver_iterations}"
          ls_iterations="{p.solver_ls_iterations}">
    <flag eulerdamp="disable"/>
  </option>
  <custom><numeric name="max_contact_points" data="8"/></custom>
  <default><geom friction="{p.friction} 0.005 0.0001"/></default>
  <worldbody>
    <geom name="floor" type="plane" size="{a} {a} 0.1" zaxis="0 1 0"/>
{walls}
    <body name="box" pos="0 {p.drop_height} 0">
      <freejoint name="box"/>
      <inertial pos="0 0 0" mass="{p.box_mass}" diaginertia="{inertia} {inertia} {inertia}"/>
      <geom name="box" type="box" size="{h} {h} {h}" mass="0"/>
    </body>
  </worldbody>
</mujoco>
"""


class RotationEnv(base.Env):
    """Brax-API MJX environment; ``reset(key) -> State``, ``step(state, action) -> State``."""

    def __init__(self, spec: TaskSpec, config: RotationEnvConfig = RotationEnvConfig()):
        if tuple(spec.frames.body_up_axis) != Y_UP:
            raise ValueError(
                f"task profile {spec.name!r} makes body axis {spec.frames.body_up_axis} the up axis; this env "
                f"models a Y-up world with body +Y as the up axis"
            )
        layout = tuple((s.name, s.start, s.size) for s in spec.observation.slots)
        if layout != OBSERVATION_LAYOUT or spec.action.size != 3:
            raise ValueError(
                f"task profile {spec.name!r} has observation slots {layout} and {spec.action.size} actions; this "
                f"env builds {OBSERVATION_LAYOUT} and takes 3 torque actions"
            )
        self.config = config
        self.spec = spec
        self.mj_model = mujoco.MjModel.from_xml_string(build_mjcf(spec))
        self.mjx_model = mjx.put_model(self.mj_model)
        self._data0 = mjx.make_data(self.mjx_model)
        self.noise = noise_lib.load(config.noise_model) if config.noise_model else noise_lib.constant(config.noise_deg)
        self._cos_max_tilt = math.cos(math.radians(spec.success.max_tilt_deg))

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
        key_quat, key_params, key_noise, key_next = jax.random.split(rng, 4)
        q = quat.random_uniform(key_quat)
        qpos = jnp.concatenate([jnp.array([0.0, self.spec.physics.drop_height, 0.0]), quat.to_wxyz(q)])
        data = self._data0.replace(qpos=qpos)
        q_obs = quat.canonical(quat.multiply(self.noise.sample(key_noise), q))
        actions = jnp.zeros((2, self.action_size))
        info = {
            "rng": key_next,
            "time": jnp.zeros((), jnp.int32),
            "torque": jnp.zeros(3),
            "quat_obs": q_obs,
            "actions": actions,
            "hold": jnp.zeros((), jnp.int32),
            "success": jnp.zeros((), jnp.bool_),
            "success_time": jnp.full((), -1.0, jnp.float32),
            "params": self._sample_params(key_params),
        }
        obs = self._observe(q_obs, q_obs, actions)
        zero = jnp.zeros(())
        metrics = {"cos_tilt": zero, "upright": zero, "success": zero}
        return base.State(data, obs, zero, zero, metrics, info)

    def step(self, state: base.State, action: jax.Array) -> base.State:
        info = state.info
        params = info["params"]
        action = jnp.clip(action, -1.0, 1.0)
        key_next, key_phys, key_noise = jax.random.split(info["rng"], 3)
        target = action * self.spec.actuation.max_torque * params["torque_scale"]
        data, torque = self._physics(state.pipeline_state, info["torque"], target, params, key_phys)

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

        q_obs = quat.canonical(quat.multiply(self.noise.sample(key_noise), q_true))
        actions = jnp.stack([action, info["actions"][0]])
        obs = self._observe(q_obs, info["quat_obs"], actions)

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
            "quat_obs": q_obs,
            "actions": actions,
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

    def _physics(self, data, torque, target, params, key):
        """``substeps`` physics steps at one control target. Returns (data, torque)."""
        p, act = self.spec.physics, self.spec.actuation
        model = self._model(params)
        dt = p.timestep
        lin = (1.0 - jnp.minimum(p.linear_damping * params["damping_scale"], 0.999)) ** dt
        ang = (1.0 - jnp.minimum(p.angular_damping * params["damping_scale"], 0.999)) ** dt
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
                world_torque = world_torque + jnp.where(hit, kick, 0.0)
            xfrc = data.xfrc_applied.at[BOX_BODY, 3:].set(world_torque)
            data = mjx.step(model, data.replace(xfrc_applied=xfrc))
            data = data.replace(qvel=data.qvel * vel_scale)
            return (data, torque), None

        keys = jax.random.split(key, p.substeps)
        (data, torque), _ = jax.lax.scan(substep, (data, torque), keys)
        return data, torque

    def _observe(self, q_obs: jax.Array, q_prev: jax.Array, actions: jax.Array) -> jax.Array:
        """The observation, laid out as ``OBSERVATION_LAYOUT`` (see the profile's ``observation``)."""
        o = self.spec.observation
        q_prev = quat.align_sign(q_prev, q_obs)
        rot = quat.to_matrix(q_obs)
        rel = quat.multiply(quat.conjugate(q_prev), q_obs)
        omega = quat.to_rotvec(rel) / self.spec.physics.control_dt
        omega = jnp.clip(omega / o.angular_velocity_scale, -1.0, 1.0)
        return jnp.concatenate([q_obs, rot[:, 1], rot[1, :], q_prev, omega, actions[0], actions[1]])
