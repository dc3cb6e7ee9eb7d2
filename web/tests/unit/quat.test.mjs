import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as quat from '../../src/sim/quat.js';
import { Rng } from '../../src/sim/rng.js';
import { assertClose } from './helpers.mjs';

const rng = new Rng(7);
const randoms = Array.from({ length: 50 }, () => quat.randomUniform(rng));

test('rotate agrees with the rotation matrix, whose columns are the body axes in world', () => {
  for (const q of randoms) {
    const r = quat.toMatrix(q);
    for (let j = 0; j < 3; j++) {
      const e = [0, 0, 0];
      e[j] = 1;
      assertClose(quat.rotate(q, e), [r[0][j], r[1][j], r[2][j]], 1e-12);
    }
  }
});

test('hand-computed: +90 deg about X takes body +Y to world +Z', () => {
  const q = quat.fromAxisAngle([1, 0, 0], Math.PI / 2);
  assertClose(q, [Math.SQRT1_2, 0, 0, Math.SQRT1_2], 1e-12);
  assertClose(quat.rotate(q, [0, 1, 0]), [0, 0, 1], 1e-12);
  assertClose(quat.rotate(q, [0, 0, 1]), [0, -1, 0], 1e-12);
  assert.ok(Math.abs(quat.tiltDeg(q) - 90) < 1e-9);
});

test('multiply composes rotations: (a*b) v = a (b v)', () => {
  for (let i = 0; i + 1 < randoms.length; i++) {
    const [a, b] = [randoms[i], randoms[i + 1]];
    const v = [0.3, -1.2, 2.0];
    assertClose(quat.rotate(quat.multiply(a, b), v), quat.rotate(a, quat.rotate(b, v)), 1e-12);
  }
});

test('rotation vector round trip, and q * conj(q) is the identity', () => {
  for (const q of randoms) {
    assertClose(quat.fromRotvec(quat.toRotvec(q)), quat.canonical(q), 1e-9);
    assertClose(quat.canonical(quat.multiply(q, quat.conjugate(q))), [0, 0, 0, 1], 1e-12);
  }
  assertClose(quat.toRotvec([0, 0, 0, 1]), [0, 0, 0], 0);
  assertClose(quat.toRotvec(quat.fromAxisAngle([0, 0, 1], 0.1)), [0, 0, 0.1], 1e-12);
});

test('geodesic angle ignores the sign, and measures the relative rotation', () => {
  const q = randoms[0];
  const neg = q.map((x) => -x);
  assert.ok(quat.geodesicAngle(q, neg) < 1e-7);
  const d = quat.fromAxisAngle(quat.randomAxis(rng), 0.3);
  assert.ok(Math.abs(quat.geodesicAngle(q, quat.multiply(d, q)) - 0.3) < 1e-9);
});

test('canonical and alignSign pick hemispheres', () => {
  assert.deepEqual(quat.canonical([0.1, 0.2, 0.3, -0.9]), [-0.1, -0.2, -0.3, 0.9]);
  assert.deepEqual(quat.alignSign([0, 0, 1, 0], [0, 0, -1, 0]), [-0, -0, -1, -0]);
});

test('random rotations are uniform: E[body up . world up] = 0, up_y ~ U[-1, 1]', () => {
  const r = new Rng(1);
  const ys = Array.from({ length: 20000 }, () => quat.rotate(quat.randomUniform(r), [0, 1, 0])[1]);
  const mean = ys.reduce((s, y) => s + y, 0) / ys.length;
  const below = ys.filter((y) => y < 0.5).length / ys.length; // U[-1,1]: P(y < 0.5) = 0.75
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(below - 0.75) < 0.015, `P(y<0.5) ${below}`);
});

test('the rng is reproducible and seeds give different streams', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xs = Array.from({ length: 5 }, () => a.uniform());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.uniform()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.uniform()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});
