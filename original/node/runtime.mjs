// The original, unchanged runtime (sagerkudrick/main-prediction-RL at 6957ebb) in Node:
// its physics.js and simulation.js imported as they are from the folder the user gives.
// This module provides only what a browser would: module resolution for their imports
// (hooks.mjs), `document` with a stub canvas for the inference manager's constructor,
// and the global `ort`. It never edits or copies the original's files.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

register('./hooks.mjs', import.meta.url);

// The files this harness runs, with their sha256 at 6957ebb: anything else is not the
// original, unchanged runtime.
export const ORIGINAL_COMMIT = '6957ebb';
export const ORIGINAL_FILES = {
  'index.html': '794c1d09376671b6a9ecf4531f354beabf7867cceb4619e8910b4e8be02d1901',
  'static/js/inference.js': '4b52f33b151a4afe0e3c4054bef7352d0a37b7278d991c10ac741c87568e8f97',
  'static/js/physics.js': '0ae27f8f8dd41ec94c392b6da61f4a204f51e864a52692eae2b764507950a80e',
  'static/js/simulation.js': '3401590d9c8cb1bd32583d63fe1ca9d1e6797dcf810907246720416e47d36c19',
  'static/js/light-helpers.js': '9fe912e8cc666639a4da2d35c31b86684d6898ae9ae6ebf52d42cfd8d58f8511',
  'static/js/vis_torque.js': '3f7ce553b5195fbebd27f224517ce1f92aa6ce002aa921299ecb362800e91d86',
  'static/models/engine.glb': 'f9b8cd95606324b097d126d145e21f180d6bba24ee14e6ba2d3cc108256f5cce',
};
export const HOW_TO_GET =
  'clone https://github.com/sagerkudrick/main-prediction-RL, check out 6957ebb, and pass its folder ' +
  '(ORIGINAL_RUNTIME_DIR=DIR, or --runtime-dir DIR)';

export class RuntimeError extends Error {}

/** Check that `dir` holds the original's files, byte for byte; returns their sha256s. */
export async function verifyRuntime(dir) {
  const found = {};
  for (const [name, want] of Object.entries(ORIGINAL_FILES)) {
    let bytes;
    try {
      bytes = await readFile(path.join(dir, name));
    } catch {
      throw new RuntimeError(`${path.join(dir, name)} is missing: ${dir} is not the original runtime; ${HOW_TO_GET}`);
    }
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== want) {
      throw new RuntimeError(`${path.join(dir, name)} differs from the original at ${ORIGINAL_COMMIT} (sha256 ${got.slice(0, 12)}, expected ${want.slice(0, 12)}); the checks run only on the unchanged runtime`);
    }
    found[name] = got;
  }
  return found;
}

function installBrowserGlobals(ort) {
  const context2d = { drawImage() {}, getImageData: (x, y, w, h) => ({ data: new Uint8ClampedArray(w * h * 4) }) };
  const canvas = () => ({ width: 0, height: 0, getContext: () => context2d });
  globalThis.document ??= { createElement: (tag) => (tag === 'canvas' ? canvas() : {}) };
  globalThis.ort = ort;
}

/**
 * Import the original's SimulationController from `dir`, with `ort` as the page's global.
 * Returns the module namespaces { simulation, physics }.
 */
export async function loadRuntime(dir, ort) {
  installBrowserGlobals(ort);
  const url = (name) => pathToFileURL(path.join(path.resolve(dir), name)).href;
  const simulation = await import(url('static/js/simulation.js'));
  const physics = await import(url('static/js/physics.js'));
  return { simulation, physics };
}
