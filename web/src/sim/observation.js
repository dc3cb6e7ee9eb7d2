// The policy's observation, as CubeObserver.parts and pack in
// orient_jax/tasks/rotation/observers.py build it: the builder computes named parts and
// pack lays them out by task.json's observation.slots, the one place the layout is written.
// The parts, each as task.json's slot of the same name describes it:
//   quat              observed q_t (x,y,z,w), sign fixed so w >= 0
//   up_world          body +Y in world = column 1 of R(q_t)
//   world_up_in_body  world +Y in body = row 1 of R(q_t)
//   prev_quat         observed q_{t-1}, sign aligned with q_t (= q_t right after a reset)
//   angular_velocity  rotvec(conj(prev) * q_t) / control_dt / angular_velocity_scale, clipped to [-1, 1]
//   action_prev       action at t-1 (zeros after a reset)
//   action_prev2      action at t-2 (zeros after a reset)
// Everything is computed from *observed* quaternions (noisy, or the CNN's), never the truth.

import { alignSign, canonical, conjugate, multiply, normalize, toMatrix, toRotvec } from './quat.js';

const clip1 = (x) => Math.min(1, Math.max(-1, x));

/**
 * The observation vector (Float32Array of observation.size): each named part ({ name: numbers })
 * at its slot of observation.slots. Throws, naming the slots, when the parts' names or sizes
 * differ from the slots' (a missing part, an extra one, or one of the wrong size).
 */
export function pack(observation, parts) {
  const sizes = new Map();
  const problems = [];
  for (const s of observation.slots) {
    if (sizes.has(s.name)) problems.push(`slot ${s.name} is listed twice`);
    sizes.set(s.name, s.size);
  }
  const missing = [...sizes.keys()].filter((name) => !Object.hasOwn(parts, name));
  const extra = Object.keys(parts).filter((name) => !sizes.has(name));
  if (missing.length) problems.push(`no part for slot(s) ${missing.join(', ')}`);
  if (extra.length) problems.push(`part(s) ${extra.join(', ')} have no slot`);
  for (const [name, value] of Object.entries(parts)) {
    if (sizes.has(name) && value.length !== sizes.get(name)) {
      problems.push(`part ${name} has ${value.length} numbers, slot ${name} holds ${sizes.get(name)}`);
    }
  }
  if (problems.length) {
    throw new Error(`observation parts do not fit the slots [${[...sizes.keys()].join(', ')}]: ${problems.join('; ')}`);
  }
  const out = new Float32Array(observation.size);
  for (const s of observation.slots) out.set(parts[s.name], s.start);
  return out;
}

/** The named parts of the observation; a pure function of its inputs. */
export function observationParts(task, qObs, qPrev, actionPrev, actionPrev2) {
  const q = canonical(normalize(qObs));
  const prev = alignSign(normalize(qPrev), q);
  const r = toMatrix(q);
  const rel = multiply(conjugate(prev), q);
  const scale = 1 / (task.derived.control_dt * task.observation.angular_velocity_scale);
  return {
    quat: q,
    up_world: [r[0][1], r[1][1], r[2][1]],
    world_up_in_body: r[1],
    prev_quat: prev,
    angular_velocity: toRotvec(rel).map((w) => clip1(w * scale)),
    action_prev: actionPrev,
    action_prev2: actionPrev2,
  };
}

/** The observation vector: observationParts laid out by task.observation.slots. */
export function buildObservation(task, qObs, qPrev, actionPrev, actionPrev2) {
  return pack(task.observation, observationParts(task, qObs, qPrev, actionPrev, actionPrev2));
}

/** Keeps what the observation needs from earlier control steps (previous q, two actions). */
export class ObservationTracker {
  constructor(task) {
    this.task = task;
    this.reset();
  }

  /** After a reset the next observation's prev_quat equals its quat and the actions are zero. */
  reset() {
    this.prevQuat = null;
    this.actions = [
      [0, 0, 0],
      [0, 0, 0],
    ];
  }

  /** Record the action taken (clipped to [-1, 1], as the env clips it). */
  recordAction(action) {
    this.actions = [Array.from(action, clip1), this.actions[0]];
  }

  /** The observation for the newly observed quaternion; remembers it as the next prev. */
  observe(qObs) {
    const q = canonical(normalize(qObs));
    const prev = this.prevQuat ?? q;
    this.prevQuat = q;
    return buildObservation(this.task, q, prev, this.actions[0], this.actions[1]);
  }
}
