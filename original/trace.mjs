// The observations the original, unchanged simulation.js builds for a scripted run: its
// SimulationController with a stand-in physics that reports given orientations, and an
// inference manager that returns given predictions and actions. Reads JSON on stdin:
//   { "truth": [[x,y,z,w], ...], "predicted": [[x,y,z,w], ...], "actions": [[a0,a1,a2], ...] }
// (one entry per control step) and prints { "observations": [[23 numbers], ...],
// "torque_axes": [[x,y,z], ...] } (the body torque axes physics.js's setAction makes).
//
//   node original/trace.mjs --runtime-dir DIR < steps.json

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { loadRuntime, verifyRuntime } from './node/runtime.mjs';

const { values } = parseArgs({ options: { 'runtime-dir': { type: 'string', default: process.env.ORIGINAL_RUNTIME_DIR } } });

async function main() {
  await verifyRuntime(values['runtime-dir']);
  const script = JSON.parse(readFileSync(0, 'utf8'));
  const { simulation, physics } = await loadRuntime(values['runtime-dir'], {});
  const realLog = console.log;
  console.log = () => {};
  const sim = new simulation.SimulationController();
  const helper = new physics.PhysicsSimulation(); // only its pure helpers and setAction
  let step = 0;
  const observations = [];
  const torqueAxes = [];
  sim.physics = {
    predictedQuaternion: null,
    getState: () => ({ quaternion: script.truth[step], step_count: 4 * (step + 1) }),
    setPredictedQuaternion(q) {
      this.predictedQuaternion = helper.normalizeQuaternion(q);
    },
    quaternionToZAxis: (q) => helper.quaternionToZAxis(q),
    setAction(a) {
      helper.setAction(a);
      torqueAxes.push([helper.currentAction.x, helper.currentAction.y, helper.currentAction.z]);
    },
    setRLEnabled() {},
    step() {
      return this.getState();
    },
  };
  sim.inference = {
    ready: () => true,
    predictPose: async () => ({ quaternion: script.predicted[step] }),
    predictAction: async (obs) => {
      observations.push(Array.from(obs));
      return script.actions[step];
    },
  };
  sim.start();
  sim.setRLEnabled(true);
  for (step = 0; step < script.truth.length; step++) await sim.step({ domElement: {} }, 5);
  console.log = realLog;
  console.log(JSON.stringify({ observations, torque_axes: torqueAxes }));
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(2);
});
