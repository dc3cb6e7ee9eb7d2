// The evaluation loop with a hand-written controller in place of policy.onnx: if the
// frames, the body-frame torque, the observation slots and the success rule fit
// together, a textbook controller that reads only the observation turns the box upright.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { evaluate } from '../../src/sim/evaluate.js';
import { constantNoise } from '../../src/sim/noise.js';
import { slotTable } from '../../src/sim/task.js';
import { task } from './helpers.mjs';

const slots = slotTable(task);

/** Torque towards world up (in body frame: e_y x up_b), damped by the rate estimate. */
async function pdPolicy(obs, n) {
  const size = task.observation.size;
  const out = new Float32Array(n * 3);
  for (let k = 0; k < n; k++) {
    const o = obs.subarray(k * size, (k + 1) * size);
    const [ux, uy, uz] = o.subarray(slots.world_up_in_body.start, slots.world_up_in_body.start + 3);
    const w = o.subarray(slots.angular_velocity.start, slots.angular_velocity.start + 3);
    // e_y x u = (uz, 0, -ux); when upside down (uy < 0) and the axis is tiny, push about body X.
    let ax = uz;
    let az = -ux;
    if (uy < 0 && Math.hypot(ax, az) < 0.3) ax += 0.5;
    const gain = 2.0;
    // angular_velocity is scaled by 1/20, so 1.0 is 0.025 N m per rad/s; more damping
    // amplifies the rate estimate's noise (5 deg per step is ~0.4 after scaling).
    const damp = 1.0;
    out[k * 3 + 0] = Math.max(-1, Math.min(1, gain * ax - damp * w[0]));
    out[k * 3 + 1] = Math.max(-1, Math.min(1, -damp * w[1]));
    out[k * 3 + 2] = Math.max(-1, Math.min(1, gain * az - damp * w[2]));
  }
  return out;
}

test('a PD controller on the observation turns the box upright (truth and 5 deg noise)', async () => {
  const truth = await evaluate({ task, policy: pdPolicy, episodes: 40, seed: 1, batch: 40 });
  const noisy = await evaluate({ task, policy: pdPolicy, episodes: 40, seed: 1, batch: 40, noise: constantNoise(5) });
  console.log(`PD controller: truth ${truth.success_rate} (median ${truth.median_time_to_upright_s} s), noisy ${noisy.success_rate}`);
  assert.ok(truth.success_rate >= 0.9, `truth ${truth.success_rate}`);
  assert.ok(noisy.success_rate >= 0.9, `noisy ${noisy.success_rate}`);
  assert.equal(truth.diverged, 0);
});

test('the evaluation is deterministic per seed and batch size does not change it', async () => {
  const a = await evaluate({ task, policy: pdPolicy, episodes: 6, seed: 4, batch: 6, noise: constantNoise(5) });
  const b = await evaluate({ task, policy: pdPolicy, episodes: 6, seed: 4, batch: 2, noise: constantNoise(5) });
  assert.deepEqual(a, b);
});

test('holding the observation for N steps (the page with "CNN every N frames")', async () => {
  const every = await evaluate({ task, policy: pdPolicy, episodes: 10, seed: 2, batch: 10, noise: constantNoise(5) });
  const held = await evaluate({ task, policy: pdPolicy, episodes: 10, seed: 2, batch: 10, noise: constantNoise(5), observeEvery: 4 });
  assert.equal(held.observe_every, 4);
  assert.ok(held.success_rate > 0);
  const explicit = await evaluate({ task, policy: pdPolicy, episodes: 10, seed: 2, batch: 10, noise: constantNoise(5), observeEvery: 1 });
  assert.deepEqual(explicit, every);
  await assert.rejects(evaluate({ task, policy: pdPolicy, episodes: 1, observeEvery: 0 }), /observeEvery/);
});
