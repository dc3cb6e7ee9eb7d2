// The control loop the page runs, one control step at a time:
//   render the inference view -> pose.onnx -> observed quaternion -> 23-slot observation
//   -> policy.onnx -> action -> cannon-es for `substeps` physics steps.
// It knows nothing about the DOM; the animation loop (main.js) and the test hook call
// `controlStep()`. Each browser-rendered frame has a ground truth (the physics
// quaternion), so the CNN's angular error is logged for every prediction.

import { Episode } from '../sim/episode.js';
import { geodesicAngle, randomUniform } from '../sim/quat.js';
import { Rng } from '../sim/rng.js';

// Between CNN runs the policy sees the latest prediction, held. The Node evaluation
// (--cnn-interval N, CNN error model) measured what holding costs: 100 % success up to
// N = 4 (median time to upright 0.43 s at 1, 0.95 s at 4), 99 % at 6, 82 % at 8, 18 % at
// 15. So 'auto' never holds longer than 4 steps; a slower CNN slows the frame rate (and
// with it simulated time) instead of starving the policy.
export const MAX_AUTO_INTERVAL = 4;

const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export class Runtime {
  /**
   * @param task       parsed task.json
   * @param inference  InferenceView (or null when the object failed to load)
   * @param pose       PoseModel or null (failed to load: the vision loop is blocked, never faked)
   * @param policy     PolicyModel or null
   */
  constructor({ task, inference, pose, policy }) {
    this.task = task;
    this.inference = inference;
    this.pose = pose;
    this.policy = policy;
    this.settings = { vision: true, rl: true, cnnInterval: 'auto' };
    this.episode = new Episode(task, { rng: new Rng(0) });
    this.errorsDeg = []; // CNN error on every browser-rendered frame since the page loaded
    this.episodeErrorsDeg = [];
    this.prediction = null; // latest CNN quaternion
    this.observedErrorDeg = null;
    this.lastAction = [0, 0, 0];
    this.blocked = null; // why the loop cannot run the policy, or null
    this.seed = null;
    this.stepsSinceCnn = 0;
    this.captureMs = []; // render + readPixels + tensor, per CNN frame
  }

  /** A new episode from a random orientation; the same seed gives the same start and kicks. */
  reset(seed = Math.floor(Math.random() * 2 ** 31)) {
    const rng = new Rng(seed);
    const q0 = randomUniform(rng);
    this.episode.physics.rng = rng.fork();
    this.episode.reset(q0);
    this.seed = seed;
    this.prediction = null;
    this.observedErrorDeg = null;
    this.episodeErrorsDeg = [];
    this.lastAction = [0, 0, 0];
    this.stepsSinceCnn = 0;
    return q0;
  }

  /**
   * CNN runs every `interval` control steps; 'auto' fits the CNN's median latency into
   * the frame budget, up to MAX_AUTO_INTERVAL.
   */
  get cnnInterval() {
    const s = this.settings.cnnInterval;
    if (s !== 'auto') return s;
    const ms = this.pose?.medianMs;
    const budget = 0.6 * this.task.derived.control_dt * 1000; // leave room for rendering and physics
    return ms === null || ms === undefined ? 1 : Math.min(MAX_AUTO_INTERVAL, Math.max(1, Math.ceil(ms / budget)));
  }

  /** The orientation the policy will see this step. */
  async sense() {
    const qTrue = this.episode.trueQuat;
    if (!this.settings.vision) return qTrue;
    if (!this.pose || !this.inference) return null;
    if (this.prediction === null || this.stepsSinceCnn + 1 >= this.cnnInterval) {
      const t0 = performance.now();
      const input = this.inference.capture(qTrue);
      this.captureMs.push(performance.now() - t0);
      if (this.captureMs.length > 600) this.captureMs.shift();
      this.prediction = await this.pose.predict(input);
      const err = (geodesicAngle(this.prediction, qTrue) * 180) / Math.PI;
      this.errorsDeg.push(err);
      this.episodeErrorsDeg.push(err);
      this.stepsSinceCnn = 0;
    } else {
      this.stepsSinceCnn += 1; // hold the latest prediction between CNN runs
    }
    this.observedErrorDeg = (geodesicAngle(this.prediction, qTrue) * 180) / Math.PI;
    return this.prediction;
  }

  /** One control step (1/60 s of simulated time). */
  async controlStep() {
    const qObs = await this.sense();
    let action = [0, 0, 0];
    this.blocked = null;
    if (this.settings.rl) {
      if (!this.policy) this.blocked = 'policy.onnx did not load';
      else if (qObs === null) this.blocked = 'pose.onnx did not load: the camera loop cannot run (switch the observation to ground truth to run the policy without vision)';
      else action = Array.from(await this.policy.act(this.episode.observe(qObs), 1));
    } else if (qObs !== null) {
      this.episode.observe(qObs); // keep the observation's memory in step
    }
    this.episode.act(action);
    this.lastAction = action;
  }

  push(impulse, offset) {
    this.episode.physics.applyImpulse(impulse, offset);
  }

  get state() {
    const ep = this.episode;
    return {
      seed: this.seed,
      steps: ep.success.time,
      simTime: ep.success.time * this.task.derived.control_dt,
      tiltDeg: ep.tiltDeg,
      success: ep.success.success,
      successTime: ep.success.successTime,
      quat: ep.trueQuat,
      position: ep.physics.position,
      prediction: this.prediction,
      predictionErrorDeg: this.episodeErrorsDeg.at(-1) ?? null, // on the latest CNN frame
      observedErrorDeg: this.settings.vision ? this.observedErrorDeg : null, // what the policy saw last step
      cnnMedianErrorDeg: median(this.errorsDeg),
      cnnEpisodeMedianErrorDeg: median(this.episodeErrorsDeg),
      cnnFrames: this.errorsDeg.length,
      cnnInterval: this.cnnInterval,
      action: this.lastAction,
      blocked: this.blocked,
      poseMs: this.pose?.lastMs ?? null,
      poseMedianMs: this.pose?.medianMs ?? null,
      policyMs: this.policy?.lastMs ?? null,
      policyMedianMs: this.policy?.medianMs ?? null,
      captureMedianMs: median(this.captureMs),
    };
  }
}
