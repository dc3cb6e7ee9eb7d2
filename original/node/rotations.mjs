// Rotations for the harness: seeded uniform orientations and the angle between two.

import { seededRandom } from './rng.mjs';

/** `n` unit quaternions [x, y, z, w], uniform on SO(3) (Shoemake's method), from a seeded generator. */
export function uniformQuats(n, seed) {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const [u1, u2, u3] = [rnd(), rnd(), rnd()];
    const a = Math.sqrt(1 - u1);
    const b = Math.sqrt(u1);
    return [a * Math.sin(2 * Math.PI * u2), a * Math.cos(2 * Math.PI * u2), b * Math.sin(2 * Math.PI * u3), b * Math.cos(2 * Math.PI * u3)];
  });
}

/** The rotation angle between two unit quaternions, in degrees (q and -q are the same). */
export const angleDeg = (p, q) => (2 * Math.acos(Math.min(1, Math.abs(p.reduce((s, v, i) => s + v * q[i], 0)))) * 180) / Math.PI;
