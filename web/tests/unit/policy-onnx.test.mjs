// The shipped policy.onnx through onnxruntime-web (its Node build, WASM), with the
// browser contract checks, and a short evaluation in cannon-es.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-web';

import { contracts, createSession, loadPolicy, ModelError } from '../../src/infer/models.js';
import { evaluate } from '../../src/sim/evaluate.js';
import { constantNoise } from '../../src/sim/noise.js';
import { modelsDir, task } from './helpers.mjs';

ort.env.wasm.numThreads = 1;
const bytes = new Uint8Array(readFileSync(resolve(modelsDir, 'policy.onnx')));

test('policy.onnx keeps the contract and acts deterministically in [-1, 1]', async () => {
  const policy = await loadPolicy(ort, task, bytes, 'wasm');
  const obs = new Float32Array(4 * 23).map((_, i) => Math.sin(i));
  const a = await policy.act(obs, 4);
  const b = await policy.act(obs, 4);
  assert.equal(a.length, 12);
  assert.deepEqual(a, b);
  assert.ok(a.every((x) => x >= -1 && x <= 1));
});

test('a contract mismatch stops with a message naming the model and the value', async () => {
  const wrongName = { ...contracts(task).policy, input: 'obs' };
  await assert.rejects(createSession(ort, 'policy.onnx', bytes, wrongName, 'wasm'), (e) => e instanceof ModelError && /no input named "obs"/.test(e.message));
  const wrongShape = { ...contracts(task).policy, inputShape: [null, 24] };
  await assert.rejects(createSession(ort, 'policy.onnx', bytes, wrongShape, 'wasm'), /shape \[N,23\], expected \[N,24\]/);
  await assert.rejects(loadPolicy(ort, task, new Uint8Array([1, 2, 3]), 'wasm'), /policy\.onnx: could not be loaded on wasm/);
});

test('in cannon-es the shipped policy turns the box upright (100 starts, truth and 5 deg noise)', async () => {
  const policy = await loadPolicy(ort, task, bytes, 'wasm');
  const act = (obs, n) => policy.act(obs, n);
  const truth = await evaluate({ task, policy: act, episodes: 100, seed: 77, batch: 100 });
  const noisy = await evaluate({ task, policy: act, episodes: 100, seed: 77, batch: 100, noise: constantNoise(5) });
  console.log(`policy.onnx in cannon-es: truth ${truth.success_rate}, noisy ${noisy.success_rate}, median ${truth.median_time_to_upright_s} s`);
  assert.ok(truth.success_rate >= 0.97, `truth ${truth.success_rate}`);
  assert.ok(noisy.success_rate >= 0.95, `noisy ${noisy.success_rate}`);
});
