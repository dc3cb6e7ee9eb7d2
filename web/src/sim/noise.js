// Observation noise: a random rotation, uniform axis, angle drawn from a quantile
// table -- the same model and JSON format as orient_jax/envs/noise.py:
//   {"kind": "angle_quantiles", "quantiles_deg": [...], "source": "..."}
// K quantiles sit at evenly spaced probabilities 0, 1/(K-1), ..., 1; a draw picks
// u ~ U[0, K-1) and interpolates linearly. A constant angle is [deg, deg].

import { fromAxisAngle, randomAxis } from './quat.js';

export const NOISE_MODEL_KIND = 'angle_quantiles';

export class NoiseModel {
  constructor(quantilesDeg, source = '') {
    const q = Array.from(quantilesDeg);
    if (q.length < 2) throw new Error('noise model needs at least 2 quantiles in a flat list');
    if (!q.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 180)) {
      throw new Error('noise quantiles must be finite angles in [0, 180] degrees');
    }
    for (let i = 1; i < q.length; i++) {
      if (q[i] < q[i - 1]) throw new Error('noise quantiles must be non-decreasing');
    }
    this.quantilesDeg = q;
    this.quantilesRad = q.map((d) => (d * Math.PI) / 180);
    this.source = source;
  }

  /** Draw the rotation angle in radians. */
  sampleAngle(rng) {
    const k = this.quantilesRad.length;
    const u = rng.uniform() * (k - 1);
    const i = Math.min(Math.floor(u), k - 2);
    const f = u - i;
    return this.quantilesRad[i] * (1 - f) + this.quantilesRad[i + 1] * f;
  }

  /** One noise rotation (unit quaternion, x y z w). Angle first, then axis. */
  sample(rng) {
    const angle = this.sampleAngle(rng);
    return fromAxisAngle(randomAxis(rng), angle);
  }

  medianDeg() {
    const s = [...this.quantilesDeg].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }
}

export function constantNoise(deg) {
  if (!(deg >= 0)) throw new Error(`noise angle must be >= 0 degrees, got ${deg}`);
  return new NoiseModel([deg, deg], `constant ${deg} deg`);
}

/** Parse a noise-model JSON object; `where` names the file in error messages. */
export function parseNoiseModel(json, where = 'noise model') {
  if (!json || typeof json !== 'object' || json.kind !== NOISE_MODEL_KIND) {
    throw new Error(`${where}: expected "kind": "${NOISE_MODEL_KIND}"`);
  }
  try {
    return new NoiseModel(json.quantiles_deg ?? [], json.source ?? where);
  } catch (e) {
    throw new Error(`${where}: ${e.message}`);
  }
}
