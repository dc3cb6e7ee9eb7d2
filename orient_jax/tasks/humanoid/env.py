"""Gymnasium's Humanoid-v4, in MJX, with the Brax ``Env`` API.

The model is Gymnasium's ``humanoid.xml``. We do not vendor that file: we load the
humanoid that ships with Brax (a runtime dependency) and undo Brax's edits to it
with ``mujoco.MjSpec`` (every geom collides again with margin 1 mm and frictionless
body-body contacts, the two hip-knee tendons come back, RK4 at 3 ms, 50 solver
iterations). ``tests/test_humanoid.py`` compares the compiled model field by field
with the one Gymnasium loads, and steps both side by side.

One difference is forced: MJX has no PGS solver, so the constraint problem is solved
with Newton. Both solve the same convex problem; the parity test states how far the
two land apart.

The task follows ``gymnasium/envs/mujoco/humanoid_v4.py`` line for line:

* observation (376): ``qpos[2:]``, ``qvel``, ``cinert``, ``cvel``,
  ``qfrc_actuator``, ``cfrc_ext``, all bodies including the world;
* action: 17 motor controls in [-0.4, 0.4] (MuJoCo clamps; the cost uses the raw
  action, as Gymnasium's does);
* reward: ``1.25 * vx + 5 - 0.1 * |a|^2``, where ``vx`` is the centre-of-mass
  velocity over the 5 frames of one step (``dt = 0.015``). v4 has no contact cost in
  its reward; ``contact_cost_weight`` (0 here; v5 uses 5e-4) subtracts
  ``min(weight * |cfrc_ext|^2, 10)``, and ``|cfrc_ext|^2`` is logged either way;
* termination when the torso height leaves (1.0, 2.0); reset noise U(+-0.01) on
  ``qpos`` and ``qvel``. The 1000-step time limit is the wrapper's job
  (``orient_jax.envs.wrappers``).

``physics`` trades fidelity for speed (``PHYSICS``; docs/humanoid.md measures each):

* ``"gymnasium"``: the model above, for parity;
* ``"lean"``: Gymnasium's model tuned the way MJX's own training models are: Euler,
  one Newton iteration with at most four line-search steps, and only the feet touch
  the floor (2 candidate contacts instead of 138). For training at scale;
* ``"lean4"``: ``lean`` with 4 Newton iterations of up to 8 line-search steps;
* ``"floor4"``: ``lean4`` with every body part touching the floor (29 contacts);
* ``"fast"``: Brax's copy of the bodies (no hip-knee tendons) with Euler, 4 Newton
  iterations and every body part touching the floor; the physics of the CPU presets
  trained before ``lean`` existed, kept so their runs stay reproducible;
* ``"native"``: not MJX at all: Gymnasium's model and solver, stepped by native MuJoCo
  on the host (``orient_jax.tasks.humanoid.native``), exactly as Gymnasium steps it.
  The branching DQN trains on it (``orient_jax.agents.dqn.host``); this class refuses it.

A policy trained on any of them is scored on Gymnasium's own environment with
``python -m experiments.evaluate humanoid --gymnasium``.

``impl`` chooses who steps the model: ``"jax"`` (MJX's XLA code, any backend) or
``"warp"`` (MuJoCo Warp through MJX, with ``warp-lang``; CUDA GPUs, and the CPU through
Warp's LLVM back end). The model is the same either way; Warp's solver is Newton too and
it computes ``cfrc_ext`` after the solver (``run_rne_postconstraint``). Warp allocates its
contacts and constraint rows up front: ``worlds`` (the batch the env will run) times
``warp_contacts`` contacts, and ``warp_constraints`` rows per world
(``tests/test_humanoid.py`` checks both against Gymnasium).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import brax
import jax
import jax.numpy as jnp
import mujoco
from brax.envs import base
from mujoco import mjx

from orient_jax.core import sharding

BRAX_HUMANOID_XML = Path(brax.__file__).parent / "envs" / "assets" / "humanoid.xml"
ACTION_LIMIT = 0.4
OBS_SIZE = 376
ACTION_SIZE = 17  # the motors of Gymnasium's humanoid.xml
PHYSICS = ("gymnasium", "lean", "lean4", "floor4", "fast", "native")
NATIVE = "native"  # Gymnasium's model stepped by native MuJoCo on the host (``native.py``), not by MJX
IMPLS = ("jax", "warp")
FEET = ("left_foot", "right_foot")


@dataclasses.dataclass(frozen=True)
class Solver:
    """The knobs a physics variant turns on Gymnasium's model (see ``tuned_model``)."""

    integrator: str = "euler"  # "euler" or "rk4"
    iterations: int = 1  # Newton iterations
    ls_iterations: int = 4  # line-search steps per Newton iteration
    contacts: str = "feet"  # "all" geom pairs, every body part with the "floor", or only the "feet"


# The variants that are Gymnasium's model with other solver settings (see ``tuned_model``).
TUNED = {
    "lean": Solver(),
    "lean4": Solver(iterations=4, ls_iterations=8),  # lean with fast's solver budget
    "floor4": Solver(iterations=4, ls_iterations=8, contacts="floor"),  # and every body part on the floor
}


@dataclasses.dataclass(frozen=True)
class HumanoidConfig:
    forward_reward_weight: float = 1.25
    ctrl_cost_weight: float = 0.1
    healthy_reward: float = 5.0
    healthy_z: tuple[float, float] = (1.0, 2.0)
    reset_noise_scale: float = 1e-2
    frame_skip: int = 5
    contact_cost_weight: float = 0.0  # v4: none in the reward
    contact_cost_max: float = 10.0
    physics: str = "gymnasium"
    impl: str = "jax"  # "jax" | "warp": who steps the model (module doc)
    warp_contacts: int = 64  # warp: contacts allocated per world
    warp_constraints: int = 320  # warp: constraint rows per world (a floor contact takes 4)

    def __post_init__(self):
        if self.physics not in PHYSICS:
            raise ValueError(f"env.physics must be one of {PHYSICS}, got {self.physics!r}")
        if self.impl not in IMPLS:
            raise ValueError(f"env.impl must be one of {IMPLS}, got {self.impl!r}")
        if self.warp_contacts < 1 or self.warp_constraints < 1:
            raise ValueError("env.warp_contacts and env.warp_constraints must be >= 1")
        lo, hi = self.healthy_z
        if not lo < hi:
            raise ValueError(f"env.healthy_z must be (low, high) with low < high, got {self.healthy_z}")
        if self.frame_skip < 1:
            raise ValueError(f"env.frame_skip must be >= 1, got {self.frame_skip}")
        if self.reset_noise_scale < 0 or self.contact_cost_weight < 0:
            raise ValueError("env.reset_noise_scale and env.contact_cost_weight must be >= 0")


def gymnasium_model() -> mujoco.MjModel:
    """Gymnasium's Humanoid-v4 model (PGS solver, as Gymnasium runs it natively)."""
    spec = mujoco.MjSpec.from_file(str(BRAX_HUMANOID_XML))
    for numeric in list(spec.numerics):  # Brax's own solver settings; inert in MuJoCo
        spec.delete(numeric)
    for geom in spec.geoms:
        geom.contype = 1
        geom.conaffinity = 1
        geom.margin = 0.001
        geom.condim = 3 if geom.name == "floor" else 1
    for side in ("left", "right"):
        tendon = spec.add_tendon(name=f"{side}_hipknee")
        tendon.wrap_joint(f"{side}_hip_y", -1.0)
        tendon.wrap_joint(f"{side}_knee", 1.0)
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_RK4
    spec.option.solver = mujoco.mjtSolver.mjSOL_PGS
    spec.option.iterations = 50
    spec.option.timestep = 0.003
    return spec.compile()


def mjx_model(physics: str = "gymnasium") -> mujoco.MjModel:
    """The model MJX simulates: Gymnasium's, with Newton for PGS ("fast": see module doc)."""
    if physics == "gymnasium":
        model = gymnasium_model()
        model.opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
        return model
    if physics in TUNED:
        return tuned_model(TUNED[physics])
    if physics == "fast":
        spec = mujoco.MjSpec.from_file(str(BRAX_HUMANOID_XML))
        model = _fast_spec(spec).compile()
        return model
    raise ValueError(f"physics must be one of {PHYSICS}, got {physics!r}")


def check_impl(impl: str) -> None:
    """Raise ValueError, with the fix, where ``impl`` cannot run here."""
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
    if impl == "warp":
        try:
            import warp  # noqa: F401
        except ImportError:
            raise ValueError("impl 'warp' needs warp-lang, which is not installed here (make setup)") from None


def put_physics(mj_model: mujoco.MjModel, impl: str = "jax", worlds: int = 1, config: HumanoidConfig | None = None):
    """``mj_model`` on the device for ``impl``, and its data at rest: (mjx.Model, mjx.Data).

    Under ``"warp"`` the data holds room for ``worlds`` worlds' contacts, and the model
    computes ``cfrc_ext`` after the solver, as ``mjx.rne_postconstraint`` does under ``"jax"``.
    """
    check_impl(impl)
    config = config or HumanoidConfig()
    device = sharding.local_device()
    if impl == "jax":
        return mjx.put_model(mj_model, device=device), mjx.put_data(mj_model, mujoco.MjData(mj_model), device=device)
    import warp

    warp.config.log_level = warp.LOG_WARNING  # no banner, no line per kernel module loaded
    model = mjx.put_model(mj_model, device=device, impl="warp")
    model = model.replace(opt=model.opt.replace(_impl=model.opt._impl.replace(run_rne_postconstraint=True)))
    data = mjx.put_data(mj_model, mujoco.MjData(mj_model), device=device, impl="warp",
                        naconmax=worlds * config.warp_contacts, njmax=config.warp_constraints)  # fmt: skip
    return model, data


def _warp_shared_fields() -> frozenset[str]:
    """The fields of MJX's Warp data that all worlds share (contacts, counters)."""
    from mujoco.mjx.warp import types as warp_types

    return frozenset(name for name, batched in warp_types._BATCH_DIM["Data"].items() if not batched)


def tuned_model(solver: Solver) -> mujoco.MjModel:
    """Gymnasium's model (bodies, tendons, margins, friction) with ``solver``'s settings.

    The contact filter uses ``contype``/``conaffinity``, which MJX reads once when the
    model is put on the device: geom pairs that cannot touch cost nothing per step.
    """
    if solver.integrator not in ("euler", "rk4") or solver.contacts not in ("all", "floor", "feet"):
        raise ValueError(f"unknown solver settings {solver}")
    if solver.iterations < 1 or solver.ls_iterations < 1:
        raise ValueError(f"iterations and ls_iterations must be >= 1, got {solver}")
    model = gymnasium_model()
    for g in range(model.ngeom):
        name = model.geom(g).name
        if name == "floor":
            continue
        touches = solver.contacts != "feet" or name in FEET
        model.geom_contype[g] = 1 if touches else 0
        model.geom_conaffinity[g] = 1 if solver.contacts == "all" else 0
    rk4 = solver.integrator == "rk4"
    model.opt.integrator = mujoco.mjtIntegrator.mjINT_RK4 if rk4 else mujoco.mjtIntegrator.mjINT_EULER
    model.opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
    model.opt.iterations = solver.iterations
    model.opt.ls_iterations = solver.ls_iterations
    return model


def _fast_spec(spec: mujoco.MjSpec) -> mujoco.MjSpec:
    """Same bodies and actuators; body parts touch only the floor."""
    for geom in spec.geoms:
        geom.contype = 1
        geom.conaffinity = 1 if geom.name == "floor" else 0
        geom.margin = 0.001
        geom.condim = 3 if geom.name == "floor" else 1
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_EULER
    spec.option.solver = mujoco.mjtSolver.mjSOL_NEWTON
    spec.option.iterations = 4
    spec.option.ls_iterations = 8
    spec.option.timestep = 0.003
    return spec


class HumanoidEnv(base.Env):
    def __init__(
        self, config: HumanoidConfig = HumanoidConfig(), mj_model: mujoco.MjModel | None = None, worlds: int = 1
    ):
        """``mj_model`` replaces ``config.physics``'s model (to measure a candidate ``tuned_model``);
        ``worlds``: how many envs will run batched (``impl="warp"`` allocates contacts for them)."""
        if config.physics == NATIVE:
            raise ValueError(
                "env.physics='native' is stepped by native MuJoCo on the host, not by MJX: only algo=dqn trains on it"
            )
        self.config = config
        self.mj_model = mjx_model(config.physics) if mj_model is None else mj_model
        self.model, self._data0 = put_physics(self.mj_model, config.impl, worlds, config)
        self._body_mass = jnp.asarray(self.mj_model.body_mass, jnp.float32)
        self.dt = config.frame_skip * float(self.mj_model.opt.timestep)

    # -- Brax Env API ---------------------------------------------------------------
    @property
    def observation_size(self) -> int:
        return OBS_SIZE

    @property
    def action_size(self) -> int:
        return self.mj_model.nu

    @property
    def backend(self) -> str:
        return "mjx"

    def reset(self, rng: jax.Array) -> base.State:
        key_qpos, key_qvel = jax.random.split(rng)
        s = self.config.reset_noise_scale
        qpos = self._data0.qpos + jax.random.uniform(key_qpos, self._data0.qpos.shape, minval=-s, maxval=s)
        qvel = jax.random.uniform(key_qvel, self._data0.qvel.shape, minval=-s, maxval=s)
        return self.reset_to(qpos, qvel)

    def reset_to(self, qpos: jax.Array, qvel: jax.Array) -> base.State:
        """The state Gymnasium's ``set_state(qpos, qvel)`` gives (no contact forces yet)."""
        data = mjx.forward(self.model, self._data0.replace(qpos=qpos, qvel=qvel))
        # MJX writes the normalized free-joint quaternion back; MuJoCo C keeps qpos as given
        # until the first integration step, and Gymnasium observes it so.
        data = data.replace(qpos=qpos)
        zero = jnp.zeros(())
        names = ("forward_reward", "ctrl_cost", "contact_force_sq", "x_velocity", "height", "blew_up")
        metrics = {k: zero for k in names}
        return base.State(data, self._observe(data), zero, zero, metrics, {})

    def step(self, state: base.State, action: jax.Array) -> base.State:
        c = self.config
        data = state.pipeline_state
        before = self._mass_center(data)

        def frame(data, _):
            return mjx.step(self.model, data), None

        data, _ = jax.lax.scan(frame, data.replace(ctrl=action), None, length=c.frame_skip)
        if c.impl == "jax":  # warp's step computes it (put_physics)
            data = mjx.rne_postconstraint(self.model, data)
        velocity = (self._mass_center(data) - before) / self.dt
        forward = c.forward_reward_weight * velocity[0]
        ctrl_cost = c.ctrl_cost_weight * jnp.sum(jnp.square(action))
        contact_force_sq = jnp.sum(jnp.square(data._impl.cfrc_ext))
        contact_cost = jnp.minimum(c.contact_cost_weight * contact_force_sq, c.contact_cost_max)
        height = data.qpos[2]
        lo, hi = c.healthy_z
        healthy = (height > lo) & (height < hi)
        reward = forward + c.healthy_reward - ctrl_cost - contact_cost
        # A cheap solver can blow up (NaN or inf) where Gymnasium's would not. Such a step
        # ends the episode with a zero reward and a zero observation, so nothing
        # non-finite reaches the learner (a NaN times a zero mask is still NaN).
        finite = jnp.isfinite(data.qpos).all() & jnp.isfinite(data.qvel).all()
        obs = self._observe(data)
        finite = finite & jnp.isfinite(obs).all()
        metrics = {
            "forward_reward": forward,
            "ctrl_cost": ctrl_cost,
            "contact_force_sq": contact_force_sq,
            "x_velocity": velocity[0],
            "height": height,
        }
        metrics = {k: jnp.where(finite, v, 0.0) for k, v in metrics.items()}
        metrics["blew_up"] = 1.0 - finite.astype(jnp.float32)
        return state.replace(
            pipeline_state=data,
            obs=jnp.where(finite, obs, 0.0),
            reward=jnp.where(finite, reward, 0.0),
            done=1.0 - (healthy & finite).astype(jnp.float32),
            metrics=metrics,
        )

    def select(self, done: jax.Array, fresh: mjx.Data, nxt: mjx.Data) -> mjx.Data:
        """One env's auto-reset choice: ``fresh`` where ``done``, else ``nxt``
        (``orient_jax.envs.wrappers.EpisodeAutoReset`` asks for it).

        Under ``"warp"`` the contact buffers are shared by all worlds (not one per env) and
        rebuilt by every step's collision pass: they stay ``nxt``'s. A per-env choice would
        give them a batch axis that Warp's batching rule cannot take.
        """
        if self.config.impl == "jax":
            return jax.tree.map(lambda a, b: jnp.where(done, a, b), fresh, nxt)
        shared = _warp_shared_fields()

        def pick(path, a, b):
            name = "__".join(k.name for k in path if isinstance(k, jax.tree_util.GetAttrKey) and k.name != "_impl")
            return b if name in shared else jnp.where(done, a, b)

        return jax.tree_util.tree_map_with_path(pick, fresh, nxt)

    # -- pieces ---------------------------------------------------------------------
    def _mass_center(self, data: mjx.Data) -> jax.Array:
        return (self._body_mass @ data.xipos / self._body_mass.sum())[:2]

    def _observe(self, data: mjx.Data) -> jax.Array:
        return jnp.concatenate(
            [
                data.qpos[2:],
                data.qvel,
                data._impl.cinert.ravel(),  # MJX keeps these two in the implementation part
                data.cvel.ravel(),
                data.qfrc_actuator,
                data._impl.cfrc_ext.ravel(),
            ]
        )
