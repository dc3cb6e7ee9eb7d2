"""``pack``: the observation builders' named parts laid out by the profile's slot table,
the one place the layout is written."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from orient_jax import profiles, quat
from orient_jax.envs.noise import constant
from orient_jax.profiles.spec import Slot
from orient_jax.tasks.rotation.observers import make_observer, pack

CUBE = profiles.get("cube")
ORIGINAL = profiles.get("original")


def permuted(spec, order):
    """``spec`` with its slots laid out in ``order`` (slot names), listed in the original order."""
    sizes = {s.name: s for s in spec.observation.slots}
    starts, at = {}, 0
    for name in order:
        starts[name], at = at, at + sizes[name].size
    slots = tuple(dataclasses.replace(s, start=starts[s.name]) for s in spec.observation.slots)
    return dataclasses.replace(spec, observation=dataclasses.replace(spec.observation, slots=slots))


def parts_of(spec, seed=0):
    rng = np.random.default_rng(seed)
    return {s.name: jnp.asarray(rng.normal(size=s.size), jnp.float32) for s in spec.observation.slots}


@pytest.mark.unit
@pytest.mark.parametrize("spec", [CUBE, ORIGINAL], ids=lambda p: p.name)
def test_pack_puts_each_part_at_its_slot(spec):
    names = [s.name for s in spec.observation.slots]
    parts = parts_of(spec)
    for order in (names, names[::-1], names[3:] + names[:3]):
        layout = permuted(spec, order).observation
        obs = np.asarray(pack(layout, parts))
        assert obs.shape == (spec.observation.size,)
        for name in names:
            np.testing.assert_array_equal(obs[layout.slot(name)], parts[name], err_msg=name)
    # The reversed layout is the parts in reverse order, end to end.
    reverse = np.asarray(pack(permuted(spec, names[::-1]).observation, parts))
    np.testing.assert_array_equal(reverse, np.concatenate([parts[n] for n in names[::-1]]))


@pytest.mark.unit
def test_pack_refuses_parts_that_do_not_fit_the_slots():
    layout, parts = CUBE.observation, parts_of(CUBE)
    slots = r"\[quat, up_world, world_up_in_body, prev_quat, angular_velocity, action_prev, action_prev2\]"
    missing = {k: v for k, v in parts.items() if k != "prev_quat"}
    with pytest.raises(ValueError, match=rf"do not fit the slots {slots}: no part for slot\(s\) prev_quat$"):
        pack(layout, missing)
    with pytest.raises(ValueError, match=r": part\(s\) spin have no slot$"):
        pack(layout, {**parts, "spin": jnp.zeros(3)})
    with pytest.raises(ValueError, match=r": part quat has shape \(3,\), slot quat holds 4$"):
        pack(layout, {**parts, "quat": jnp.zeros(3)})
    with pytest.raises(ValueError, match=r": part action_prev has shape \(1, 3\), slot action_prev holds 3$"):
        pack(layout, {**parts, "action_prev": jnp.zeros((1, 3))})
    twice = dataclasses.replace(layout, slots=(*layout.slots, layout.slots[0]))
    with pytest.raises(ValueError, match=r": slot quat is listed twice$"):
        pack(twice, parts)
    renamed = {("omega" if k == "angular_velocity" else k): v for k, v in parts.items()}
    with pytest.raises(ValueError, match=r"no part for slot\(s\) angular_velocity; part\(s\) omega have no slot"):
        pack(layout, renamed)


@pytest.mark.unit
@pytest.mark.parametrize("spec", [CUBE, ORIGINAL], ids=lambda p: p.name)
def test_the_builders_follow_the_slot_table(spec):
    """A profile whose slot table is permuted gets the same numbers at the permuted places,
    at a reset and at a step: the builders lay nothing out themselves."""
    names = [s.name for s in spec.observation.slots]
    other = permuted(spec, names[::-1])
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    q0, q1 = quat.random_uniform(keys[0], (2,))
    action = jnp.array([0.3, -0.7, 0.1])
    rows = []
    for s in (spec, other):
        observer = make_observer(s, constant(5.0))
        obs0, memory = observer.reset(q0, keys[1])
        obs1, _ = observer.step(memory, action, q1, keys[2])
        rows.append((np.asarray(obs0), np.asarray(obs1)))
    for ours, theirs in zip(*rows):
        assert ours.any()
        for name in names:
            np.testing.assert_array_equal(
                theirs[other.observation.slot(name)], ours[spec.observation.slot(name)], err_msg=name
            )
    slot = Slot("extra", 0, 1, "a slot no builder fills")
    grown = dataclasses.replace(
        spec,
        observation=dataclasses.replace(
            spec.observation,
            size=spec.observation.size + 1,
            slots=(slot, *(dataclasses.replace(s, start=s.start + 1) for s in spec.observation.slots)),
        ),
    )
    with pytest.raises(ValueError, match=r"no part for slot\(s\) extra"):
        make_observer(grown, constant(0.0)).reset(q0, keys[1])


@pytest.mark.integration
def test_the_env_takes_a_permuted_slot_table_and_refuses_a_misfit():
    from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig

    config = RotationEnvConfig(noise_deg=0.0, disturbances=False, domain_randomization=False)
    names = [s.name for s in CUBE.observation.slots]
    other = permuted(CUBE, names[::-1])
    key, q = jax.random.PRNGKey(1), jnp.array([0.0, 0.6, 0.0, 0.8])
    ours = np.asarray(RotationEnv(CUBE, config).reset_at(key, q).obs)
    theirs = np.asarray(RotationEnv(other, config).reset_at(key, q).obs)
    for name in names:
        np.testing.assert_array_equal(theirs[other.observation.slot(name)], ours[CUBE.observation.slot(name)])
    shrunk = dataclasses.replace(
        CUBE,
        observation=dataclasses.replace(
            CUBE.observation,
            size=22,
            slots=(*CUBE.observation.slots[:-1], Slot("action_prev2", 20, 2, "t-2, two of three")),
        ),
    )
    with pytest.raises(ValueError, match=r"^task profile 'cube', builder 'cube': .*slot action_prev2 holds 2$"):
        RotationEnv(shrunk, config)
