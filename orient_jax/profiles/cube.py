"""``cube``: our own task, the one ``web/`` serves (``web/public/models/task.json``).

World frame: right-handed, **Y up**, gravity along -Y, metres and seconds. This is the
Three.js / cannon-es frame, and the MJX model is built in the same frame, so no axis
swizzle exists anywhere in the pipeline. Body frame: the box's own axes, origin at its
centre of mass; body **+Y is the up axis** (the face carrying the marking), so
"upright" means body +Y along world +Y. Torque actions are in the body frame.
"""

from __future__ import annotations

from orient_jax.profiles.spec import (
    ActionSpec,
    Actuation,
    Artifacts,
    Camera,
    Frames,
    Observation,
    OnnxContract,
    Physics,
    RuntimeCode,
    Slot,
    Success,
    TaskSpec,
)

PHYSICS = Physics(
    timestep=1.0 / 240.0,
    substeps=4,  # control at 60 Hz
    gravity=9.81,
    box_size=0.2,
    box_mass=0.25,  # about 31 kg/m^3: a foam block; inertia m s^2 / 6 follows from it
    linear_damping=0.04,  # cannon-es's default
    angular_damping=0.04,
    friction=0.5,
    arena_half_width=1.0,
    wall_height=0.5,
    drop_height=0.35,
    # Two Newton iterations settle a resting box (checked in tests).
    solver_iterations=2,
    solver_ls_iterations=4,
)

OBSERVATION = Observation(
    size=23,
    angular_velocity_scale=20.0,
    slots=(
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
    ),
)

PROFILE = TaskSpec(
    name="cube",
    physics=PHYSICS,
    actuation=Actuation(
        max_torque=0.5,
        torque_ramp=0.5,
        disturbance_prob=0.03,
        disturbance_torque=0.2,
        episode_seconds=5.0,
    ),
    success=Success(max_tilt_deg=10.0, max_angular_speed=0.5, hold_seconds=0.5, within_seconds=5.0),
    observation=OBSERVATION,
    action=ActionSpec(
        size=3,
        meaning=(
            "body-frame torque target as a fraction of max_torque, each component in "
            "[-1, 1] (values outside are clipped); the applied torque follows the target "
            "through the first-order ramp"
        ),
    ),
    # The original runtime used 3.5 units for an object about 1 unit across; with the
    # 0.2 m box the distance is scaled so that the box fills most of the frame.
    camera=Camera(
        fov_deg=50.0,
        distance=0.55,
        elevation_deg=30.0,
        azimuth_deg=0.0,
        resolution=224,
        background_rgb=(1.0, 1.0, 1.0),
    ),
    # The original runtime's I/O names and ImageNet preprocessing.
    onnx=OnnxContract(
        pose_input="input",
        pose_output="output",
        policy_input="input",
        policy_output="actions",
        image_mean=(0.485, 0.456, 0.406),
        image_std=(0.229, 0.224, 0.225),
    ),
    frames=Frames(
        world="right-handed, Y up, gravity along -Y (Three.js / cannon-es frame)",
        body_up_axis=(0.0, 1.0, 0.0),
        quaternion_order="xyzw",
        quaternion_meaning="rotates body-frame vectors into the world frame",
        torque_frame="body",
    ),
    artifacts=Artifacts(
        export_dir="web/public/models",
        pose_file="pose.onnx",
        policy_file="policy.onnx",
        task_file="task.json",
        object_file="object.glb",
        object_kind="marked_cube",
        runtime_models_dir="",  # web/ serves export_dir itself
    ),
    # Our web/ app's code (web/src/sim): the observation above, actions as body torque axes,
    # the CNN every control step ('auto' holds at most 4: see web/src/app/runtime.js),
    # uniform starts, world-frame kicks, the marked cube with its own inertia, walls.
    runtime=RuntimeCode(
        observation="cube",
        action_map=((0, 1.0), (1, 1.0), (2, 1.0)),
        pose_interval=1,
        reset_rotation="uniform",
        kick_frame="world",
        mesh="",
        inertia="body",
        walls_collide=True,
        point_lights=(),
        source="",
        files=(),
    ),
)
