// The success rule of task.json (as RotationEnv.step): after each control step the box
// counts as "upright and still" when body +Y is within max_tilt_deg of world +Y and its
// angular speed is below max_angular_speed. Success latches when that has held for
// hold_steps consecutive control steps, no later than success_deadline_steps. The time
// to upright is when that successful hold began.

import { toMatrix } from './quat.js';

export class SuccessTracker {
  constructor(task) {
    this.task = task;
    this.cosMaxTilt = Math.cos((task.success.max_tilt_deg * Math.PI) / 180);
    this.reset();
  }

  reset() {
    this.time = 0; // control steps since the reset
    this.hold = 0;
    this.success = false;
    this.successTime = null; // seconds, set when success latches
  }

  /** Call once per control step with the true state after it. Returns the latch. */
  update(qTrue, angularVelocity) {
    const { task } = this;
    const upright = toMatrix(qTrue)[1][1] >= this.cosMaxTilt;
    const still = Math.hypot(...angularVelocity) < task.success.max_angular_speed;
    this.hold = upright && still ? this.hold + 1 : 0;
    this.time += 1;
    if (!this.success && this.hold >= task.derived.hold_steps && this.time <= task.derived.success_deadline_steps) {
      this.success = true;
      this.successTime = (this.time - task.derived.hold_steps) * task.derived.control_dt;
    }
    return this.success;
  }
}
