// The animation loop: one control step per displayed frame (at most one per control
// period), and a redraw only when something changed (a step, the camera, a reset, a
// push). While a caller drives the runtime itself (`drive`, the test hook), the loop
// neither steps nor draws: drawing every frame would compete with the models for the
// GPU process.

import { showError } from '../ui/errors.js';

/**
 * Frames per second from the times (ms, ascending) at which frames completed, over the
 * last second before `now`; drops older times from `times` in place. null without a
 * measurement: fewer than two frames, or a clock that did not advance between them (a
 * headless browser under --virtual-time-budget), which would otherwise divide by zero.
 */
export function framesPerSecond(times, now) {
  while (times.length && now - times[0] > 1000) times.shift();
  if (times.length < 2) return null;
  const fps = ((times.length - 1) * 1000) / (times.at(-1) - times[0]);
  return Number.isFinite(fps) && fps > 0 ? fps : null;
}

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

  /** Frames per second over the last second of control steps, or null (see framesPerSecond). */
  fps() {
    return framesPerSecond(this.frameTimes, performance.now());
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
