// The box in a cannon-es world, configured from task.json alone (the same scene as
// orient_jax/tasks/rotation/env.py's MJCF): floor, four walls at +-arena_half_width, a cube
// of box_size and box_mass with isotropic inertia, gravity along -Y, cannon-es damping,
// friction. One control step = `substeps` fixed steps of `timestep`, each one
//   applied += torque_ramp * (target - applied)            (first-order ramp, body frame)
//   world torque = R(q) applied (+ a random kick with probability disturbance_prob)
//   world.step(timestep)
// No DOM and no three.js here: the page and the Node evaluation run this same module.

import * as CANNON from 'cannon-es';
import { rotate } from './quat.js';

// MuJoCo's default contacts do not bounce, and cannon-es's default contact material
// already has restitution 0; it is stated here so that nobody "fixes" it to cannon's
// per-material default (0.3). This is an engine setting, not a task constant.
const RESTITUTION = 0;

export class BoxPhysics {
  /**
   * @param task        parsed task.json (see task.js)
   * @param rng         an Rng for disturbances (see rng.js)
   * @param disturbances  whether random torque kicks are on (the task's default: yes)
   */
  constructor(task, { rng, disturbances = true } = {}) {
    if (disturbances && !rng) throw new Error('BoxPhysics: disturbances need an rng');
    this.task = task;
    this.rng = rng;
    this.disturbances = disturbances;
    const p = task.physics;

    const world = new CANNON.World({ gravity: new CANNON.Vec3(0, -p.gravity, 0) });
    world.allowSleep = false;
    world.defaultContactMaterial.friction = p.friction;
    world.defaultContactMaterial.restitution = RESTITUTION;
    this.world = world;

    // Planes are infinite half-spaces whose normal is the shape's local +Z.
    const a = p.arena_half_width;
    const planes = [
      { pos: [0, 0, 0], axis: [1, 0, 0], angle: -Math.PI / 2 }, // floor, normal +Y
      { pos: [a, 0, 0], axis: [0, 1, 0], angle: -Math.PI / 2 }, // normal -X
      { pos: [-a, 0, 0], axis: [0, 1, 0], angle: Math.PI / 2 }, // normal +X
      { pos: [0, 0, a], axis: [0, 1, 0], angle: Math.PI }, // normal -Z
      { pos: [0, 0, -a], axis: [0, 1, 0], angle: 0 }, // normal +Z
    ];
    for (const { pos, axis, angle } of planes) {
      const body = new CANNON.Body({ type: CANNON.Body.STATIC, shape: new CANNON.Plane() });
      body.position.set(...pos);
      body.quaternion.setFromAxisAngle(new CANNON.Vec3(...axis), angle);
      world.addBody(body);
    }

    const h = p.box_size / 2;
    const box = new CANNON.Body({
      mass: p.box_mass,
      shape: new CANNON.Box(new CANNON.Vec3(h, h, h)),
      linearDamping: p.linear_damping,
      angularDamping: p.angular_damping,
    });
    // The spec's isotropic inertia, set explicitly; cannon-es caches the world-frame
    // inverse inertia, so it must be refreshed (force=true: isotropic is otherwise skipped).
    const inertia = task.derived.inertia;
    box.inertia.set(inertia, inertia, inertia);
    box.invInertia.set(1 / inertia, 1 / inertia, 1 / inertia);
    box.updateInertiaWorld(true);
    world.addBody(box);
    this.box = box;

    this.appliedTorque = [0, 0, 0]; // body frame, N m, after the ramp
    this.lastKick = null; // world-frame disturbance of the latest physics step, or null
    this.reset([0, 0, 0, 1]);
  }

  /** Put the box at the drop height with orientation q (x,y,z,w), at rest, torque zero. */
  reset(q) {
    const b = this.box;
    b.position.set(0, this.task.physics.drop_height, 0);
    b.quaternion.set(q[0], q[1], q[2], q[3]);
    b.quaternion.normalize();
    for (const v of [b.velocity, b.angularVelocity, b.force, b.torque]) v.set(0, 0, 0);
    b.previousPosition.copy(b.position);
    b.previousQuaternion.copy(b.quaternion);
    b.interpolatedPosition.copy(b.position);
    b.interpolatedQuaternion.copy(b.quaternion);
    b.updateInertiaWorld(true);
    this.appliedTorque = [0, 0, 0];
    this.lastKick = null;
  }

  /** One control step: `substeps` physics steps towards the torque target action * max_torque. */
  controlStep(action) {
    const { actuation, physics } = this.task;
    const target = Array.from(action, (u) => Math.min(1, Math.max(-1, u)) * actuation.max_torque);
    for (let i = 0; i < physics.substeps; i++) this.physicsStep(target);
  }

  /** One physics step at a body-frame torque target (N m). */
  physicsStep(target) {
    const { actuation, physics } = this.task;
    const t = this.appliedTorque;
    for (let k = 0; k < 3; k++) t[k] += actuation.torque_ramp * (target[k] - t[k]);
    const world = rotate(this.quaternion, t);
    this.lastKick = null;
    if (this.disturbances && this.rng.uniform() < actuation.disturbance_prob) {
      const d = actuation.disturbance_torque;
      this.lastKick = [this.rng.range(-d, d), this.rng.range(-d, d), this.rng.range(-d, d)];
      for (let k = 0; k < 3; k++) world[k] += this.lastKick[k];
    }
    this.box.torque.set(world[0], world[1], world[2]); // cannon clears forces after every step
    this.world.step(physics.timestep);
  }

  /** A push from the UI: an impulse (N s, world frame) at a point offset from the centre (world frame). */
  applyImpulse(impulse, offset = [0, 0, 0]) {
    this.box.applyImpulse(new CANNON.Vec3(...impulse), new CANNON.Vec3(...offset));
  }

  get quaternion() {
    const q = this.box.quaternion;
    return [q.x, q.y, q.z, q.w];
  }

  get position() {
    const p = this.box.position;
    return [p.x, p.y, p.z];
  }

  /** World-frame angular velocity (rad/s). */
  get angularVelocity() {
    const w = this.box.angularVelocity;
    return [w.x, w.y, w.z];
  }

  get isFinite() {
    return [...this.position, ...this.quaternion, ...this.angularVelocity].every(Number.isFinite);
  }
}
