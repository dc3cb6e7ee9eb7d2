// The policy's 23-slot observation, built exactly per task.json's slot meanings (the
// same as RotationEnv._observe in orient_jax/tasks/rotation/env.py):
//   quat              observed q_t (x,y,z,w), sign fixed so w >= 0
//   up_world          body +Y in world = column 1 of R(q_t)
//   world_up_in_body  world +Y in body = row 1 of R(q_t)
//   prev_quat         observed q_{t-1}, sign aligned with q_t (= q_t right after a reset)
//   angular_velocity  rotvec(conj(prev) * q_t) / control_dt / angular_velocity_scale, clipped to [-1, 1]
//   action_prev       action at t-1 (zeros after a reset)
//   action_prev2      action at t-2 (zeros after a reset)
// Everything is computed from *observed* quaternions (noisy, or the CNN's), never the truth.

import { alignSign, canonical, conjugate, multiply, normalize, toMatrix, toRotvec } from './quat.js';
import { slotTable } from './task.js';

const clip1 = (x) => Math.min(1, Math.max(-1, x));

/** A pure function of its inputs: the observation vector (Float32Array of observation.size). */
export function buildObservation(task, qObs, qPrev, actionPrev, actionPrev2) {
  const slots = slotTable(task);
  const out = new Float32Array(task.observation.size);
  const q = canonical(normalize(qObs));
  const prev = alignSign(normalize(qPrev), q);
  const r = toMatrix(q);
  const rel = multiply(conjugate(prev), q);
  const scale = 1 / (task.derived.control_dt * task.observation.angular_velocity_scale);
  const omega = toRotvec(rel).map((w) => clip1(w * scale));
  out.set(q, slots.quat.start);
  out.set([r[0][1], r[1][1], r[2][1]], slots.up_world.start);
  out.set(r[1], slots.world_up_in_body.start);
  out.set(prev, slots.prev_quat.start);
  out.set(omega, slots.angular_velocity.start);
  out.set(actionPrev, slots.action_prev.start);
  out.set(actionPrev2, slots.action_prev2.start);
  return out;
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
