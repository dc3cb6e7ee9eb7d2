"""The re-orientation task contract: the single source of truth.

Everything that the physics, the renderer, the CNN, the exported ONNX files and the
browser must agree on is defined here, once. ``write_task_json`` writes it to
``web/public/models/task.json`` for the browser; nothing downstream redefines these
constants.

Frames and conventions
----------------------
* World frame: right-handed, **Y up**, gravity along -Y, metres and seconds. This is
  the Three.js / cannon-es frame, and the MJX model is built in the same frame, so no
  axis swizzle exists anywhere in the pipeline.
* Body frame: the box's own axes, origin at its centre of mass. The body's **+Y axis
  is the "up axis"** (the face carrying the marking). "Upright" means body +Y is
  aligned with world +Y.
* Quaternions are (x, y, z, w) at every boundary (ONNX, JSON, browser) and rotate
  body-frame vectors into the world frame: ``v_world = q * v_body * conj(q)``. MuJoCo's
  internal (w, x, y, z) order appears only inside ``orient_jax.quat`` conversions.
* Torque actions are expressed in the body frame.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

TASK_JSON_PATH = Path(__file__).resolve().parent.parent / "web" / "public" / "models" / "task.json"
SPEC_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Physics:
    """Rigid-body scene: one box on a floor inside four walls."""

    timestep: float = 1.0 / 240.0  # s, one physics step
    substeps: int = 4  # physics steps per control step (control at 60 Hz)
    gravity: float = 9.81  # m/s^2, along world -Y
    box_size: float = 0.2  # m, edge length of the cube
    box_mass: float = 0.25  # kg (about 31 kg/m^3: a foam block)
    # Fraction of velocity lost per second, cannon-es semantics: v <- v * (1 - d)^dt,
    # applied after every physics step to linear and angular velocity alike.
    linear_damping: float = 0.04
    angular_damping: float = 0.04
    friction: float = 0.5  # Coulomb sliding friction, box against floor and walls
    arena_half_width: float = 1.0  # m, inner faces of the walls at x, z = +-this
    wall_height: float = 0.5  # m, for rendering; the physics walls are planes
    drop_height: float = 0.35  # m, height of the box centre at reset
    # MJX constraint solver budget; part of the contract so benchmarks compare like
    # with like. Two Newton iterations settle a resting box (checked in tests).
    solver_iterations: int = 2
    solver_ls_iterations: int = 4

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

    @property
    def damping_factor_linear(self) -> float:
        """Per-physics-step multiplier on linear velocity."""
        return (1.0 - self.linear_damping) ** self.timestep

    @property
    def damping_factor_angular(self) -> float:
        """Per-physics-step multiplier on angular velocity."""
        return (1.0 - self.angular_damping) ** self.timestep


@dataclasses.dataclass(frozen=True)
class Actuation:
    """How actions become torque, and the disturbances the policy must reject."""

    max_torque: float = 0.5  # N m, per body axis, at action +-1
    # First-order ramp per physics step: tau <- tau + ramp * (tau_target - tau).
    torque_ramp: float = 0.5
    # Each physics step, with this probability, a world-frame torque with components
    # uniform in [-disturbance_torque, disturbance_torque] acts for that step only.
    disturbance_prob: float = 0.03
    disturbance_torque: float = 0.2  # N m
    episode_seconds: float = 5.0  # the episode ends (truncation) after this long

    def __post_init__(self):
        if self.max_torque <= 0 or self.episode_seconds <= 0:
            raise ValueError("actuation.max_torque and actuation.episode_seconds must be positive")
        if not 0 < self.torque_ramp <= 1:
            raise ValueError(f"actuation.torque_ramp must be in (0, 1], got {self.torque_ramp}")
        if not 0 <= self.disturbance_prob <= 1 or self.disturbance_torque < 0:
            raise ValueError("actuation.disturbance_prob must be in [0, 1] and disturbance_torque >= 0")


@dataclasses.dataclass(frozen=True)
class Success:
    """Upright: body +Y within ``max_tilt_deg`` of world +Y and angular speed below
    ``max_angular_speed``, held continuously for ``hold_seconds``; the hold must be
    complete within ``within_seconds`` of the reset."""

    max_tilt_deg: float = 10.0
    max_angular_speed: float = 0.5  # rad/s, norm of the true angular velocity
    hold_seconds: float = 0.5
    within_seconds: float = 5.0


@dataclasses.dataclass(frozen=True)
class Slot:
    name: str
    start: int
    size: int
    meaning: str


@dataclasses.dataclass(frozen=True)
class Observation:
    """The policy's 23-slot input. All orientation slots come from the *observed*
    quaternion (true orientation corrupted by the noise model, or the CNN's estimate
    in the browser), never from the simulator's true state."""

    size: int = 23
    # Angular-velocity estimate units: the estimate in rad/s is divided by this and
    # clipped to [-1, 1].
    angular_velocity_scale: float = 20.0
    slots: tuple[Slot, ...] = (
        Slot("quat", 0, 4, "observed orientation q_t (x,y,z,w), sign fixed so w >= 0"),
        Slot("up_world", 4, 3, "body +Y axis in world coordinates, from q_t (column 2 of R(q_t))"),
        Slot(
            "world_up_in_body",
            7,
            3,
            "world +Y expressed in the body frame, from q_t (row 2 of R(q_t)); the "
            "direction to turn towards, in the frame that torques act in",
        ),
        Slot(
            "prev_quat",
            10,
            4,
            "observed orientation one control step earlier (x,y,z,w), sign chosen to "
            "lie in the same hemisphere as q_t; equals q_t right after a reset",
        ),
        Slot(
            "angular_velocity",
            14,
            3,
            "body-frame angular velocity estimate: rotation vector of conj(prev_quat)*q_t "
            "divided by the control period, divided by angular_velocity_scale, clipped "
            "to [-1, 1]",
        ),
        Slot("action_prev", 17, 3, "action taken at t-1 (zeros after a reset)"),
        Slot("action_prev2", 20, 3, "action taken at t-2 (zeros after a reset)"),
    )

    def slot(self, name: str) -> slice:
        for s in self.slots:
            if s.name == name:
                return slice(s.start, s.start + s.size)
        raise KeyError(f"no observation slot named {name!r}")


@dataclasses.dataclass(frozen=True)
class ActionSpec:
    size: int = 3
    meaning: str = (
        "body-frame torque target as a fraction of max_torque, each component in "
        "[-1, 1] (values outside are clipped); the applied torque follows the target "
        "through the first-order ramp"
    )


@dataclasses.dataclass(frozen=True)
class Camera:
    """The inference camera, shared by ``render/`` and ``web/``.

    Perspective, looking at the box centre from a fixed world-frame offset (the
    camera translates with the box, never rotates), so an image maps to a world-frame
    orientation. The original used 3.5 units for a box about 1 unit across; with the
    0.2 m box the distance is scaled so that the box fills most of the frame.
    """

    fov_deg: float = 50.0  # vertical field of view
    distance: float = 0.55  # m from the box centre
    elevation_deg: float = 30.0  # above the horizontal plane
    azimuth_deg: float = 0.0  # about world +Y, 0 = camera on the +Z side
    resolution: int = 224  # square images
    background_rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def offset(self) -> tuple[float, float, float]:
        """Camera position relative to the box centre, world frame."""
        el, az = math.radians(self.elevation_deg), math.radians(self.azimuth_deg)
        return (
            self.distance * math.cos(el) * math.sin(az),
            self.distance * math.sin(el),
            self.distance * math.cos(el) * math.cos(az),
        )


@dataclasses.dataclass(frozen=True)
class OnnxContract:
    pose_input: str = "input"  # float32 [N,3,224,224], RGB NCHW, /255 then ImageNet norm
    pose_output: str = "output"  # float32 [N,4], quaternion (x,y,z,w), normalized by the runtime
    policy_input: str = "input"  # float32 [N,23], the observation above
    policy_output: str = "actions"  # float32 [N,3], deterministic, in [-1, 1]
    image_mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    image_std: tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    physics: Physics = Physics()
    actuation: Actuation = Actuation()
    success: Success = Success()
    observation: Observation = Observation()
    action: ActionSpec = ActionSpec()
    camera: Camera = Camera()
    onnx: OnnxContract = OnnxContract()

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
        d = dataclasses.asdict(self)
        d["version"] = SPEC_VERSION
        d["derived"] = {
            "inertia": self.physics.inertia,
            "control_dt": self.physics.control_dt,
            "episode_steps": self.episode_steps,
            "hold_steps": self.hold_steps,
            "success_deadline_steps": self.success_deadline_steps,
            "camera_offset": list(self.camera.offset),
        }
        d["frames"] = {
            "world": "right-handed, Y up, gravity along -Y (Three.js / cannon-es frame)",
            "body_up_axis": [0.0, 1.0, 0.0],
            "quaternion_order": "xyzw",
            "quaternion_meaning": "rotates body-frame vectors into the world frame",
            "torque_frame": "body",
        }
        return d


TASK = TaskSpec()


def write_task_json(path: Path = TASK_JSON_PATH, spec: TaskSpec = TASK) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec.to_dict(), indent=2) + "\n")
    return path


if __name__ == "__main__":
    print(f"wrote {write_task_json()}")
