// The error model in the Node harness: its draws follow the quantiles, its axes are
// uniform, its poses are canonical unit quaternions, and bad models are refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NoiseModelError, angleAt, checkNoiseModel, noisyPoses } from '../node/noise.mjs';
import { angleDeg, uniformQuats } from '../node/rotations.mjs';

const model = (q) => ({ kind: 'angle_quantiles', quantiles_deg: q });

test('a constant model turns every pose by exactly its angle', () => {
  const observe = noisyPoses([5, 5], 1);
  for (const q of uniformQuats(200, 2)) {
    const seen = observe(q);
    assert.ok(Math.abs(Math.hypot(...seen) - 1) < 1e-12);
    assert.ok(seen[3] >= 0);
    assert.ok(Math.abs(angleDeg(seen, q) - 5) < 1e-6);
  }
});

test("draws follow the model's quantiles and its axes cover the sphere", () => {
  const quantiles = [0, 1, 2.5, 4, 30];
  const observe = noisyPoses(quantiles, 7);
  const q = [0, 0, 0, 1];
  const n = 40_000;
  const angles = [];
  const axisMean = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const seen = observe(q);
    angles.push(angleDeg(seen, q));
    const s = Math.hypot(seen[0], seen[1], seen[2]) || 1;
    for (let k = 0; k < 3; k++) axisMean[k] += Math.abs(seen[k]) / s / n;
  }
  angles.sort((a, b) => a - b);
  for (const [p, want] of [[0.25, 1], [0.5, 2.5], [0.75, 4], [0.875, 17]]) {
    assert.ok(Math.abs(angles[Math.floor(p * n)] - want) < 0.05 * want + 0.1, `quantile ${p}: ${angles[Math.floor(p * n)]} vs ${want}`);
  }
  for (const m of axisMean) assert.ok(Math.abs(m - 0.5) < 0.02, `mean |axis component| ${m}, uniform gives 0.5`);
});

test('the same seed gives the same draws, another seed others', () => {
  const qs = uniformQuats(20, 3);
  const a = qs.map(noisyPoses([0, 3, 9], 11));
  assert.deepEqual(qs.map(noisyPoses([0, 3, 9], 11)), a);
  assert.notDeepEqual(qs.map(noisyPoses([0, 3, 9], 12)), a);
});

test('angles interpolate linearly between quantiles, as the MJX env draws them', () => {
  const deg = (u) => (angleAt([0, 2, 10], u) * 180) / Math.PI;
  assert.ok(Math.abs(deg(0) - 0) < 1e-12);
  assert.ok(Math.abs(deg(0.25) - 1) < 1e-12);
  assert.ok(Math.abs(deg(0.75) - 6) < 1e-12);
  assert.ok(Math.abs(deg(0.999999) - 10) < 1e-3);
});

test('a model that is not an angle-quantile list is refused', () => {
  assert.deepEqual(checkNoiseModel(model([1, 2])), [1, 2]);
  for (const bad of [{ kind: 'gaussian', quantiles_deg: [1, 2] }, model([3]), model([2, 1]), model([0, 200]), model([0, NaN]), null]) {
    assert.throws(() => checkNoiseModel(bad), NoiseModelError);
  }
});
