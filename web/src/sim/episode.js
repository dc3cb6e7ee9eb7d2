// One episode of the task: physics, the observation's memory and the success rule,
// stepped at the control rate. Where the observed orientation comes from is the
// caller's business -- ground truth, truth plus a noise rotation (Node evaluation), or
// the pose CNN on a rendered frame (the page):
//
//   ep.reset(q0)
//   loop: obs = ep.observe(qObserved); action = policy(obs); ep.act(action)
//
// which is the order of RotationEnv.reset/step in orient_jax/tasks/rotation/env.py.

import { BoxPhysics } from './physics.js';
import { ObservationTracker } from './observation.js';
import { SuccessTracker } from './success.js';
import { canonical, multiply, tiltDeg } from './quat.js';

export class Episode {
  constructor(task, { rng, disturbances = true } = {}) {
    this.task = task;
    this.physics = new BoxPhysics(task, { rng, disturbances });
    this.tracker = new ObservationTracker(task);
    this.success = new SuccessTracker(task);
  }

  /** Start over from orientation q0 (x,y,z,w) at the drop height. */
  reset(q0) {
    this.physics.reset(q0);
    this.tracker.reset();
    this.success.reset();
  }

  /** The policy input for a newly observed orientation. */
  observe(qObserved) {
    return this.tracker.observe(qObserved);
  }

  /** Apply an action for one control step; updates the success latch. */
  act(action) {
    this.tracker.recordAction(action);
    this.physics.controlStep(action);
    this.success.update(this.physics.quaternion, this.physics.angularVelocity);
  }

  get trueQuat() {
    return this.physics.quaternion;
  }

  get tiltDeg() {
    return tiltDeg(this.physics.quaternion);
  }

  get done() {
    return this.success.time >= this.task.derived.episode_steps;
  }
}

/** The observation channel of the Node evaluation: truth rotated by a noise draw (world frame). */
export function noisySensor(noise, rng) {
  return (qTrue) => canonical(multiply(noise.sample(rng), qTrue));
}
