// Open-loop trajectories of the original's own physics.js (Node), for comparing another
// simulator with it. Each drop: a fresh page physics with its mesh, Math.random seeded for
// the page's random drop orientation, then a scripted action sequence through the page's
// own setAction (its axis map included). Disturbances are off: Math.random returns 0.5
// while stepping, so the page's 3 % draw never fires. What a drop records, per control
// step (4 physics steps): the quaternion (xyzw), the position and the world angular
// velocity.

import { loadRuntime } from './runtime.mjs';
import { seededRandom } from './rng.mjs';

/** A seeded action script [steps][3]: zeros for `quietSteps`, then uniform actions in [-1, 1] held `hold` steps each. */
export function scriptedActions(seed, steps, { quietSteps = 0, hold = 10 } = {}) {
  const random = seededRandom(seed ^ 0x5eed);
  const actions = [];
  let current = [0, 0, 0];
  for (let t = 0; t < steps; t++) {
    if (t >= quietSteps && (t - quietSteps) % hold === 0) current = [0, 1, 2].map(() => 2 * random() - 1);
    actions.push(t < quietSteps ? [0, 0, 0] : current);
  }
  return actions;
}

export async function recordDrops({ runtimeDir, ort, mesh, episodes, steps, seed0 = 0, quietSteps = 0, hold = 10 }) {
  const { simulation } = await loadRuntime(runtimeDir, ort);
  const realRandom = Math.random;
  const realLog = console.log;
  console.log = () => {};
  const drops = [];
  try {
    for (let e = 0; e < episodes; e++) {
      const seed = seed0 + e;
      Math.random = seededRandom(seed);
      const physics = new simulation.SimulationController().physics;
      physics.start();
      physics.setMeshShape(mesh.vertices, mesh.indices); // resets: the drop orientation draws Math.random
      Math.random = () => 0.5; // no disturbance fires (physics.js: Math.random() < 0.03)
      const body = physics.boxBody;
      const q0 = [body.quaternion.x, body.quaternion.y, body.quaternion.z, body.quaternion.w];
      const actions = scriptedActions(seed, steps, { quietSteps, hold });
      const quaternion = [];
      const position = [];
      const angularVelocity = [];
      for (const action of actions) {
        physics.setAction(action);
        physics.step(4);
        quaternion.push([body.quaternion.x, body.quaternion.y, body.quaternion.z, body.quaternion.w]);
        position.push([body.position.x, body.position.y, body.position.z]);
        angularVelocity.push([body.angularVelocity.x, body.angularVelocity.y, body.angularVelocity.z]);
      }
      drops.push({ seed, q0, actions, quaternion, position, angularVelocity });
    }
  } finally {
    Math.random = realRandom;
    console.log = realLog;
  }
  return drops;
}
