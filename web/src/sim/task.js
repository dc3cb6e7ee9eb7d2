// The task contract (web/public/models/task.json, the `cube` profile of orient_jax/profiles) is the
// single source of every constant the runtime uses. This module checks that a parsed
// task.json has everything the runtime reads, with sane values, and returns it frozen.
// It never supplies a default: a missing or wrong field stops with a message that
// says how to regenerate the file.

import { buildObservation } from './observation.js';

export const TASK_VERSION = 1;

const REGENERATE = 'regenerate it with `make spec` (python -m orient_jax.profiles cube)';

export class TaskError extends Error {
  constructor(message) {
    super(`task.json: ${message}; ${REGENERATE}`);
    this.name = 'TaskError';
  }
}

function get(obj, path) {
  let v = obj;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object' || !(key in v)) throw new TaskError(`missing field "${path}"`);
    v = v[key];
  }
  return v;
}

function number(obj, path, { min = -Infinity, max = Infinity, integer = false } = {}) {
  const v = get(obj, path);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TaskError(`"${path}" must be a finite number, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw new TaskError(`"${path}" = ${v} is outside [${min}, ${max}]`);
  if (integer && !Number.isInteger(v)) throw new TaskError(`"${path}" must be an integer, got ${v}`);
  return v;
}

function vector(obj, path, length) {
  const v = get(obj, path);
  if (!Array.isArray(v) || v.length !== length || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new TaskError(`"${path}" must be ${length} finite numbers, got ${JSON.stringify(v)}`);
  }
  return v;
}

function string(obj, path) {
  const v = get(obj, path);
  if (typeof v !== 'string' || !v) throw new TaskError(`"${path}" must be a non-empty string`);
  return v;
}

function close(a, b, what) {
  if (Math.abs(a - b) > 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))) {
    throw new TaskError(`${what}: ${a} != ${b} (the file is inconsistent)`);
  }
}

function deepFreeze(o) {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * Validate a parsed task.json and return it (deep-frozen). Throws TaskError naming the
 * first problem.
 */
export function parseTask(json) {
  if (json === null || typeof json !== 'object') throw new TaskError('not a JSON object');
  const version = number(json, 'version', { integer: true });
  if (version !== TASK_VERSION) throw new TaskError(`version ${version}, this runtime reads version ${TASK_VERSION}`);

  const positive = { min: Number.MIN_VALUE };
  const fraction = { min: 0, max: 1 };
  for (const k of ['timestep', 'gravity', 'box_size', 'box_mass', 'arena_half_width', 'wall_height', 'drop_height']) {
    number(json, `physics.${k}`, positive);
  }
  for (const k of ['linear_damping', 'angular_damping']) number(json, `physics.${k}`, { min: 0, max: 0.999 });
  number(json, 'physics.friction', { min: 0 });
  number(json, 'physics.substeps', { min: 1, integer: true });
  for (const k of ['max_torque', 'episode_seconds']) number(json, `actuation.${k}`, positive);
  number(json, 'actuation.torque_ramp', fraction);
  number(json, 'actuation.disturbance_prob', fraction);
  number(json, 'actuation.disturbance_torque', { min: 0 });
  number(json, 'success.max_tilt_deg', { min: 0, max: 180 });
  number(json, 'success.max_angular_speed', positive);
  number(json, 'success.hold_seconds', { min: 0 });
  number(json, 'success.within_seconds', positive);
  number(json, 'observation.angular_velocity_scale', positive);
  for (const k of ['inertia', 'control_dt']) number(json, `derived.${k}`, positive);
  for (const k of ['episode_steps', 'hold_steps', 'success_deadline_steps']) {
    number(json, `derived.${k}`, { min: 1, integer: true });
  }
  vector(json, 'derived.camera_offset', 3);
  number(json, 'camera.fov_deg', { min: 1, max: 179 });
  number(json, 'camera.distance', positive);
  number(json, 'camera.elevation_deg', { min: -90, max: 90 });
  number(json, 'camera.azimuth_deg');
  number(json, 'camera.resolution', { min: 8, integer: true });
  vector(json, 'camera.background_rgb', 3);
  for (const k of ['pose_input', 'pose_output', 'policy_input', 'policy_output']) string(json, `onnx.${k}`);
  vector(json, 'onnx.image_mean', 3);
  vector(json, 'onnx.image_std', 3).forEach((s) => {
    if (s <= 0) throw new TaskError('"onnx.image_std" must be positive');
  });

  // Frames: the runtime is written for exactly this convention (no swizzle anywhere).
  const up = vector(json, 'frames.body_up_axis', 3);
  if (up[0] !== 0 || up[1] !== 1 || up[2] !== 0) throw new TaskError(`frames.body_up_axis must be [0,1,0], got ${up}`);
  if (string(json, 'frames.quaternion_order') !== 'xyzw') throw new TaskError('frames.quaternion_order must be "xyzw"');
  if (string(json, 'frames.torque_frame') !== 'body') throw new TaskError('frames.torque_frame must be "body"');

  // Observation layout: named slots that tile [0, size) without gaps or overlaps, in any
  // order; the parts this runtime builds (observation.js) must fit them, which pack checks.
  const size = number(json, 'observation.size', { min: 1, integer: true });
  const slots = get(json, 'observation.slots');
  if (!Array.isArray(slots)) throw new TaskError('"observation.slots" must be a list');
  slots.forEach((s, i) => {
    string(json, `observation.slots.${i}.name`);
    number(json, `observation.slots.${i}.start`, { min: 0, integer: true });
    number(json, `observation.slots.${i}.size`, { min: 1, integer: true });
  });
  let offset = 0;
  for (const s of [...slots].sort((a, b) => a.start - b.start)) {
    if (s.start !== offset) throw new TaskError(`slot "${s.name}" starts at ${s.start}, expected ${offset}`);
    offset += s.size;
  }
  if (offset !== size) throw new TaskError(`slots cover ${offset} values, observation.size is ${size}`);
  const actionSize = number(json, 'action.size', { min: 1, integer: true });
  if (actionSize !== 3) throw new TaskError(`action.size must be 3 (a body-frame torque), got ${actionSize}`);

  // Derived values must agree with what they derive from.
  const p = json.physics;
  close(json.derived.control_dt, p.timestep * p.substeps, 'derived.control_dt vs timestep * substeps');
  close(json.derived.inertia, (p.box_mass * p.box_size ** 2) / 6, 'derived.inertia vs box_mass * box_size^2 / 6');
  close(json.derived.episode_steps, Math.round(json.actuation.episode_seconds / json.derived.control_dt), 'derived.episode_steps');
  close(json.derived.hold_steps, Math.round(json.success.hold_seconds / json.derived.control_dt), 'derived.hold_steps');

  // The slots are the ones this runtime builds: one observation, for pack's check.
  try {
    buildObservation(json, [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0], [0, 0, 0]);
  } catch (e) {
    throw new TaskError(e.message);
  }

  return deepFreeze(structuredClone(json));
}

/** The slot table as { name: {start, size} }. */
export function slotTable(task) {
  return Object.fromEntries(task.observation.slots.map((s) => [s.name, { start: s.start, size: s.size }]));
}
