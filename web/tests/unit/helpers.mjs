// Shared by the unit tests: the shipped task.json, parsed and validated.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import { parseTask } from '../../src/sim/task.js';

const here = dirname(fileURLToPath(import.meta.url));
export const modelsDir = resolve(here, '../../public/models');
export const taskJson = JSON.parse(readFileSync(resolve(modelsDir, 'task.json'), 'utf8'));
export const task = parseTask(taskJson);

export function assertClose(actual, expected, tol = 1e-6, msg = '') {
  const a = Array.from(actual);
  const e = Array.from(expected);
  assert.equal(a.length, e.length, `${msg} length ${a.length} != ${e.length}`);
  a.forEach((x, i) => assert.ok(Math.abs(x - e[i]) <= tol, `${msg} [${i}]: ${x} != ${e[i]} (tol ${tol}); got [${a}]`));
}
