// The Node harness against the original, unchanged runtime. Runs only when
// ORIGINAL_RUNTIME_DIR names its folder; otherwise every test skips and says how to get it.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import * as ort from 'onnxruntime-web';

import { runDrops } from '../node/episodes.mjs';
import { pageMesh } from '../node/glb.mjs';
import { HOW_TO_GET, RuntimeError, verifyRuntime } from '../node/runtime.mjs';

const DIR = process.env.ORIGINAL_RUNTIME_DIR;
const skip = DIR ? false : `ORIGINAL_RUNTIME_DIR is not set: ${HOW_TO_GET}`;
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

test('the runtime folder holds the original files byte for byte', { skip }, async () => {
  const found = await verifyRuntime(DIR);
  assert.equal(Object.keys(found).length, 7);
});

test('a changed or foreign folder is refused with the file named', async () => {
  await assert.rejects(verifyRuntime('/nonexistent-original'), (e) => e instanceof RuntimeError && /index.html is missing/.test(e.message));
});

test("the page's physics mesh is the GLB's primitives, raw and concatenated", { skip }, async () => {
  const mesh = await pageMesh(path.join(DIR, 'static/models/engine.glb'));
  assert.equal(mesh.vertices.length, 19033 * 3);
  assert.equal(mesh.indices.length % 3, 0);
  assert.ok(Math.max(...mesh.indices) === 19032 && Math.min(...mesh.indices) === 0);
});

test("seeded drops are reproducible and run the original's own code", { skip, timeout: 300_000 }, async () => {
  const mesh = await pageMesh(path.join(DIR, 'static/models/engine.glb'));
  const policyBytes = await readFile(path.join(DIR, 'static/models/rl-model.onnx'));
  const run = () => runDrops({ runtimeDir: DIR, ort, policyBytes, mesh, episodes: 2, seed0: 7 });
  const a = await run();
  const b = await run();
  assert.equal(a.episodes, 2);
  // The starts (and so the first steps) depend on the seed only; the original's policy
  // samples (RandomNormalLike), so later steps may differ.
  assert.deepEqual(a.rows.map((r) => r.seed), b.rows.map((r) => r.seed));
  for (const r of a.rows) assert.ok(Number.isFinite(r.finalTiltDeg));
});

test('harness rotations: unit, seeded, and q and -q at 0 deg', async () => {
  const { angleDeg, uniformQuats } = await import('../node/rotations.mjs');
  const qs = uniformQuats(50, 3);
  for (const q of qs) assert.ok(Math.abs(Math.hypot(...q) - 1) < 1e-12);
  assert.deepEqual(uniformQuats(50, 3), qs);
  assert.notDeepEqual(uniformQuats(50, 4), qs);
  const s = Math.SQRT1_2;
  assert.ok(Math.abs(angleDeg([0, 0, 0, 1], [s, 0, 0, s]) - 90) < 1e-9); // 90 deg about x
  assert.ok(angleDeg(qs[0], qs[0].map((v) => -v)) < 1e-6);
});
