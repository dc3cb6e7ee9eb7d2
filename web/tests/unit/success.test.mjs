import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SuccessTracker } from '../../src/sim/success.js';
import { fromAxisAngle } from '../../src/sim/quat.js';
import { task } from './helpers.mjs';

const upright = fromAxisAngle([1, 0, 0], (9.9 * Math.PI) / 180);
const tilted = fromAxisAngle([1, 0, 0], (10.1 * Math.PI) / 180);
const hold = task.derived.hold_steps; // 30

test('success latches after hold_steps upright-and-still steps; time is when the hold began', () => {
  const s = new SuccessTracker(task);
  for (let i = 0; i < 10; i++) s.update(tilted, [0, 0, 0]);
  for (let i = 0; i < hold - 1; i++) assert.equal(s.update(upright, [0, 0.49, 0]), false);
  assert.equal(s.update(upright, [0, 0, 0]), true);
  assert.ok(Math.abs(s.successTime - 10 * task.derived.control_dt) < 1e-12);
  s.update(tilted, [5, 0, 0]); // a latch stays latched
  assert.equal(s.success, true);
});

test('moving too fast or tilting breaks the hold', () => {
  const s = new SuccessTracker(task);
  for (let i = 0; i < hold - 1; i++) s.update(upright, [0, 0, 0]);
  s.update(upright, [0.3, 0.4, 0.01]); // |w| just above 0.5 rad/s
  assert.equal(s.hold, 0);
  for (let i = 0; i < hold - 1; i++) s.update(upright, [0, 0, 0]);
  s.update(tilted, [0, 0, 0]);
  assert.equal(s.success, false);
});

test('a hold completed after the deadline does not count', () => {
  const s = new SuccessTracker(task);
  const late = task.derived.success_deadline_steps - hold + 1;
  for (let i = 0; i < late; i++) s.update(tilted, [0, 0, 0]);
  for (let i = 0; i < hold; i++) s.update(upright, [0, 0, 0]);
  assert.equal(s.success, false);
});
