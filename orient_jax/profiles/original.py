"""``original``: the contract of the original, unchanged browser runtime.

That runtime is the public repository sagerkudrick/main-prediction-RL (``index.html`` and
``static/js/*.js``), read here at commit 6957ebb. Its models must run in that page as it
is, so every value below copies a fact of its code, quirks included, with the file and
line it comes from. Nothing is improved. The repository has no licence: none of its code
or assets is copied into this one; commands read them from the folder the user gives
(``--runtime-dir``).

Frames. The page simulates in cannon-es's Y-up world and shows its object as it is. The
policy was trained in PyBullet's Z-up frame, so the page swizzles each quaternion
q -> (x, z, -y, w) before building the observation and maps actions back as
(a0, -a2, a1) onto the body's x, y, z torque axes (simulation.js:175-179,
physics.js:318-320): the two mappings agree. Body +Y of the GLB is "up".
"""

from __future__ import annotations

import json
from pathlib import Path

from orient_jax.profiles.spec import (
    ActionSpec,
    Actuation,
    Artifacts,
    Camera,
    Frames,
    Observation,
    OnnxContract,
    Physics,
    PointLight,
    RuntimeCode,
    Slot,
    Success,
    TaskSpec,
)

# The runtime itself: its repository, the commit these facts were read at, and the sha256
# of each of its files that this project runs or reads (one table, read by the Node
# harness in original/ too). Its models are not listed: installing ours replaces them.
_RECORD = json.loads(Path(__file__).with_name("original_files.json").read_text())

PHYSICS = Physics(
    timestep=1.0 / 240.0,  # physics.js:180 timeStep = 1.0 / 240.0
    substeps=4,  # physics.js:179 step(numSteps = 4); simulation.js:116 this.physics.step(4)
    gravity=9.81,  # physics.js:39 gravity.set(0, -9.81, 0)
    # The box the page simulates until its mesh has loaded (physics.js:19, half extents
    # 0.1) and the collision box the original policy was trained with (static/isotope.urdf:
    # box size 0.2). The object itself is the mesh: runtime.mesh below.
    box_size=0.2,
    box_mass=0.05,  # physics.js:134 mass: 0.05
    linear_damping=0.04,  # physics.js:138
    angular_damping=0.04,  # physics.js:139
    friction=0.3,  # physics.js:43 defaultContactMaterial.friction = 0.3
    arena_half_width=0.5,  # physics.js:16 wallSize = 1.0; physics.js:68 halfSize = size / 2
    wall_height=4.0,  # physics.js:69 height = 2.0, a half extent: the walls span y = 0..4 (physics.js:76)
    drop_height=1.5,  # physics.js:136 position: new CANNON.Vec3(0, 1.5, 0)
    # The MJX solver budget (ours; cannon-es runs 10 Gauss-Seidel iterations, physics.js:46).
    solver_iterations=4,
    solver_ls_iterations=8,
)

OBSERVATION = Observation(
    size=23,  # inference.js:223 new ort.Tensor('float32', floatObs, [1, 23])
    angular_velocity_scale=1.0,  # no scale: simulation.js:195-205 passes the raw difference
    slots=(
        # simulation.js:160-166: the held prediction, or the ground truth before the first one;
        # simulation.js:175-180: swizzled. Its sign is the pose model's (ours: w >= 0).
        Slot("quat", 0, 4, "the held predicted quaternion swizzled to the training frame, (x, z, -y, w)"),
        # simulation.js:184 quaternionToZAxis(trainingQuat); physics.js:454-459.
        Slot("z_axis", 4, 3, "third column of R(quat): the body z axis of the training frame"),
        Slot("z_axis_again", 7, 3, "the same z axis again (simulation.js:211: the training's 'noisy' copy)"),
        # simulation.js:212 this.oriHistory[0]: set two policy calls earlier (simulation.js:227-228);
        # [0, 0, 0, 1] at page load (simulation.js:25-32).
        Slot("prev_quat", 10, 4, "the swizzled quaternion from two policy steps back"),
        # simulation.js:194-205: this step's held quaternion minus the last step's, x y z only,
        # then swizzled; not scaled, and not clipped (physics.js:239-256 clips, but the page
        # never calls that path).
        Slot("angular_velocity", 14, 3, "the raw xyz difference of successive held quaternions, swizzled"),
        # simulation.js:214-215 actionHistory[0] then [1]; simulation.js:230-231 shift, then
        # store the new action: [0] is the older one. Zeros at page load.
        Slot("action_prev2", 17, 3, "the policy's output two steps back"),
        Slot("action_prev", 20, 3, "the policy's output one step back"),
    ),
)

PROFILE = TaskSpec(
    name="original",
    physics=PHYSICS,
    actuation=Actuation(
        max_torque=0.5,  # physics.js:28 maxTorque = 0.5
        torque_ramp=0.5,  # physics.js:29 rampSpeed = 0.5; physics.js:200-202 the low-pass filter
        disturbance_prob=0.03,  # physics.js:184 Math.random() < 0.03, every physics step
        disturbance_torque=0.2,  # physics.js:185-187 (Math.random() - 0.5) * 0.4
        # The page never ends an episode (its getState().terminated, physics.js:268, at 500
        # physics steps, is ignored by index.html). Ours: the 10 s of the browser goal.
        episode_seconds=10.0,
    ),
    success=Success(max_tilt_deg=10.0, max_angular_speed=0.5, hold_seconds=0.5, within_seconds=10.0),
    observation=OBSERVATION,
    action=ActionSpec(
        size=3,
        meaning=(
            "policy output in [-1, 1] (inference.js:227 result.actions); the page maps it to the "
            "body-frame torque target (a0, -a2, a1) x 0.5 N m (physics.js:318-320, 195-197), "
            "through the 0.5 ramp, clamped to +-0.5 (physics.js:205-207)"
        ),
    ),
    camera=Camera(
        fov_deg=50.0,  # index.html:297 PerspectiveCamera(50, 1, 0.1, 100)
        distance=3.5,  # index.html:298 position.set(0, 0, 3.5), looking at the origin
        elevation_deg=0.0,  # horizontal
        azimuth_deg=0.0,  # on the +Z side
        resolution=224,  # index.html:304-305; inference.js:19-20 _targetW = _targetH = 224
        background_rgb=(1.0, 1.0, 1.0),  # index.html:295 Color(0xffffff)
    ),
    onnx=OnnxContract(
        pose_input="input",  # inference.js:185 feeds = { input: inputTensor }
        pose_output="output",  # inference.js:193 result.output
        policy_input="input",  # inference.js:223
        policy_output="actions",  # inference.js:227 result.actions
        image_mean=(0.485, 0.456, 0.406),  # inference.js:164
        image_std=(0.229, 0.224, 0.225),  # inference.js:165
    ),
    frames=Frames(
        world="right-handed, Y up, gravity along -Y (cannon-es); the policy sees the training frame, Z up",
        body_up_axis=(0.0, 1.0, 0.0),  # the GLB's +Y: the training frame's body z (simulation.js:175-184)
        quaternion_order="xyzw",
        quaternion_meaning="rotates body-frame vectors into the world frame",
        torque_frame="body",  # physics.js:210-217 quaternion.vmult(torque): local to world
    ),
    artifacts=Artifacts(
        export_dir="runs/export/original",  # then experiments.install_original copies them in
        pose_file="pose_model_best.onnx",  # inference.js:88
        policy_file="rl-model.onnx",  # inference.js:114
        task_file="task.json",  # ours, for the record: the original page reads none
        object_file="engine.glb",  # index.html:388, the runtime's own (never written here)
        object_kind="runtime_mesh",
        runtime_models_dir="static/models",  # inference.js:88, 114 'static/models/...'
    ),
    runtime=RuntimeCode(
        observation="original_page",  # simulation.js:155-237 predictAndApplyAction
        action_map=((0, 1.0), (2, -1.0), (1, 1.0)),  # physics.js:318-320 x = a0, y = -a2, z = a1
        pose_interval=5,  # index.html:174 INFERENCE_INTERVAL = 5; simulation.js:106 frameCount % 5 === 0
        reset_rotation="axis_angle",  # physics.js:123-131: axis uniform in a cube, normalized; angle U[0, 2 pi)
        kick_frame="body",  # physics.js:189-191 quaternion.vmult(worldDist): a body-frame kick
        mesh="static/models/engine.glb",  # index.html:388-443: every primitive's raw vertices, one trimesh
        # physics.js:144-145 sets inertia 1e-4 and invInertia 1e4 on each axis after the body
        # is built (physics.js:133-140). Neither reaches the dynamics: cannon-es integrates
        # with invInertiaWorld (cannon-es Body.integrate), which Body.updateMassProperties
        # set at construction from the box inertia of the mesh's world AABB at the drop
        # orientation (Body.updateMassProperties, Box.calculateInertia), and which
        # Body.updateInertiaWorld never recomputes for an isotropic invInertia. So the
        # engine moves with a world-fixed inertia of ~0.06 kg m^2 (measured: 570x 1e-4).
        inertia="world_aabb_at_drop",
        # cannon-es 0.20.0 collides a Trimesh with spheres and planes only: the box walls
        # (physics.js:73-100) never touch the mesh, so it leaves the 1 m arena.
        walls_collide=False,
        # index.html:313-345: the inference scene's only lights, cloned from the main scene's:
        # intensity 35 and 35 * 0.8, distance max(3.42, 0.68, 0.21) * 2 = 6.84, decay 2 (r155's
        # default), at (centerX + 2, 3.2, centerZ) and (centerX - 1.5, -2, centerZ + 1) with
        # centerX = (-1.02 + 2.4) / 2 and centerZ = (1.77 + 1.56) / 2. No ambient light, no
        # shadows (the inference renderer's shadow map is off).
        point_lights=(
            PointLight(position=((-1.02 + 2.4) / 2 + 2, 3.2, (1.77 + 1.56) / 2), intensity=35.0, distance=6.84),
            PointLight(position=((-1.02 + 2.4) / 2 - 1.5, -2.0, (1.77 + 1.56) / 2 + 1), intensity=28.0, distance=6.84),
        ),
        source=f"{_RECORD['repository']}@{_RECORD['commit']}",
        files=tuple(sorted(_RECORD["files"].items())),
        models=tuple(sorted(_RECORD["models"].items())),
    ),
)
