import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildObservation, ObservationTracker } from '../../src/sim/observation.js';
import { fromAxisAngle } from '../../src/sim/quat.js';
import { assertClose, task } from './helpers.mjs';

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
