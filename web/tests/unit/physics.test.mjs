import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BoxPhysics } from '../../src/sim/physics.js';
import { fromAxisAngle, rotate } from '../../src/sim/quat.js';
import { Rng } from '../../src/sim/rng.js';
import { assertClose, task } from './helpers.mjs';

const p = task.physics;
const dt = p.timestep;
const calm = () => new BoxPhysics(task, { disturbances: false });

test('the world is the spec: gravity -Y, inertia m s^2 / 6 (also what cannon-es computes for the box)', () => {
  const ph = calm();
  assertClose([ph.world.gravity.x, ph.world.gravity.y, ph.world.gravity.z], [0, -p.gravity, 0], 0);
  const I = (p.box_mass * p.box_size ** 2) / 6;
  const b = ph.box;
  assert.equal(b.mass, p.box_mass);
  assertClose([b.inertia.x, b.inertia.y, b.inertia.z], [I, I, I], 1e-15);
  const e = b.invInertiaWorld.elements;
  assertClose(e, [1 / I, 0, 0, 0, 1 / I, 0, 0, 0, 1 / I], 1e-9, 'invInertiaWorld');
  const fresh = new b.shapes[0].constructor(b.shapes[0].halfExtents);
  const computed = { x: 0, y: 0, z: 0 };
  fresh.calculateLocalInertia(p.box_mass, computed);
  assertClose([computed.x], [I], 1e-12, "cannon-es's own box inertia");
  assert.equal(b.linearDamping, p.linear_damping);
  assert.equal(b.angularDamping, p.angular_damping);
  assert.equal(ph.world.defaultContactMaterial.friction, p.friction);
});

test('the torque ramp: applied += ramp * (target - applied) per physics step', () => {
  const ph = calm();
  const target = [0.2, -0.1, 0.4];
  ph.physicsStep(target);
  assertClose(ph.appliedTorque, target.map((t) => 0.5 * t), 1e-15);
  ph.physicsStep(target);
  assertClose(ph.appliedTorque, target.map((t) => 0.75 * t), 1e-15);
  ph.controlStep([1, 1, 1]); // 4 steps towards max_torque
  assert.ok(ph.appliedTorque.every((t) => t > 0 && t < task.actuation.max_torque));
  ph.controlStep([9, -9, 0]); // actions are clipped to [-1, 1] before scaling
  ph.controlStep([9, -9, 0]);
  ph.controlStep([9, -9, 0]);
  assertClose(ph.appliedTorque, [0.5, -0.5, 0], 1e-3);
});

test('torque acts in the body frame: dw = dt * R(q) tau / I, in free fall', () => {
  const ph = calm();
  const q = fromAxisAngle([1, 0, 0], Math.PI / 2); // body +Y is world +Z
  ph.reset(q);
  ph.physicsStep([0, 0.4, 0]); // applied 0.2 N m about body +Y
  const I = task.derived.inertia;
  // cannon-es damps before it integrates forces: w = 0 * damping + dt * tau / I.
  const expected = rotate(q, [0, (0.2 * dt) / I, 0]);
  assertClose(ph.angularVelocity, expected, 1e-9);
  assertClose(expected, [0, 0, (0.2 * dt) / I], 1e-12);
});

test('damping: angular velocity scales by (1 - d)^dt per step; gravity accelerates the fall', () => {
  const ph = calm();
  ph.box.angularVelocity.set(0, 3, 0);
  ph.physicsStep([0, 0, 0]);
  assertClose(ph.angularVelocity, [0, 3 * (1 - p.angular_damping) ** dt, 0], 1e-12);
  assert.ok(Math.abs(ph.box.velocity.y + p.gravity * dt) < 1e-9);
});

test('the box lands and rests on the floor at half its size, inside the walls', () => {
  const ph = calm();
  ph.reset(fromAxisAngle([0.3, 0.9, 0.1], 0.7));
  ph.applyImpulse([2, 0, 1.5]); // a hard shove towards the +X/+Z corner
  for (let i = 0; i < 4 * 60; i++) ph.controlStep([0, 0, 0]); // 4 s
  const [x, y, z] = ph.position;
  const h = p.box_size / 2;
  const a = p.arena_half_width;
  assert.ok(y > h * 0.95 && y < h * Math.sqrt(3) * 1.01, `y = ${y}`);
  assert.ok(Math.abs(x) < a && Math.abs(z) < a, `escaped the arena: ${x}, ${z}`);
  assert.ok(Math.hypot(...ph.angularVelocity) < 0.05, 'still moving after 4 s');
});

test('disturbances: about disturbance_prob of the steps, each within +-disturbance_torque', () => {
  const ph = new BoxPhysics(task, { rng: new Rng(3), disturbances: true });
  let hits = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) {
    ph.physicsStep([0, 0, 0]);
    if (ph.lastKick) {
      hits++;
      assert.ok(ph.lastKick.every((k) => Math.abs(k) <= task.actuation.disturbance_torque));
    }
  }
  const rate = hits / n;
  assert.ok(Math.abs(rate - task.actuation.disturbance_prob) < 0.01, `rate ${rate}`);
});

test('same seed, same trajectory', () => {
  const run = () => {
    const ph = new BoxPhysics(task, { rng: new Rng(11) });
    ph.reset(fromAxisAngle([1, 0, 0], 2.5));
    for (let i = 0; i < 120; i++) ph.controlStep([Math.sin(i / 10), 0.3, -0.2]);
    return [...ph.position, ...ph.quaternion];
  };
  assert.deepEqual(run(), run());
});
