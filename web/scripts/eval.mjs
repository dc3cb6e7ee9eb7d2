#!/usr/bin/env node
// Headless evaluation of the shipped policy.onnx in the browser's physics (cannon-es),
// with the same modules the page runs: 1,000 random starts with ground-truth
// observations, then the same starts with the noise model.
//
//   npm --prefix web run eval -- --episodes 1000 --json
//   npm --prefix web run eval -- --noise-model ../models/pose/error_model.json
//
// With --json the last line of stdout is one JSON object (success_rate_truth,
// success_rate_noisy, median times, ...).

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';

import { loadPolicy } from '../src/infer/models.js';
import { evaluate } from '../src/sim/evaluate.js';
import { constantNoise, parseNoiseModel } from '../src/sim/noise.js';
import { parseTask } from '../src/sim/task.js';

const here = dirname(fileURLToPath(import.meta.url));
// `npm --prefix web run eval` runs in web/; paths on the command line are meant
// relative to where the command was typed (npm passes that as INIT_CWD).
const userPath = (p) => resolve(process.env.INIT_CWD ?? process.cwd(), p);
const modelsDir = resolve(here, '../public/models');

const HELP = `usage: npm --prefix web run eval -- [options]
  --episodes N       random starts per condition (default 1000)
  --seed S           episode i depends only on (S, i) (default 0)
  --noise-model F    angle-quantile noise JSON (orient_jax/envs/noise.py format)
  --noise-deg D      constant noise angle when no --noise-model is given (default 5)
  --no-disturbances  turn the random torque kicks off
  --policy F         policy ONNX (default web/public/models/policy.onnx)
  --task F           task JSON (default web/public/models/task.json)
  --batch B          episodes stepped together (default 1000)
  --cnn-interval N   refresh the noisy observation every N control steps and hold it in
                     between, as the page does with "CNN every N frames" (default 1)
  --json             print one JSON object as the last line`;

function readJson(path, what) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${what} ${path} not found`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} ${path} is not valid JSON: ${e.message}`);
  }
}

async function main() {
  const { values: a } = parseArgs({
    options: {
      episodes: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '0' },
      'noise-model': { type: 'string' },
      'noise-deg': { type: 'string', default: '5' },
      'no-disturbances': { type: 'boolean', default: false },
      policy: { type: 'string', default: resolve(modelsDir, 'policy.onnx') },
      task: { type: 'string', default: resolve(modelsDir, 'task.json') },
      batch: { type: 'string', default: '1000' },
      'cnn-interval': { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (a.help) return console.log(HELP);
  const episodes = Number(a.episodes);
  const batch = Number(a.batch);
  const seed = Number(a.seed);
  if (!Number.isInteger(episodes) || episodes <= 0) throw new Error(`--episodes must be a positive integer, got ${a.episodes}`);
  if (!Number.isInteger(batch) || batch <= 0) throw new Error(`--batch must be a positive integer, got ${a.batch}`);
  const cnnInterval = Number(a['cnn-interval']);
  if (!Number.isInteger(cnnInterval) || cnnInterval < 1) throw new Error(`--cnn-interval must be an integer >= 1, got ${a['cnn-interval']}`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${a.seed}`);

  const task = parseTask(readJson(userPath(a.task), 'task'));
  const noisePath = a['noise-model'] && userPath(a['noise-model']);
  const noise = noisePath ? parseNoiseModel(readJson(noisePath, 'noise model'), noisePath) : constantNoise(Number(a['noise-deg']));
  let bytes;
  try {
    bytes = readFileSync(userPath(a.policy));
  } catch {
    throw new Error(`policy ${a.policy} not found; export it with the ONNX exporter (it writes web/public/models/policy.onnx)`);
  }
  ort.env.wasm.numThreads = 1; // deterministic, and kind to a shared machine
  const model = await loadPolicy(ort, task, new Uint8Array(bytes), 'wasm');
  const policy = (obs, n) => model.act(obs, n);
  const disturbances = !a['no-disturbances'];
  const log = (s) => (a.json ? console.error(s) : console.log(s));

  const out = {};
  for (const [label, noiseModel] of [['truth', null], ['noisy', noise]]) {
    const t0 = performance.now();
    const r = await evaluate({
      task,
      policy,
      episodes,
      seed,
      noise: noiseModel,
      disturbances,
      batch,
      observeEvery: noiseModel ? cnnInterval : 1,
      onProgress: process.stderr.isTTY ? (k, n) => process.stderr.write(`  ${label}: ${k}/${n} episodes\r\x1b[K`) : undefined,
    });
    const s = (performance.now() - t0) / 1000;
    const med = r.median_time_to_upright_s;
    log(
      `${label.padEnd(6)} success ${(100 * r.success_rate).toFixed(1)} %  median time to upright ${med === null ? 'n/a' : med.toFixed(3) + ' s'}` +
        `  p90 ${r.p90_time_to_upright_s?.toFixed(3) ?? 'n/a'} s  diverged ${r.diverged}  (${episodes} episodes, ${s.toFixed(1)} s)` +
        (noiseModel ? `  noise: ${noiseModel.source}, median ${noiseModel.medianDeg().toFixed(2)} deg` : '') +
        (noiseModel && cnnInterval > 1 ? `, observed every ${cnnInterval} steps` : ''),
    );
    out[`success_rate_${label}`] = r.success_rate;
    out[`median_time_to_upright_${label}_s`] = med;
    out[`p90_time_to_upright_${label}_s`] = r.p90_time_to_upright_s;
    out[`diverged_${label}`] = r.diverged;
  }
  Object.assign(out, {
    episodes,
    seed,
    disturbances,
    cnn_interval_noisy: cnnInterval,
    noise_model: noisePath ?? null,
    noise_quantiles_deg: noise.quantilesDeg,
    physics: 'cannon-es',
    policy: userPath(a.policy),
    onnxruntime_web: ort.env.versions?.web ?? null,
  });
  if (a.json) console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`eval: ${e.message}`);
  process.exit(1);
});
