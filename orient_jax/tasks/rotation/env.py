"""The re-orientation task in MJX, with the Brax ``Env`` API.

An object is dropped onto the floor from a random orientation. The policy applies a
body-frame torque (limited, ramped) and must turn the object so that its up axis (body
+Y) points along world +Y, and keep it still. Observations are built from a *noisy*
orientation, never from the true state. Everything physical comes from the task
profile it is given (``orient_jax.profiles``), and so does what the runtime's code does
(``runtime``): the observation builder (``observers``), the action map, the start
distribution, the frame of the kicks, the object (the marked box, or the runtime's own
mesh read from its folder: ``mesh``), its inertia, and whether the walls collide. This
module only says how to simulate it.

Functions here act on a single environment; vmap them (or wrap with
``orient_jax.envs.wrappers``) for batches.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from brax.envs import base
from mujoco import mjx

from orient_jax import quat
from orient_jax.core import sharding
from orient_jax.envs import noise as noise_lib
from orient_jax.profiles.spec import TaskSpec
from orient_jax.tasks.rotation import mesh as mesh_lib
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


# A mesh object collides through small spheres at this many of its convex-hull vertices
# (farthest-point sampled, starting from the lowest). That is the runtime's own model:
# cannon-es collides a Trimesh with the floor vertex by vertex (planeTrimesh). MJX's
# mesh-plane collision on the original's 303-vertex hull launched or sank dropped bodies
# (resting heights 0.12 m to 4.2 m where MuJoCo C gives 0.62-0.80 m); spheres at 64
# hull vertices rest within 0.02 m of MuJoCo C's full hull, in MJX and MuJoCo C alike.
MESH_CONTACT_POINTS = 64
CONTACT_RADIUS = 0.005  # m


def contact_points(vertices: np.ndarray, n: int = MESH_CONTACT_POINTS) -> np.ndarray:
    """``n`` of the convex hull's vertices [n, 3], spread out (farthest-point sampling)."""
    from scipy.spatial import ConvexHull

    hull = np.asarray(vertices, np.float64)[ConvexHull(vertices).vertices]
    chosen = [int(np.argmin(hull[:, 1]))]
    distance = np.linalg.norm(hull - hull[chosen[0]], axis=1)
    for _ in range(min(n, len(hull)) - 1):
        chosen.append(int(np.argmax(distance)))
        distance = np.minimum(distance, np.linalg.norm(hull - hull[chosen[-1]], axis=1))
    return hull[chosen]


def aabb_corners(spec: TaskSpec, vertices: np.ndarray | None = None) -> np.ndarray:
    """The 8 corners [8, 3] of the object's body-frame bounding box: the mesh's
    ``vertices`` when given, else the profile's box."""
    if vertices is None:
        h = spec.physics.box_size / 2
        lo, hi = np.full(3, -h), np.full(3, h)
    else:
        lo, hi = np.min(vertices, axis=0), np.max(vertices, axis=0)
    return np.array([[(lo, hi)[(i >> k) & 1][k] for k in range(3)] for i in range(8)], np.float64)


def world_aabb_inertia(corners, q, mass):
    """Principal moments [3] that cannon-es's Body.updateMassProperties gives a body with
    these local AABB ``corners`` at orientation ``q`` (xyzw): the inertia of a solid box
    with the half extents of the corners' world-aligned bounding box (Box.calculateInertia).
    cannon-es then uses them about the body's axes at ``q`` (the INERTIA_MODELS note)."""
    world = jax.vmap(lambda c: quat.rotate(q, c))(jnp.asarray(corners, jnp.float32))
    h2 = ((jnp.max(world, axis=0) - jnp.min(world, axis=0)) / 2) ** 2
    return mass / 3.0 * jnp.stack([h2[1] + h2[2], h2[0] + h2[2], h2[0] + h2[1]])


# The inertia frame a world-fixed inertia is compiled with: any turn that is not the
# identity. MuJoCo drops the off-diagonal entries of the mass matrix of a body whose
# inertia frame is its joint's (a "simple" body: M_colind leaves them out), so a body
# compiled aligned would keep a diagonal M when its frame is turned at run time.
UNALIGNED_IQUAT = "0.8 0.4 0.4 0.2"


def build_mjcf(spec: TaskSpec, points: np.ndarray | None = None, inertia=None) -> str:
    """The scene as MJCF, in the spec's Y-up world frame. ``points``: for a profile whose
    object is a mesh, where on the body it touches the world (``contact_points``); else
    the object is the profile's box. ``inertia``: principal moments [3], in a frame that
    the env turns every step (the world-fixed inertia); default: the profile's box,
    isotropic and fixed in the body."""
    p, r = spec.physics, spec.runtime
    h = p.box_size / 2
    a = p.arena_half_width
    ixx, iyy, izz = (p.inertia,) * 3 if inertia is None else (float(i) for i in inertia)
    frame = "" if inertia is None else f' quat="{UNALIGNED_IQUAT}"'
    walls = "\n".join(
        f'    <geom name="wall_{n}" type="plane" size="{a} {p.wall_height} 0.1" pos="{x} 0 {z}" zaxis="{nx} 0 {nz}"/>'
        for n, x, z, nx, nz in (("px", a, 0, -1, 0), ("nx", -a, 0, 1, 0), ("pz", 0, a, 0, -1), ("nz", 0, -a, 0, 1))
    )
    if points is None:
        shape = f'<geom name="box" type="box" size="{h} {h} {h}" mass="0"/>'
    else:
        shape = "\n      ".join(
            f'<geom name="contact_{i}" type="sphere" size="{CONTACT_RADIUS}" pos="{x:.7g} {y:.7g} {z:.7g}" mass="0"/>'
            for i, (x, y, z) in enumerate(np.asarray(points, np.float64))
        )
    return f"""<mujoco model="orient_{spec.name}">
  <option timestep="{p.timestep}" gravity="0 {-p.gravity} 0" iterations="{p.solver_iterations}"
          ls_iterations="{p.solver_ls_iterations}">
    <flag eulerdamp="disable"/>
  </option>
  <custom><numeric name="max_contact_points" data="8"/></custom>
  <default><geom friction="{p.friction} 0.005 0.0001"/></default>
  <worldbody>
    <geom name="floor" type="plane" size="{a} {a} 0.1" zaxis="0 1 0"/>
{walls if r.walls_collide else ""}
    <body name="object" pos="0 {p.drop_height} 0">
      <freejoint name="object"/>
      <inertial pos="0 0 0" mass="{p.box_mass}" diaginertia="{ixx} {iyy} {izz}"{frame}/>
      {shape}
    </body>
  </worldbody>
</mujoco>
"""


def object_vertices(spec: TaskSpec, config: RotationEnvConfig, mesh=None) -> np.ndarray | None:
    """The vertices of the profile's mesh (None for a box): ``mesh`` (vertices, triangles)
    when given (tests), else read from ``config.runtime_dir``."""
    if not spec.runtime.mesh:
        return None
    vertices, _ = mesh if mesh is not None else mesh_lib.runtime_mesh(spec.runtime.mesh, config.runtime_dir)
    return np.asarray(vertices, np.float64)


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
        vertices = object_vertices(spec, config, mesh)
        points = None if vertices is None else contact_points(vertices)
        self._world_inertia = spec.runtime.inertia == "world_aabb_at_drop"
        self._corners = aabb_corners(spec, vertices)
        # With a world-fixed inertia the model's moments are replaced every step; it is
        # built with those at the identity, so the solver's constants (dof_invweight0)
        # have the right scale.
        inertia = (
            np.asarray(world_aabb_inertia(self._corners, jnp.array([0.0, 0.0, 0.0, 1.0]), spec.physics.box_mass))
            if self._world_inertia
            else None
        )
        self.mj_model = mujoco.MjModel.from_xml_string(build_mjcf(spec, points, inertia))
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
            info["inertia_moments"] = world_aabb_inertia(self._corners, q, self.spec.physics.box_mass)
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
