// The page's control loop without a browser: a fake inference view and pose model stand
// in for WebGL and pose.onnx (the loop itself is DOM-free).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MAX_AUTO_INTERVAL, Runtime } from '../../src/app/runtime.js';
import { fromAxisAngle, multiply } from '../../src/sim/quat.js';
import { task } from './helpers.mjs';

/** "Renders" hand the true quaternion through; the "CNN" returns it turned 2 deg about X. */
function fakes(latencyMs = 1) {
  const calls = { capture: 0, predict: 0, act: 0 };
  const inference = {
    capture: (q) => {
      calls.capture++;
      return q;
    },
  };
  const twist = fromAxisAngle([1, 0, 0], (2 * Math.PI) / 180);
  const pose = {
    medianMs: latencyMs,
    lastMs: latencyMs,
    predict: async (q) => {
      calls.predict++;
      return multiply(q, twist);
    },
  };
  const policy = {
    act: async (obs) => {
      calls.act++;
      assert.equal(obs.length, 23);
      return new Float32Array([0.1, 0, 0]);
    },
  };
  return { inference, pose, policy, calls };
}

test('every step: render, CNN, policy; the CNN error is logged against the physics truth', async () => {
  const f = fakes();
  const rt = new Runtime({ task, ...f });
  rt.reset(5);
  for (let i = 0; i < 10; i++) await rt.controlStep();
  assert.deepEqual(f.calls, { capture: 10, predict: 10, act: 10 });
  const s = rt.state;
  assert.ok(Math.abs(s.cnnMedianErrorDeg - 2) < 1e-6, `median ${s.cnnMedianErrorDeg}`);
  assert.equal(s.steps, 10);
  assert.deepEqual(s.action, [0.10000000149011612, 0, 0]);
});

test('the same seed gives the same episode', async () => {
  const run = async () => {
    const rt = new Runtime({ task, ...fakes() });
    rt.reset(9);
    for (let i = 0; i < 30; i++) await rt.controlStep();
    return rt.state.quat;
  };
  assert.deepEqual(await run(), await run());
});

test('the CNN interval: a fixed N runs it every N steps; auto follows its latency, capped', async () => {
  const f = fakes();
  const rt = new Runtime({ task, ...f });
  rt.settings.cnnInterval = 3;
  rt.reset(1);
  for (let i = 0; i < 9; i++) await rt.controlStep();
  assert.equal(f.calls.predict, 3);
  assert.equal(f.calls.act, 9);
  const budget = 0.6 * task.derived.control_dt * 1000;
  const auto = (ms) => new Runtime({ task, ...fakes(ms) }).cnnInterval;
  assert.equal(auto(1), 1);
  assert.equal(auto(1.5 * budget), 2);
  assert.equal(auto(100 * budget), MAX_AUTO_INTERVAL);
});

test('without pose.onnx the vision loop is blocked, never fed the truth', async () => {
  const f = fakes();
  const rt = new Runtime({ task, inference: f.inference, pose: null, policy: f.policy });
  rt.reset(2);
  await rt.controlStep();
  assert.match(rt.state.blocked, /pose\.onnx did not load/);
  assert.equal(f.calls.act, 0);
  rt.settings.vision = false; // an explicit choice: ground-truth observations
  await rt.controlStep();
  assert.equal(rt.state.blocked, null);
  assert.equal(f.calls.act, 1);
});
