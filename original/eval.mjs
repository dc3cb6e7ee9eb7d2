// Seeded drops of a policy in the original, unchanged runtime's own physics.js and
// simulation.js (Node), with the true pose at the page's cadence, or with the CNN's
// measured error on it (--noise-model, the error_model.json of `experiments.evaluate vision`).
//
//   node original/eval.mjs --runtime-dir DIR [--policy FILE] [--noise-model FILE] [--episodes 200] [--seed 0] [--progress] [--json]
//
// --policy defaults to DIR/static/models/rl-model.onnx (whatever the runtime holds now).
// --progress writes a line `drop K/N` to stderr after each drop.
// The runtime's files are checked against their sha256 at 6957ebb first.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

import * as ort from 'onnxruntime-web';

import { runDrops } from './node/episodes.mjs';
import { pageMesh } from './node/glb.mjs';
import { loadNoiseModel } from './node/noise.mjs';
import { HOW_TO_GET, verifyRuntime } from './node/runtime.mjs';

const { values } = parseArgs({
  options: {
    'runtime-dir': { type: 'string', default: process.env.ORIGINAL_RUNTIME_DIR },
    policy: { type: 'string' },
    'noise-model': { type: 'string' },
    episodes: { type: 'string', default: '200' },
    seed: { type: 'string', default: '0' },
    progress: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

async function main() {
  const dir = values['runtime-dir'];
  if (!dir) throw new Error(`no runtime folder: ${HOW_TO_GET}`);
  await verifyRuntime(dir);
  const policy = values.policy ?? path.join(dir, 'static/models/rl-model.onnx');
  const episodes = Number(values.episodes);
  if (!Number.isInteger(episodes) || episodes <= 0) throw new Error(`--episodes must be a positive integer, got ${values.episodes}`);
  const noiseFile = values['noise-model'];
  const noise = noiseFile ? await loadNoiseModel(noiseFile) : null;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const mesh = await pageMesh(path.join(dir, 'static/models/engine.glb'));
  const t0 = performance.now();
  const result = await runDrops({ runtimeDir: dir, ort, policyBytes: await readFile(policy), mesh, episodes, seed0: Number(values.seed), noise,
    onDrop: values.progress ? (_, k) => process.stderr.write(`drop ${k}/${episodes}\n`) : undefined });
  const times = result.rows.filter((r) => r.success).map((r) => r.timeS).sort((a, b) => a - b);
  const summary = {
    policy,
    pose: noiseFile ? `true pose turned by the error model ${noiseFile}` : 'true pose',
    noise_model: noiseFile ?? null,
    episodes,
    upright: result.upright,
    upright_rate: result.rate,
    median_time_to_upright_s: times.length ? times[times.length >> 1] : null,
    left_the_walls: result.rows.filter((r) => r.maxAbsX > 0.5 || r.maxAbsZ > 0.5).length,
    wall_s: (performance.now() - t0) / 1000,
  };
  (values.json ? console.error : console.log)(`${policy} (${summary.pose}): upright ${result.upright}/${episodes} (${(100 * result.rate).toFixed(1)} %), median time ${summary.median_time_to_upright_s ?? '–'} s; ${summary.left_the_walls} left the 1 m walls`);
  if (values.json) console.log(JSON.stringify({ ...summary, rows: result.rows }));
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(2);
});
