import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseTask, TaskError } from '../../src/sim/task.js';
import { task, taskJson } from './helpers.mjs';

test('the shipped task.json parses and is frozen', () => {
  assert.equal(task.observation.size, 23);
  assert.equal(task.physics.substeps, 4);
  assert.ok(Object.isFrozen(task.physics));
});

function mutated(fn) {
  const j = structuredClone(taskJson);
  fn(j);
  return j;
}

test('a missing or bad field stops with a message naming it', () => {
  assert.throws(() => parseTask(mutated((j) => delete j.physics.friction)), /physics\.friction/);
  assert.throws(() => parseTask(mutated((j) => (j.physics.timestep = 'fast'))), /physics\.timestep/);
  assert.throws(() => parseTask(mutated((j) => (j.version = 99))), /version 99/);
  assert.throws(() => parseTask(mutated((j) => (j.camera.resolution = 224.5))), /camera\.resolution/);
  assert.throws(() => parseTask(null), TaskError);
});

test('the observation layout must tile the vector with the slots this runtime fills', () => {
  assert.throws(() => parseTask(mutated((j) => (j.observation.slots[1].start = 5))), /starts at 5/);
  assert.throws(() => parseTask(mutated((j) => (j.observation.size = 24))), /cover 23/);
  assert.throws(() => parseTask(mutated((j) => (j.observation.slots[2].size = 'three'))), /observation\.slots\.2\.size/);
  // The slots name the parts this runtime builds, with their sizes; their order is free.
  assert.doesNotThrow(() => parseTask(mutated((j) => j.observation.slots.reverse())));
  assert.throws(
    () => parseTask(mutated((j) => (j.observation.slots[4].name = 'omega'))),
    (e) => e instanceof TaskError && /no part for slot\(s\) omega; part\(s\) angular_velocity have no slot/.test(e.message),
  );
  const shrunk = mutated((j) => {
    j.observation.size = 22;
    j.observation.slots[6].size = 2;
  });
  assert.throws(() => parseTask(shrunk), /part action_prev2 has 3 numbers, slot action_prev2 holds 2/);
});

test('derived values must agree with what they derive from', () => {
  assert.throws(() => parseTask(mutated((j) => (j.physics.box_mass = 1))), /inertia/);
  assert.throws(() => parseTask(mutated((j) => (j.physics.substeps = 8))), /control_dt/);
});

test('frame conventions are checked, not assumed', () => {
  assert.throws(() => parseTask(mutated((j) => (j.frames.body_up_axis = [0, 0, 1]))), /body_up_axis/);
  assert.throws(() => parseTask(mutated((j) => (j.frames.quaternion_order = 'wxyz'))), /quaternion_order/);
});
