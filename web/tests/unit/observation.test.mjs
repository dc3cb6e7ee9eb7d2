import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildObservation, ObservationTracker, observationParts, pack } from '../../src/sim/observation.js';
import { fromAxisAngle } from '../../src/sim/quat.js';
import { parseTask, slotTable } from '../../src/sim/task.js';
import { assertClose, task, taskJson } from './helpers.mjs';

const s = Math.SQRT1_2;

test('slots hand-computed: q = +90 deg about X, prev = q rotated back 0.1 rad about body Z', () => {
  // R(q) maps body +Y to world +Z and body +Z to world -Y, so
  //   up_world = column 1 of R = (0, 0, 1); world +Y in body = row 1 of R = (0, 0, -1).
  const q = [s, 0, 0, s];
  // prev = q * exp(-0.1 z) (a body-frame turn), so conj(prev) * q = exp(+0.1 z):
  //   angular velocity = (0, 0, 0.1) / (1/60 s) / 20 = (0, 0, 0.3).
  const prev = [s * Math.cos(0.05), s * Math.sin(0.05), -s * Math.sin(0.05), s * Math.cos(0.05)];
  const obs = buildObservation(task, q, prev, [0.1, -0.2, 0.3], [-1, 0.5, 0]);
  assert.equal(obs.length, 23);
  assertClose(obs.subarray(0, 4), [s, 0, 0, s], 1e-7, 'quat');
  assertClose(obs.subarray(4, 7), [0, 0, 1], 1e-7, 'up_world');
  assertClose(obs.subarray(7, 10), [0, 0, -1], 1e-7, 'world_up_in_body');
  assertClose(obs.subarray(10, 14), prev, 1e-7, 'prev_quat');
  assertClose(obs.subarray(14, 17), [0, 0, 0.3], 1e-6, 'angular_velocity');
  assertClose(obs.subarray(17, 20), [0.1, -0.2, 0.3], 1e-7, 'action_prev');
  assertClose(obs.subarray(20, 23), [-1, 0.5, 0], 1e-7, 'action_prev2');
});

test('signs: q gets w >= 0, prev joins its hemisphere, so -q as prev means no motion', () => {
  const q = [0, 0.6, 0, -0.8];
  const obs = buildObservation(task, q, [0, 0.6, 0, -0.8], [0, 0, 0], [0, 0, 0]);
  assertClose(obs.subarray(0, 4), [0, -0.6, 0, 0.8], 1e-7);
  assertClose(obs.subarray(10, 14), [0, -0.6, 0, 0.8], 1e-7);
  assertClose(obs.subarray(14, 17), [0, 0, 0], 1e-7);
});

test('the angular velocity estimate is clipped to [-1, 1]', () => {
  const q = fromAxisAngle([1, 0, 0], 1.0); // 1 rad in one control step: 60 rad/s / 20 = 3 -> 1
  const obs = buildObservation(task, q, [0, 0, 0, 1], [0, 0, 0], [0, 0, 0]);
  assertClose(obs.subarray(14, 17), [1, 0, 0], 1e-7);
});

test('the tracker: after a reset prev = q and actions are zero; then it remembers q and two actions', () => {
  const tr = new ObservationTracker(task);
  const q0 = fromAxisAngle([0, 1, 0], 0.4);
  const o0 = tr.observe(q0);
  assertClose(o0.subarray(10, 14), o0.subarray(0, 4), 0);
  assertClose(o0.subarray(14, 23), new Array(9).fill(0), 0);
  tr.recordAction([0.5, 2, -3]); // clipped like the env clips
  const q1 = fromAxisAngle([0, 1, 0], 0.41);
  const o1 = tr.observe(q1);
  assertClose(o1.subarray(10, 14), o0.subarray(0, 4), 1e-7);
  assertClose(o1.subarray(14, 17), [0, (0.01 * 60) / 20, 0], 1e-6);
  assertClose(o1.subarray(17, 23), [0.5, 1, -1, 0, 0, 0], 0);
  tr.recordAction([0, 0, 0.25]);
  const o2 = tr.observe(q1);
  assertClose(o2.subarray(17, 23), [0, 0, 0.25, 0.5, 1, -1], 0);
  tr.reset();
  assertClose(tr.observe(q1).subarray(14, 23), new Array(9).fill(0), 0);
});

/** task.json with its slots laid out in `order` (slot names), listed as before. */
function permuted(order) {
  const j = structuredClone(taskJson);
  const size = Object.fromEntries(j.observation.slots.map((s) => [s.name, s.size]));
  let at = 0;
  const start = {};
  for (const name of order) {
    start[name] = at;
    at += size[name];
  }
  for (const s of j.observation.slots) s.start = start[s.name];
  return parseTask(j);
}

const names = task.observation.slots.map((s) => s.name);
const parts = Object.fromEntries(task.observation.slots.map((s) => [s.name, Array.from({ length: s.size }, (_, i) => s.start + i / 10)]));

test('pack puts each named part at its slot, whatever the order of the slots', () => {
  for (const order of [names, [...names].reverse(), [...names.slice(3), ...names.slice(0, 3)]]) {
    const layout = permuted(order);
    const obs = pack(layout.observation, parts);
    assert.equal(obs.length, 23);
    for (const [name, { start, size }] of Object.entries(slotTable(layout))) {
      assertClose(obs.subarray(start, start + size), parts[name], 1e-6, `${order}: ${name}`);
    }
  }
  const reversed = pack(permuted([...names].reverse()).observation, parts);
  assertClose(reversed, [...names].reverse().flatMap((n) => parts[n]), 1e-6, 'reversed end to end');
});

test('pack refuses parts that do not fit the slots, naming them', () => {
  const slots = '[quat, up_world, world_up_in_body, prev_quat, angular_velocity, action_prev, action_prev2]';
  const fits = (p) => () => pack(task.observation, p);
  const { prev_quat: _, ...missing } = parts;
  assert.throws(fits(missing), { message: `observation parts do not fit the slots ${slots}: no part for slot(s) prev_quat` });
  assert.throws(fits({ ...parts, spin: [0, 0, 0] }), /: part\(s\) spin have no slot$/);
  assert.throws(fits({ ...parts, quat: [0, 0, 1] }), /: part quat has 3 numbers, slot quat holds 4$/);
  const twice = { ...task.observation, slots: [...task.observation.slots, task.observation.slots[0]] };
  assert.throws(() => pack(twice, parts), /slot quat is listed twice/);
});

test('the built observation follows a permuted slot table: same numbers, other places', () => {
  const other = permuted([...names].reverse());
  const q = fromAxisAngle([0.3, -0.5, 0.8], 2.0);
  const prev = fromAxisAngle([0.3, -0.5, 0.8], 1.9);
  const args = [q, prev, [0.1, -0.2, 0.3], [-1, 0.5, 0]];
  const ours = buildObservation(task, ...args);
  const theirs = buildObservation(other, ...args);
  const a = slotTable(task);
  const b = slotTable(other);
  for (const name of names) {
    assert.deepEqual(theirs.subarray(b[name].start, b[name].start + b[name].size), ours.subarray(a[name].start, a[name].start + a[name].size), name);
  }
  const p = observationParts(task, ...args);
  assert.deepEqual(Object.keys(p).sort(), [...names].sort());
});
