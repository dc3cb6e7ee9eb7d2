// window.orient: the page as the end-to-end tests drive it. Deterministic stepping off
// the animation loop, the inference camera's pictures, the CNN's errors on browser
// renders, and the readouts the tests check. Nothing here runs unless a test calls it.

import { InferenceView } from '../render/inferenceView.js';
import { geodesicAngle, randomUniform } from '../sim/quat.js';
import { Rng } from '../sim/rng.js';
import { showSettings } from '../ui/panel.js';

export function installTestHook({ info, task, runtime, loop, inference, pose, policy, objectTemplate }) {
  window.orient = {
    info,
    task,
    pause: () => loop.setRunning(false),
    start: () => loop.setRunning(true),
    reset(seed) {
      runtime.reset(seed);
      loop.draw();
      return runtime.state;
    },
    set(settings) {
      Object.assign(runtime.settings, settings);
      showSettings(runtime.settings);
      return { ...runtime.settings };
    },
    /** Run n control steps now (not tied to frames); stops early once success latches if asked. */
    stepFrames: (n, { stopOnSuccess = false } = {}) =>
      loop.drive(async () => {
        for (let i = 0; i < n; i++) {
          await runtime.controlStep();
          if (stopOnSuccess && runtime.episode.success.success) break;
        }
        return runtime.state;
      }),
    state: () => runtime.state,
    /** The inference camera's picture of orientation q, as a PNG data URL (what the CNN would get). */
    renderInference(q) {
      if (!inference) throw new Error('the object did not load');
      inference.capture(q);
      return inference.canvas.toDataURL('image/png');
    },
    /** The CNN's angular error (degrees) on n browser renders at uniformly random orientations. */
    async poseErrorsDeg(n, seed = 0) {
      if (!inference || !pose) throw new Error('the object or pose.onnx did not load');
      const rng = new Rng(seed);
      const errors = [];
      for (let i = 0; i < n; i++) {
        const q = randomUniform(rng);
        const predicted = await pose.predict(inference.capture(q));
        errors.push((geodesicAngle(predicted, q) * 180) / Math.PI);
      }
      return errors;
    },
    /** The same camera with one training image's lights, face colours and roughness (a fidelity check). */
    renderTrainingImage(q, imageParams) {
      if (!objectTemplate) throw new Error('the object did not load');
      const view = new InferenceView(task, objectTemplate);
      view.useTrainingImageParams(imageParams);
      view.capture(q);
      const url = view.canvas.toDataURL('image/png');
      view.renderer.dispose();
      view.renderer.forceContextLoss();
      return url;
    },
    fps: () => loop.fps(),
    cnnErrorsDeg: () => [...runtime.errorsDeg],
    resetStats() {
      runtime.errorsDeg = [];
      runtime.captureMs = [];
      pose?.resetStats();
      policy?.resetStats();
      loop.frameTimes.length = 0;
    },
  };
}
