// Pushing the box with the mouse: press on the box, drag, release. The impulse is along
// the drag (on the plane through the grabbed point, facing the camera), proportional to
// its length, applied at the grabbed point, so an off-centre push also spins the box.
// These magnitudes are UI feel, not task constants.

import * as THREE from 'three';

const IMPULSE_PER_METRE = 1.2; // N s per metre dragged
const MAX_IMPULSE = 0.6; // N s (the box is 0.25 kg: at most 2.4 m/s)

export function enableDragPush(view, onPush) {
  const { canvas, camera, controls, object } = view;
  const raycaster = new THREE.Raycaster();
  const pointer = new THREE.Vector2();
  const plane = new THREE.Plane();
  const start = new THREE.Vector3();
  const end = new THREE.Vector3();
  const arrow = new THREE.ArrowHelper(new THREE.Vector3(1, 0, 0), new THREE.Vector3(), 0.1, 0xd32f2f, 0.04, 0.025);
  arrow.visible = false;
  view.scene.add(arrow);
  let dragging = false;

  const ray = (event) => {
    const r = canvas.getBoundingClientRect();
    pointer.set(((event.clientX - r.left) / r.width) * 2 - 1, -((event.clientY - r.top) / r.height) * 2 + 1);
    raycaster.setFromCamera(pointer, camera);
  };

  canvas.addEventListener('pointerdown', (event) => {
    ray(event);
    const hit = raycaster.intersectObject(object, true)[0];
    if (!hit) return; // not on the box: the orbit controls take it
    dragging = true;
    controls.enabled = false;
    start.copy(hit.point);
    plane.setFromNormalAndCoplanarPoint(camera.getWorldDirection(new THREE.Vector3()).negate(), start);
    arrow.position.copy(start);
    arrow.visible = true;
    arrow.setLength(1e-3);
    canvas.setPointerCapture(event.pointerId);
  });

  canvas.addEventListener('pointermove', (event) => {
    if (!dragging) return;
    ray(event);
    if (!raycaster.ray.intersectPlane(plane, end)) return;
    const d = end.clone().sub(start);
    const len = Math.min(d.length(), MAX_IMPULSE / IMPULSE_PER_METRE);
    if (len > 1e-4) {
      arrow.setDirection(d.normalize());
      arrow.setLength(Math.max(len, 0.03), 0.03, 0.02);
    }
  });

  const release = (event) => {
    if (!dragging) return;
    dragging = false;
    controls.enabled = true;
    arrow.visible = false;
    ray(event);
    if (raycaster.ray.intersectPlane(plane, end)) {
      const impulse = end.clone().sub(start).multiplyScalar(IMPULSE_PER_METRE);
      if (impulse.length() > MAX_IMPULSE) impulse.setLength(MAX_IMPULSE);
      const offset = start.clone().sub(object.position);
      onPush(impulse.toArray(), offset.toArray());
    }
  };
  canvas.addEventListener('pointerup', release);
  canvas.addEventListener('pointercancel', release);
}

/** A random shove: mostly horizontal, at a random point on the box's upper half. */
export function randomPush(boxSize) {
  const az = Math.random() * 2 * Math.PI;
  const magnitude = 0.15 + 0.2 * Math.random(); // N s
  const impulse = [Math.cos(az) * magnitude, 0.25 * magnitude, Math.sin(az) * magnitude];
  const h = boxSize / 2;
  const offset = [(Math.random() - 0.5) * h, h * Math.random(), (Math.random() - 0.5) * h];
  return { impulse, offset };
}
