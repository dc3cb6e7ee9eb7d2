// The CNN's measured error model in the Node harness: the pose the page would get from its
// pose model is the true pose turned by a random rotation whose angle follows the model.
//
// The model is the JSON `python -m experiments.evaluate vision` writes (orient_jax/envs/noise.py):
//   {"kind": "angle_quantiles", "quantiles_deg": [q0, ..., qK-1], "source": "..."}
// quantiles at evenly spaced probabilities 0, 1/(K-1), ..., 1. A draw is what the MJX env
// draws: u uniform in [0, K-1), the angle linearly interpolated between the quantiles, the
// axis uniform on the sphere, and the observed pose canonical(noise * q_true), w >= 0.

import { readFile } from 'node:fs/promises';

import { seededRandom } from './rng.mjs';

export const NOISE_MODEL_KIND = 'angle_quantiles';

export class NoiseModelError extends Error {}

/** The quantiles in degrees, checked as the Python side checks them. */
export function checkNoiseModel(data, where = 'noise model') {
  if (data === null || typeof data !== 'object' || data.kind !== NOISE_MODEL_KIND) {
    throw new NoiseModelError(`${where}: expected kind=${JSON.stringify(NOISE_MODEL_KIND)}`);
  }
  const q = data.quantiles_deg;
  if (!Array.isArray(q) || q.length < 2) throw new NoiseModelError(`${where}: needs at least 2 quantiles in a flat list`);
  if (!q.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 180)) {
    throw new NoiseModelError(`${where}: quantiles must be finite angles in [0, 180] degrees`);
  }
  if (q.some((v, i) => i > 0 && v < q[i - 1])) throw new NoiseModelError(`${where}: quantiles must be non-decreasing`);
  return q.slice();
}

export async function loadNoiseModel(file) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NoiseModelError(`noise model ${file}: ${e.code === 'ENOENT' ? 'not found' : e.message}`);
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new NoiseModelError(`noise model ${file} is not valid JSON: ${e.message}`);
  }
  return checkNoiseModel(data, `noise model ${file}`);
}

/** One angle in radians for a uniform u in [0, 1), by linear interpolation between quantiles. */
export function angleAt(quantilesDeg, u) {
  const x = u * (quantilesDeg.length - 1);
  const i = Math.min(Math.floor(x), quantilesDeg.length - 2);
  const deg = quantilesDeg[i] + (x - i) * (quantilesDeg[i + 1] - quantilesDeg[i]);
  return (deg * Math.PI) / 180;
}

/** Hamilton product of two [x, y, z, w] quaternions. */
export function multiply(a, b) {
  const [ax, ay, az, aw] = a;
  const [bx, by, bz, bw] = b;
  return [
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
    aw * bw - ax * bx - ay * by - az * bz,
  ];
}

/**
 * A seeded source of noisy poses: `observe(q)` returns canonical(noise * q) for a fresh
 * noise rotation drawn from the model. Its generator is its own, so the physics' seeded
 * Math.random draws the same drop and kicks with or without it.
 */
export function noisyPoses(quantilesDeg, seed) {
  const rnd = seededRandom(seed);
  return (q) => {
    const angle = angleAt(quantilesDeg, rnd());
    const z = 2 * rnd() - 1; // a uniform axis: z uniform in [-1, 1], longitude uniform
    const phi = 2 * Math.PI * rnd();
    const r = Math.sqrt(Math.max(0, 1 - z * z));
    const s = Math.sin(angle / 2);
    const noise = [s * r * Math.cos(phi), s * r * Math.sin(phi), s * z, Math.cos(angle / 2)];
    const out = multiply(noise, q);
    const norm = Math.hypot(...out) * (out[3] < 0 ? -1 : 1);
    return out.map((v) => v / norm);
  };
}
