import dataclasses
import json

import pytest

from orient_jax import spec
from orient_jax.spec import TASK


def test_task_json_is_up_to_date(root):
    """web/public/models/task.json must equal the spec: regenerate with `make spec`."""
    written = json.loads((root / "web/public/models/task.json").read_text())
    assert written == json.loads(json.dumps(TASK.to_dict()))


def test_physics_is_consistent():
    p = TASK.physics
    assert p.timestep == pytest.approx(1 / 240)
    assert p.substeps == 4 and p.control_dt == pytest.approx(1 / 60)
    # Solid cube: I = m (s^2 + s^2) / 12.
    assert p.inertia == pytest.approx(p.box_mass * 2 * p.box_size**2 / 12)
    # The damping factor reproduces cannon-es: after one second, 1 - d of the velocity remains.
    assert p.damping_factor_angular ** round(1 / p.timestep) == pytest.approx(1 - p.angular_damping, rel=1e-9)
    # Tipping the box over an edge must be possible at full torque.
    assert TASK.actuation.max_torque > p.box_mass * p.gravity * p.box_size / 2


def test_derived_steps():
    assert TASK.episode_steps == 300
    assert TASK.hold_steps == 30
    assert TASK.success_deadline_steps == 300


def test_observation_slots_tile_23():
    o = TASK.observation
    assert o.size == 23
    covered = []
    for s in o.slots:
        covered.extend(range(s.start, s.start + s.size))
        assert s.meaning
    assert covered == list(range(23))
    assert o.slot("quat") == slice(0, 4) and o.slot("action_prev2") == slice(20, 23)
    with pytest.raises(KeyError):
        o.slot("nope")


def test_onnx_names_follow_the_browser_contract():
    assert (TASK.onnx.pose_input, TASK.onnx.pose_output) == ("input", "output")
    assert (TASK.onnx.policy_input, TASK.onnx.policy_output) == ("input", "actions")


def test_camera_frames_the_box():
    import math

    c = TASK.camera
    half_fov = math.radians(c.fov_deg / 2)
    radius = TASK.physics.box_size * math.sqrt(3) / 2
    assert math.asin(radius / c.distance) < half_fov  # the whole box is in view
    assert math.dist(c.offset, (0, 0, 0)) == pytest.approx(c.distance)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: spec.Physics(timestep=-0.01), "timestep must be positive"),
        (lambda: spec.Physics(angular_damping=1.5), "angular_damping"),
        (lambda: spec.Physics(drop_height=0.05), "drop_height"),
        (lambda: spec.Actuation(torque_ramp=0.0), "torque_ramp"),
        (lambda: spec.TaskSpec(actuation=spec.Actuation(episode_seconds=0.2)), "deadline"),
        (
            lambda: spec.TaskSpec(observation=dataclasses.replace(spec.Observation(), size=24)),
            "tile",
        ),
    ],
)
def test_bad_spec_values_fail_clearly(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()
