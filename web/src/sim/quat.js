// Quaternion math in the task's convention: arrays [x, y, z, w] that rotate body-frame
// vectors into the world frame (v_world = q v_body q*). Mirrors orient_jax/quat.py so
// the page, the Node evaluation and the Python side compute the same numbers.
// Pure functions on plain arrays; no DOM, no three.js, no cannon-es.

export function norm(q) {
  return Math.hypot(q[0], q[1], q[2], q[3]);
}

export function normalize(q, eps = 1e-12) {
  const n = Math.max(norm(q), eps);
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

export function conjugate(q) {
  return [-q[0], -q[1], -q[2], q[3]];
}

/** Hamilton product a * b: apply b first, then a. */
export function multiply(a, b) {
  const [ax, ay, az, aw] = a;
  const [bx, by, bz, bw] = b;
  return [
    aw * bx + bw * ax + (ay * bz - az * by),
    aw * by + bw * ay + (az * bx - ax * bz),
    aw * bz + bw * az + (ax * by - ay * bx),
    aw * bw - (ax * bx + ay * by + az * bz),
  ];
}

/** Rotate the vector v by the unit quaternion q. */
export function rotate(q, v) {
  const [x, y, z, w] = q;
  // t = 2 (q_v x v); v' = v + w t + q_v x t
  const tx = 2 * (y * v[2] - z * v[1]);
  const ty = 2 * (z * v[0] - x * v[2]);
  const tz = 2 * (x * v[1] - y * v[0]);
  return [
    v[0] + w * tx + (y * tz - z * ty),
    v[1] + w * ty + (z * tx - x * tz),
    v[2] + w * tz + (x * ty - y * tx),
  ];
}

/** Rotation matrix as rows [[r00,r01,r02],[r10,..],[r20,..]]; its columns are the body axes in world. */
export function toMatrix(q) {
  const [x, y, z, w] = q;
  return [
    [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
  ];
}

/** The sign with w >= 0 (q and -q are the same rotation). */
export function canonical(q) {
  return q[3] < 0 ? [-q[0], -q[1], -q[2], -q[3]] : [q[0], q[1], q[2], q[3]];
}

/** q flipped into the hemisphere of `reference` (non-negative dot product). */
export function alignSign(q, reference) {
  const dot = q[0] * reference[0] + q[1] * reference[1] + q[2] * reference[2] + q[3] * reference[3];
  return dot < 0 ? [-q[0], -q[1], -q[2], -q[3]] : [q[0], q[1], q[2], q[3]];
}

/** axis: unit 3-vector; angle in radians. */
export function fromAxisAngle(axis, angle) {
  const s = Math.sin(angle / 2);
  return [axis[0] * s, axis[1] * s, axis[2] * s, Math.cos(angle / 2)];
}

export function fromRotvec(v, eps = 1e-9) {
  const angle = Math.hypot(v[0], v[1], v[2]);
  const k = 1 / Math.max(angle, eps);
  return fromAxisAngle([v[0] * k, v[1] * k, v[2] * k], angle);
}

/** Rotation vector (axis * angle, angle in [0, pi]) of a unit quaternion. */
export function toRotvec(q, eps = 1e-9) {
  const c = canonical(q);
  const s = Math.hypot(c[0], c[1], c[2]);
  const angle = 2 * Math.atan2(s, c[3]);
  // angle / sin(angle/2) -> 2 as s -> 0: use the series there to stay finite.
  const scale = s > eps ? angle / s : 2 + (s * s) / 3;
  return [c[0] * scale, c[1] * scale, c[2] * scale];
}

/** Angle in radians of the rotation taking a to b; q and -q count as equal. */
export function geodesicAngle(a, b) {
  const rel = multiply(conjugate(normalize(a)), normalize(b));
  return 2 * Math.atan2(Math.hypot(rel[0], rel[1], rel[2]), Math.abs(rel[3]));
}

/** Angle in degrees between the body's up axis (+Y) and world +Y. */
export function tiltDeg(q) {
  const cosTilt = toMatrix(q)[1][1];
  return (Math.acos(Math.min(1, Math.max(-1, cosTilt))) * 180) / Math.PI;
}

/** Uniform rotation on SO(3): a 4D standard normal projected onto S^3 (as orient_jax.quat). */
export function randomUniform(rng) {
  return normalize([rng.normal(), rng.normal(), rng.normal(), rng.normal()]);
}

/** Uniform unit vector on S^2. */
export function randomAxis(rng) {
  const v = [rng.normal(), rng.normal(), rng.normal()];
  const n = Math.max(Math.hypot(v[0], v[1], v[2]), 1e-12);
  return [v[0] / n, v[1] / n, v[2] / n];
}
