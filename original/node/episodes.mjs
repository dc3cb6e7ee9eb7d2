// Seeded drops in the original's own physics and simulation code (Node). Each drop is a
// fresh SimulationController, as after a page load: the page's mesh is set, Math.random
// is seeded, and the controller steps at its own cadence (the pose model every 5th
// control step, INFERENCE_INTERVAL in index.html) with the RL policy on. The pose it is
// given is the true one (the physics quaternion when the page would render the inference
// image), or, with a noise model (`noise.mjs`), the true one turned by the CNN's measured
// error, a fresh draw at each of those steps; the CNN itself is measured in Chromium.

import { noisyPoses } from './noise.mjs';
import { loadRuntime } from './runtime.mjs';
import { seededRandom } from './rng.mjs';

/** The seed of a drop's pose-noise generator: a stream apart from the physics' Math.random. */
export const noiseSeed = (seed) => (seed ^ 0x6e6f6973) >>> 0;

export const INFERENCE_INTERVAL = 5; // index.html: const INFERENCE_INTERVAL = 5
export const CONTROL_HZ = 60; // index.html: FIXED_TIME_STEP = 1 / 60, one simulation.step each

/** Upright: body +Y within maxTiltDeg of world +Y and angular speed below maxSpeed, held for holdSteps. */
export const DEFAULT_SUCCESS = { maxTiltDeg: 10, maxSpeed: 0.5, holdSeconds: 0.5, withinSeconds: 10 };

function tiltDeg(q) {
  // World +Y component of body +Y, for q = (x, y, z, w): 1 - 2 (x^2 + z^2).
  const cos = 1 - 2 * (q.x * q.x + q.z * q.z);
  return (Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI;
}

/**
 * Run `episodes` seeded drops with the policy in `policyBytes` (ONNX). `noise`: the error
 * model's quantiles in degrees (`loadNoiseModel`), or null for the true pose. `onDrop(row, k)`
 * is called after the k-th drop (1-based).
 * Returns { episodes, upright, rows: [{seed, success, timeS, finalTiltDeg, maxAbsX, maxAbsZ}] }.
 */
export async function runDrops({ runtimeDir, ort, policyBytes, mesh, episodes, seed0 = 0, success = DEFAULT_SUCCESS, noise = null, onDrop = () => {} }) {
  const { simulation } = await loadRuntime(runtimeDir, ort);
  // The page loads its models on WebGPU only; which provider runs is not part of the
  // contract, so here the policy session is made on WASM and handed to the manager.
  const session = await ort.InferenceSession.create(policyBytes, { executionProviders: ['wasm'] });
  const holdSteps = Math.round(success.holdSeconds * CONTROL_HZ);
  const maxSteps = Math.round(success.withinSeconds * CONTROL_HZ);
  const realRandom = Math.random;
  const realLog = console.log;
  console.log = () => {}; // the original logs every start and stop; its errors still show
  const rows = [];
  try {
    for (let e = 0; e < episodes; e++) {
      const seed = seed0 + e;
      Math.random = seededRandom(seed);
      const sim = new simulation.SimulationController();
      sim.inference.rlSession = session;
      sim.inference.isReady = true;
      const body = () => sim.physics.boxBody;
      // The true pose, as the page's inference image shows it: the canonical physics quaternion,
      // or that pose as the CNN's error model would report it.
      const observe = noise ? noisyPoses(noise, noiseSeed(seed)) : (q) => q;
      sim.inference.predictPose = async () => ({ quaternion: observe(sim.physics.getState().quaternion) });
      sim.physics.start();
      sim.physics.setMeshShape(mesh.vertices, mesh.indices);
      sim.start();
      sim.setRLEnabled(true);
      const renderer = { domElement: {} };
      let hold = 0;
      let done = null;
      let maxAbsX = 0;
      let maxAbsZ = 0;
      for (let step = 1; step <= maxSteps && done === null; step++) {
        await sim.step(renderer, INFERENCE_INTERVAL);
        const q = body().quaternion;
        const w = body().angularVelocity;
        maxAbsX = Math.max(maxAbsX, Math.abs(body().position.x));
        maxAbsZ = Math.max(maxAbsZ, Math.abs(body().position.z));
        const still = Math.hypot(w.x, w.y, w.z) < success.maxSpeed;
        hold = tiltDeg(q) <= success.maxTiltDeg && still ? hold + 1 : 0;
        if (hold >= holdSteps) done = (step - holdSteps) / CONTROL_HZ;
      }
      rows.push({ seed, success: done !== null, timeS: done, finalTiltDeg: tiltDeg(body().quaternion), maxAbsX, maxAbsZ });
      onDrop(rows.at(-1), rows.length);
    }
  } finally {
    Math.random = realRandom;
    console.log = realLog;
  }
  const upright = rows.filter((r) => r.success).length;
  return { episodes, upright, rate: upright / episodes, rows };
}
