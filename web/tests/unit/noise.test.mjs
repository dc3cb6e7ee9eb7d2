import { test } from 'node:test';
import assert from 'node:assert/strict';

import { constantNoise, parseNoiseModel } from '../../src/sim/noise.js';
import { geodesicAngle } from '../../src/sim/quat.js';
import { Rng } from '../../src/sim/rng.js';

test('a constant model rotates by exactly its angle, about a uniform axis', () => {
  const rng = new Rng(5);
  const noise = constantNoise(5);
  let meanAxis = [0, 0, 0];
  for (let i = 0; i < 2000; i++) {
    const q = noise.sample(rng);
    assert.ok(Math.abs((geodesicAngle([0, 0, 0, 1], q) * 180) / Math.PI - 5) < 1e-9);
    const s = Math.sin((2.5 * Math.PI) / 180);
    meanAxis = meanAxis.map((m, k) => m + q[k] / s / 2000);
  }
  assert.ok(Math.hypot(...meanAxis) < 0.06, `axis mean ${meanAxis}`);
});

test('quantiles interpolate between evenly spaced probabilities', () => {
  const noise = parseNoiseModel({ kind: 'angle_quantiles', quantiles_deg: [0, 2, 10], source: 't' });
  const rng = new Rng(9);
  const angles = Array.from({ length: 20000 }, () => (noise.sampleAngle(rng) * 180) / Math.PI).sort((a, b) => a - b);
  const median = angles[angles.length >> 1];
  assert.ok(Math.abs(median - 2) < 0.1, `median ${median}`);
  assert.ok(angles[0] >= 0 && angles.at(-1) <= 10);
  assert.equal(noise.medianDeg(), 2);
});

test('bad noise files stop with a message', () => {
  assert.throws(() => parseNoiseModel({ kind: 'gauss' }, 'f.json'), /f\.json: expected "kind"/);
  assert.throws(() => parseNoiseModel({ kind: 'angle_quantiles', quantiles_deg: [3, 1] }), /non-decreasing/);
  assert.throws(() => parseNoiseModel({ kind: 'angle_quantiles', quantiles_deg: [1] }), /at least 2/);
  assert.throws(() => constantNoise(-1), />= 0/);
});
