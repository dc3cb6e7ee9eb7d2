// The original, unchanged runtime (sagerkudrick/main-prediction-RL at 6957ebb) in Node:
// its physics.js and simulation.js imported as they are from the folder the user gives.
// This module provides only what a browser would: module resolution for their imports
// (hooks.mjs), `document` with a stub canvas for the inference manager's constructor,
// and the global `ort`. It never edits or copies the original's files.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

register('./hooks.mjs', import.meta.url);

// The files this harness runs, with their sha256 at the original's commit: anything else
// is not the original, unchanged runtime. One table for Python and Node alike.
const RECORD = JSON.parse(
  readFileSync(new URL('../../orient_jax/profiles/original_files.json', import.meta.url), 'utf8'),
);
export const ORIGINAL_COMMIT = RECORD.commit;
export const ORIGINAL_FILES = RECORD.files;
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
