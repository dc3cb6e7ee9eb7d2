"""The re-orientation task contract as a type: ``TaskSpec`` and its sections.

A *profile* (``orient_jax.profiles.cube``, ...) is one value of this type, chosen by
name. Everything that the physics, the renderer, the CNN, the exported ONNX files and
a browser runtime must agree on is a field here; every module downstream takes the
``TaskSpec`` it works for as an argument and never redefines these constants.

The sections have no defaults: a profile states every fact of its task.

``to_dict`` is what a browser reads (``task.json``): every section but ``name``,
``artifacts`` (how this pipeline names and places its outputs) and ``runtime`` (what the
runtime's own code does, which no file can tell it: the pipeline reproduces it).

Conventions shared by every section:

* Quaternions are (x, y, z, w) at every boundary (ONNX, JSON, browser) and rotate
  body-frame vectors into the world frame: ``v_world = q * v_body * conj(q)``. MuJoCo's
  internal (w, x, y, z) order appears only inside ``orient_jax.quat`` conversions.
* ``frames`` says, in words and vectors, which world and body frames the profile uses.

Standard library only: the render venv (numpy < 2, no JAX) imports it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

SPEC_VERSION = 1  # the format version of task.json
OBJECT_KINDS = ("marked_cube", "runtime_mesh")  # the procedural cube, or the runtime's own mesh
OBSERVATION_BUILDERS = ("cube", "original_page")  # how a runtime's code builds the policy input
RESET_ROTATIONS = ("uniform", "axis_angle")
FRAMES_OF_KICKS = ("world", "body")
# "body": the physics' inertia, fixed in the body and turning with it (rigid-body
# mechanics; what cannon-es does for a box whose inertia is set and then
# updateInertiaWorld(true)). "world_aabb_at_drop": cannon-es's result when a runtime sets
# an isotropic inverse inertia by hand after the body is built: the world-frame inverse
# inertia keeps the value Body.updateMassProperties gave it at construction (the box
# inertia of the object's world AABB at its drop orientation, turned by that orientation)
# and is never updated again, since Body.updateInertiaWorld skips isotropic bodies.
INERTIA_MODELS = ("body", "world_aabb_at_drop")


@dataclasses.dataclass(frozen=True)
class Physics:
    """Rigid-body scene: one box on a floor inside four walls."""

    timestep: float  # s, one physics step
    substeps: int  # physics steps per control step
    gravity: float  # m/s^2, along world -up
    box_size: float  # m, edge length of the cube
    box_mass: float  # kg
    # Fraction of velocity lost per second, cannon-es semantics: v <- v * (1 - d)^dt,
    # applied after every physics step to linear and angular velocity alike.
    linear_damping: float
    angular_damping: float
    friction: float  # Coulomb sliding friction, box against floor and walls
    arena_half_width: float  # m, inner faces of the walls at x, z = +-this
    wall_height: float  # m, for rendering; the physics walls are planes
    drop_height: float  # m, height of the box centre at reset
    # MJX constraint solver budget; part of the contract so benchmarks compare like with like.
    solver_iterations: int
    solver_ls_iterations: int

    def __post_init__(self):
        positive = ("timestep", "substeps", "box_size", "box_mass", "arena_half_width", "wall_height",
                    "solver_iterations", "solver_ls_iterations")  # fmt: skip
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"physics.{name} must be positive, got {getattr(self, name)}")
        for name in ("linear_damping", "angular_damping"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"physics.{name} is a fraction of velocity lost per second, in [0, 1)")
        if self.friction < 0 or self.gravity < 0:
            raise ValueError("physics.friction and physics.gravity must be >= 0")
        if self.drop_height <= self.box_size * 3**0.5 / 2:
            raise ValueError("physics.drop_height must clear the box's half-diagonal so no start penetrates the floor")
        if self.arena_half_width <= self.box_size:
            raise ValueError("physics.arena_half_width must leave room for the box")

    @property
    def inertia(self) -> float:
        """Principal moment of inertia of a solid cube about its centre: m s^2 / 6."""
        return self.box_mass * self.box_size**2 / 6.0

    @property
    def control_dt(self) -> float:
        return self.timestep * self.substeps

    def damping_factor(self, damping):
        """Per-physics-step multiplier on a velocity that loses ``damping`` of itself per
        second (``linear_damping``, ``angular_damping``, or a randomized one: a float or an
        array)."""
        return (1.0 - damping) ** self.timestep


@dataclasses.dataclass(frozen=True)
class Actuation:
    """How actions become torque, and the disturbances the policy must reject."""

    max_torque: float  # N m, per body axis, at action +-1
    # First-order ramp per physics step: tau <- tau + ramp * (tau_target - tau).
    torque_ramp: float
    # Each physics step, with this probability, a world-frame torque with components
    # uniform in [-disturbance_torque, disturbance_torque] acts for that step only.
    disturbance_prob: float
    disturbance_torque: float  # N m
    episode_seconds: float  # the episode ends (truncation) after this long

    def __post_init__(self):
        if self.max_torque <= 0 or self.episode_seconds <= 0:
            raise ValueError("actuation.max_torque and actuation.episode_seconds must be positive")
        if not 0 < self.torque_ramp <= 1:
            raise ValueError(f"actuation.torque_ramp must be in (0, 1], got {self.torque_ramp}")
        if not 0 <= self.disturbance_prob <= 1 or self.disturbance_torque < 0:
            raise ValueError("actuation.disturbance_prob must be in [0, 1] and disturbance_torque >= 0")


@dataclasses.dataclass(frozen=True)
class Success:
    """Upright: the body's up axis within ``max_tilt_deg`` of world up and angular speed
    below ``max_angular_speed``, held continuously for ``hold_seconds``; the hold must be
    complete within ``within_seconds`` of the reset."""

    max_tilt_deg: float
    max_angular_speed: float  # rad/s, norm of the true angular velocity
    hold_seconds: float
    within_seconds: float


@dataclasses.dataclass(frozen=True)
class Slot:
    name: str
    start: int
    size: int
    meaning: str


@dataclasses.dataclass(frozen=True)
class Observation:
    """The policy's input vector. All orientation slots come from the *observed*
    quaternion (true orientation corrupted by the noise model, or the CNN's estimate
    in the browser), never from the simulator's true state."""

    size: int
    # Angular-velocity estimate units: the estimate in rad/s is divided by this and
    # clipped to [-1, 1].
    angular_velocity_scale: float
    slots: tuple[Slot, ...]

    def slot(self, name: str) -> slice:
        for s in self.slots:
            if s.name == name:
                return slice(s.start, s.start + s.size)
        raise KeyError(f"no observation slot named {name!r}")


@dataclasses.dataclass(frozen=True)
class ActionSpec:
    size: int
    meaning: str


@dataclasses.dataclass(frozen=True)
class Camera:
    """The inference camera, shared by ``render/`` and a browser runtime: perspective,
    looking at the box centre from a fixed world-frame offset (the camera translates
    with the box, never rotates), so an image maps to a world-frame orientation."""

    fov_deg: float  # vertical field of view
    distance: float  # m from the box centre
    elevation_deg: float  # above the horizontal plane
    azimuth_deg: float  # about world up, 0 = camera on the +Z side
    resolution: int  # square images, pixels per side
    background_rgb: tuple[float, float, float]

    @property
    def offset(self) -> tuple[float, float, float]:
        """Camera position relative to the box centre, world frame (Y up)."""
        el, az = math.radians(self.elevation_deg), math.radians(self.azimuth_deg)
        return (
            self.distance * math.cos(el) * math.sin(az),
            self.distance * math.sin(el),
            self.distance * math.cos(el) * math.cos(az),
        )


@dataclasses.dataclass(frozen=True)
class OnnxContract:
    pose_input: str  # float32 [N,3,R,R], RGB NCHW, /255 then image_mean / image_std
    pose_output: str  # float32 [N,4], quaternion (x,y,z,w), normalized by the runtime
    policy_input: str  # float32 [N,observation.size]
    policy_output: str  # float32 [N,action.size], deterministic, in [-1, 1]
    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]


@dataclasses.dataclass(frozen=True)
class Frames:
    """The world and body frames, as a browser runtime needs to know them."""

    world: str  # in words: handedness, up axis, gravity
    body_up_axis: tuple[float, float, float]  # the body axis that "upright" points along world up
    quaternion_order: str
    quaternion_meaning: str
    torque_frame: str


@dataclasses.dataclass(frozen=True)
class Artifacts:
    """What this pipeline writes for the profile, and where by default (not in task.json:
    a runtime knows the names of the files it loads)."""

    export_dir: str  # repository-relative folder the exporter writes by default
    pose_file: str  # the pose CNN, ONNX
    policy_file: str  # the policy, ONNX
    task_file: str  # to_dict() as JSON
    object_file: str  # the object as glTF binary, for a runtime that draws it
    object_kind: str  # which asset render/asset.py builds (OBJECT_KINDS)
    # Where inside the runtime's own folder it loads its models from, for a runtime that we
    # install into (experiments.install_original); "" for one that reads export_dir itself.
    runtime_models_dir: str

    def __post_init__(self):
        if self.object_kind not in OBJECT_KINDS:
            raise ValueError(f"artifacts.object_kind must be one of {OBJECT_KINDS}, got {self.object_kind!r}")
        names = (self.pose_file, self.policy_file, self.task_file, self.object_file)
        if len(set(names)) != len(names) or any(not n or "/" in n for n in names):
            raise ValueError(f"artifacts file names must be distinct plain file names, got {names}")


@dataclasses.dataclass(frozen=True)
class PointLight:
    """A point light of the pose camera's scene, as Three.js (r155+) defines one: luminous
    intensity in candela, falling off as 1/d^2 inside a smooth window that reaches zero at
    ``distance``."""

    position: tuple[float, float, float]  # world, m
    intensity: float  # cd
    distance: float  # m, the cutoff (0: none)

    def falloff(self, d: float) -> float:
        """Three.js's getDistanceAttenuation with decay 2, at distance ``d``."""
        window = 1.0 if not self.distance else max(0.0, 1.0 - (d / self.distance) ** 4) ** 2
        return window / max(d * d, 0.01)


@dataclasses.dataclass(frozen=True)
class RuntimeCode:
    """What the runtime's own code does, which the pipeline must reproduce in training
    (not in task.json: no runtime reads it from there)."""

    observation: str  # the observation builder (OBSERVATION_BUILDERS), with its frame swizzle and quirks
    # Policy action -> body-frame torque axis: axis i takes sign_i * action[index_i].
    action_map: tuple[tuple[int, float], tuple[int, float], tuple[int, float]]
    pose_interval: int  # control steps between pose-model runs; the prediction is held in between
    reset_rotation: str  # "uniform" (Haar), or "axis_angle": axis uniform in a cube, normalized; angle U[0, 2 pi)
    kick_frame: str  # the frame the random disturbance torque is drawn in (FRAMES_OF_KICKS)
    mesh: str  # "" for the procedural object; else the mesh's path inside the runtime's folder
    inertia: str  # how the runtime's physics ends up treating the object's inertia (INERTIA_MODELS)
    walls_collide: bool  # whether the object collides with the arena's walls at all
    # The lights of the pose camera's scene, when the runtime lights it with point lights
    # alone; () for our web app, whose lights (web/src/render/lighting.js) the render
    # config's randomization covers.
    point_lights: tuple[PointLight, ...]
    # The runtime itself, when it is someone else's: where it comes from ("repository@commit")
    # and the sha256 of each of its files that this project runs or reads, (path, sha256)
    # pairs; commands that use its folder check them. "" and () for our own web/ app.
    source: str
    files: tuple[tuple[str, str], ...]
    # The runtime's own model files at that commit, (path, git blob sha1) pairs: what the
    # installer's first backup is checked against. () for our own web/ app.
    models: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        if self.observation not in OBSERVATION_BUILDERS:
            raise ValueError(f"runtime.observation must be one of {OBSERVATION_BUILDERS}, got {self.observation!r}")
        if sorted(i for i, _ in self.action_map) != [0, 1, 2] or any(abs(s) != 1 for _, s in self.action_map):
            raise ValueError(f"runtime.action_map must permute the 3 actions with signs +-1, got {self.action_map}")
        if self.pose_interval < 1:
            raise ValueError(f"runtime.pose_interval must be >= 1, got {self.pose_interval}")
        if self.reset_rotation not in RESET_ROTATIONS or self.kick_frame not in FRAMES_OF_KICKS:
            raise ValueError(f"runtime.reset_rotation must be one of {RESET_ROTATIONS} and kick_frame one of "
                             f"{FRAMES_OF_KICKS}")  # fmt: skip
        if self.inertia not in INERTIA_MODELS:
            raise ValueError(f"runtime.inertia must be one of {INERTIA_MODELS}, got {self.inertia!r}")


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    name: str  # the profile's name in the registry (orient_jax.profiles)
    physics: Physics
    actuation: Actuation
    success: Success
    observation: Observation
    action: ActionSpec
    camera: Camera
    onnx: OnnxContract
    frames: Frames
    artifacts: Artifacts
    runtime: RuntimeCode

    def __post_init__(self):
        covered = sorted((s.start, s.start + s.size) for s in self.observation.slots)
        if (
            covered[0][0] != 0
            or covered[-1][1] != self.observation.size
            or any(a[1] != b[0] for a, b in zip(covered, covered[1:]))
        ):
            raise ValueError("observation slots must tile [0, observation.size) without gaps or overlaps")
        if self.hold_steps > self.success_deadline_steps or self.success_deadline_steps > self.episode_steps:
            raise ValueError("success hold must fit before the deadline, and the deadline inside the episode")
        if (self.artifacts.object_kind == "runtime_mesh") != bool(self.runtime.mesh):
            raise ValueError("artifacts.object_kind is 'runtime_mesh' exactly when runtime.mesh names the mesh")

    @property
    def episode_steps(self) -> int:
        """Control steps per episode."""
        return round(self.actuation.episode_seconds / self.physics.control_dt)

    @property
    def hold_steps(self) -> int:
        """Consecutive upright control steps that count as success."""
        return round(self.success.hold_seconds / self.physics.control_dt)

    @property
    def success_deadline_steps(self) -> int:
        return round(self.success.within_seconds / self.physics.control_dt)

    def to_dict(self) -> dict:
        """The browser's view of the task: what ``task.json`` holds."""
        sections = ("physics", "actuation", "success", "observation", "action", "camera", "onnx")
        d = {name: dataclasses.asdict(getattr(self, name)) for name in sections}
        d["version"] = SPEC_VERSION
        d["derived"] = {
            "inertia": self.physics.inertia,
            "control_dt": self.physics.control_dt,
            "episode_steps": self.episode_steps,
            "hold_steps": self.hold_steps,
            "success_deadline_steps": self.success_deadline_steps,
            "camera_offset": list(self.camera.offset),
        }
        d["frames"] = dataclasses.asdict(self.frames)
        return json.loads(json.dumps(d))  # tuples -> lists, as a reader of the file sees it


def task_json(spec: TaskSpec) -> str:
    """The text of ``task.json``."""
    return json.dumps(spec.to_dict(), indent=2) + "\n"


def write_task_json(spec: TaskSpec, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(task_json(spec))
    return path
