// The off-screen inference camera of the spec: a 224x224 perspective view (vertical
// fov camera.fov_deg) from camera.distance at camera.elevation_deg / azimuth_deg,
// looking at the box centre with world +Y up, white background. It translates with the
// box and never rotates, so rendering the object at the origin from derived.camera_offset
// is the same picture. It has its own WebGL canvas because Three.js writes plain sRGB
// (outputColorSpace) only to a canvas; a render target would hold linear values.

import * as THREE from 'three';
import { rgbaToNchw } from '../infer/capture.js';
import { addLights, addTrainingLights } from './lighting.js';
import { cloneObject } from './object.js';

export class InferenceView {
  constructor(task, objectTemplate, canvas = document.createElement('canvas')) {
    const { camera: cam, derived, onnx } = task;
    this.size = cam.resolution;
    this.mean = onnx.image_mean;
    this.std = onnx.image_std;
    this.canvas = canvas;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true, powerPreference: 'high-performance' });
    this.renderer.setPixelRatio(1);
    this.renderer.setSize(this.size, this.size, false);
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    this.renderer.toneMapping = THREE.NoToneMapping;

    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(...cam.background_rgb);
    this.lights = addTrainingLights(this.scene, cam.azimuth_deg);
    this.object = cloneObject(objectTemplate);
    this.scene.add(this.object);

    this.camera = new THREE.PerspectiveCamera(cam.fov_deg, 1, 0.01, 10);
    this.camera.position.set(...derived.camera_offset);
    this.camera.up.set(0, 1, 0);
    this.camera.lookAt(0, 0, 0);

    this.pixels = new Uint8Array(this.size * this.size * 4);
    this.tensor = new Float32Array(3 * this.size * this.size);
  }

  /**
   * For checking the render against a training image: that image's lights, face colours
   * and roughness (its `param_*` values from the dataset shard). Test use only.
   */
  useTrainingImageParams(p) {
    for (const l of this.lights) l.removeFromParent();
    this.lights = addLights(this.scene, {
      key: { direction: p.key_direction, rgb: p.key_rgb, strength: p.key_strength },
      fill: { direction: p.fill_direction, rgb: p.fill_rgb, strength: p.fill_strength },
      sky_rgb: p.sky_rgb,
      ground_rgb: p.ground_rgb,
    });
    const faces = ['+X', '-X', '+Y', '-Y', '+Z', '-Z'];
    this.object.traverse((o) => {
      if (!o.isMesh) return;
      o.material = o.material.clone(); // leave the other views' shared materials alone
      const face = faces.indexOf(o.material.name.replace(/^face/, ''));
      if (o.material.name.startsWith('face') && face >= 0) o.material.color.setRGB(...p.face_rgb[face], THREE.LinearSRGBColorSpace);
      o.material.roughness = p.roughness;
    });
    this.scene.background = new THREE.Color().setRGB(...p.background_rgb, THREE.SRGBColorSpace);
  }

  /** Render the object at orientation q (x,y,z,w) and return the pose model's input. */
  capture(q) {
    this.object.quaternion.set(q[0], q[1], q[2], q[3]);
    this.renderer.render(this.scene, this.camera);
    const gl = this.renderer.getContext();
    gl.readPixels(0, 0, this.size, this.size, gl.RGBA, gl.UNSIGNED_BYTE, this.pixels);
    return rgbaToNchw(this.pixels, this.size, this.mean, this.std, true, this.tensor);
  }
}
