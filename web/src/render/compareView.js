// Side by side: the live orientation (physics) on the left and the CNN's prediction on
// the right, both seen through the inference camera's geometry, so a person can judge
// the pose estimate at a glance.

import * as THREE from 'three';
import { addTrainingLights } from './lighting.js';
import { cloneObject } from './object.js';

export class CompareView {
  constructor(task, objectTemplate, canvas) {
    this.canvas = canvas;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true });
    this.renderer.setScissorTest(true);
    this.scenes = [0xffffff, 0xf4f6fa].map((bg) => {
      const scene = new THREE.Scene();
      scene.background = new THREE.Color(bg);
      addTrainingLights(scene, task.camera.azimuth_deg);
      const object = cloneObject(objectTemplate);
      scene.add(object);
      return { scene, object };
    });
    this.scenes[1].object.visible = false; // until there is a prediction
    this.camera = new THREE.PerspectiveCamera(task.camera.fov_deg, 1, 0.01, 10);
    this.camera.position.set(...task.derived.camera_offset);
    this.camera.lookAt(0, 0, 0);
  }

  /** live, predicted: quaternions (x,y,z,w); predicted may be null. */
  render(live, predicted) {
    const { canvas, renderer } = this;
    const w = canvas.clientWidth || canvas.width;
    const h = canvas.clientHeight || canvas.height;
    if (canvas.width !== w || canvas.height !== h) renderer.setSize(w, h, false);
    const half = Math.floor(w / 2);
    const side = Math.min(half, h);
    const [a, b] = this.scenes;
    a.object.quaternion.set(...live);
    b.object.visible = !!predicted;
    if (predicted) b.object.quaternion.set(...predicted);
    for (const [k, s] of [a, b].entries()) {
      const x = k * half + Math.floor((half - side) / 2);
      const y = Math.floor((h - side) / 2);
      renderer.setViewport(x, y, side, side);
      renderer.setScissor(k * half, 0, half, h);
      renderer.render(s.scene, this.camera);
    }
  }
}
