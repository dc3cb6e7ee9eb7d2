// The animation loop: one control step per displayed frame (at most one per control
// period), and a redraw only when something changed (a step, the camera, a reset, a
// push). While a caller drives the runtime itself (`drive`, the test hook), the loop
// neither steps nor draws: drawing every frame would compete with the models for the
// GPU process.

import { showError } from '../ui/errors.js';

export class AnimationLoop {
  /**
   * @param runtime    the Runtime to step
   * @param draw       draws the views and the readouts (called with no arguments)
   * @param stepMs     the control period in ms
   * @param onRunning  called with the new state whenever the loop starts or pauses
   *                   (also when a step throws: the loop pauses and shows the error)
   */
  constructor(runtime, { draw, stepMs, onRunning }) {
    this.runtime = runtime;
    this.drawViews = draw;
    this.stepMs = stepMs;
    this.onRunning = onRunning;
    this.running = false;
    this.driven = false;
    this.dirty = true;
    this.lastStep = -Infinity;
    this.frameTimes = [];
  }

  /** Frames per second over the last second of control steps, or null before two. */
  fps() {
    const now = performance.now();
    const t = this.frameTimes;
    while (t.length && now - t[0] > 1000) t.shift();
    if (t.length < 2) return null;
    const span = t.at(-1) - t[0];
    return span > 0 ? ((t.length - 1) * 1000) / span : null; // a stalled clock is no figure
  }

  draw() {
    this.drawViews();
  }

  markDirty() {
    this.dirty = true;
  }

  setRunning(running) {
    this.running = running;
    this.onRunning(running);
  }

  /** Run `fn` (async) with the loop standing aside; then draw once. */
  async drive(fn) {
    this.driven = true;
    try {
      return await fn();
    } finally {
      this.driven = false;
      this.draw();
    }
  }

  start() {
    const frame = async (now) => {
      try {
        if (this.running && !this.driven && now - this.lastStep >= 0.9 * this.stepMs) {
          this.lastStep = now;
          await this.runtime.controlStep();
          this.frameTimes.push(performance.now());
          this.dirty = true;
        }
        if (this.dirty && !this.driven) {
          this.dirty = false;
          this.draw();
        }
      } catch (e) {
        this.setRunning(false);
        showError(`the control loop stopped: ${e.message}`);
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }
}
