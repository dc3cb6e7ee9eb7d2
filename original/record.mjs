// Open-loop drops in the original, unchanged runtime's physics.js (Node), as JSON, for
// measuring how far another simulator (MJX: experiments.original_transfer) disagrees.
//
//   node original/record.mjs --runtime-dir DIR [--episodes 50] [--steps 300] [--quiet-steps 0]
//                            [--hold 10] [--seed 0] --out FILE
//
// The runtime's files are checked against their sha256 at 6957ebb first.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

import * as ort from 'onnxruntime-web';

import { pageMesh } from './node/glb.mjs';
import { HOW_TO_GET, verifyRuntime } from './node/runtime.mjs';
import { recordDrops } from './node/trajectories.mjs';

const { values } = parseArgs({
  options: {
    'runtime-dir': { type: 'string', default: process.env.ORIGINAL_RUNTIME_DIR },
    episodes: { type: 'string', default: '50' },
    steps: { type: 'string', default: '300' },
    'quiet-steps': { type: 'string', default: '0' },
    hold: { type: 'string', default: '10' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});

function count(name, min) {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${values[name]}`);
  return n;
}

async function main() {
  const dir = values['runtime-dir'];
  if (!dir) throw new Error(`no runtime folder: ${HOW_TO_GET}`);
  if (!values.out) throw new Error('--out FILE is required');
  await verifyRuntime(dir);
  const mesh = await pageMesh(path.join(dir, 'static/models/engine.glb'));
  const drops = await recordDrops({
    runtimeDir: dir,
    ort,
    mesh,
    episodes: count('episodes', 1),
    steps: count('steps', 1),
    seed0: count('seed', 0),
    quietSteps: count('quiet-steps', 0),
    hold: count('hold', 1),
  });
  await writeFile(values.out, JSON.stringify({ runtime: 'physics.js at 6957ebb', control_dt: 4 / 240, drops }));
  console.log(`${drops.length} drops of ${values.steps} control steps -> ${values.out}`);
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(2);
});
