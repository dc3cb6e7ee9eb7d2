// The view a person watches: the arena (floor, four walls) and the box where the
// physics puts it, under soft lights with a shadow. Sizes come from task.json.
// Rendering only: nothing here feeds the CNN (that is InferenceView).

import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { cloneObject } from './object.js';

/** Whether this WebGL context is a software rasterizer (headless Chromium: SwiftShader). */
export function isSoftwareRenderer(renderer) {
  const gl = renderer.getContext();
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const name = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  return /swiftshader|llvmpipe|softpipe|software/i.test(String(name));
}

export class MainView {
  /**
   * lite: no antialiasing, no shadows, half resolution. 'auto' turns it on for software
   * rasterizers, where drawing this view would otherwise cost more than the CNN.
   * It changes only this view, never what the CNN sees.
   */
  constructor(task, objectTemplate, canvas, { lite = 'auto' } = {}) {
    const p = task.physics;
    this.canvas = canvas;
    if (lite === 'auto') {
      const probe = new THREE.WebGLRenderer({ canvas: document.createElement('canvas') });
      lite = isSoftwareRenderer(probe);
      probe.dispose();
      probe.forceContextLoss();
    }
    this.lite = lite;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: !lite });
    this.renderer.setPixelRatio(lite ? 0.5 : Math.min(window.devicePixelRatio, 2));
    this.renderer.shadowMap.enabled = !lite;

    const scene = new THREE.Scene();
    scene.background = new THREE.Color(0xeef1f5);
    this.scene = scene;

    const a = p.arena_half_width;
    const floor = new THREE.Mesh(new THREE.PlaneGeometry(2 * a, 2 * a), new THREE.MeshStandardMaterial({ color: 0xd8dde4, roughness: 0.9 }));
    floor.rotation.x = -Math.PI / 2;
    floor.receiveShadow = true;
    scene.add(floor);
    const grid = new THREE.GridHelper(2 * a, 20, 0x9aa3ad, 0xbfc6ce);
    grid.position.y = 1e-3;
    scene.add(grid);

    const wallMaterial = new THREE.MeshStandardMaterial({ color: 0x8fa3b8, transparent: true, opacity: 0.25, side: THREE.DoubleSide });
    for (const [x, z, ry] of [
      [a, 0, Math.PI / 2],
      [-a, 0, Math.PI / 2],
      [0, a, 0],
      [0, -a, 0],
    ]) {
      const wall = new THREE.Mesh(new THREE.PlaneGeometry(2 * a, p.wall_height), wallMaterial);
      wall.position.set(x, p.wall_height / 2, z);
      wall.rotation.y = ry;
      scene.add(wall);
    }

    scene.add(new THREE.HemisphereLight(0xffffff, 0x8d8d8d, 1.5));
    const sun = new THREE.DirectionalLight(0xffffff, 2.5);
    sun.position.set(1.2, 2.5, 1.5);
    sun.castShadow = true;
    sun.shadow.mapSize.set(1024, 1024);
    Object.assign(sun.shadow.camera, { left: -a, right: a, top: a, bottom: -a, near: 0.1, far: 6 });
    scene.add(sun, sun.target);

    this.object = cloneObject(objectTemplate);
    this.object.traverse((o) => {
      if (o.isMesh) o.castShadow = true;
    });
    scene.add(this.object);

    this.camera = new THREE.PerspectiveCamera(45, 1, 0.02, 20);
    this.camera.position.set(0.9, 0.8, 1.3);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.target.set(0, 0.1, 0);
    this.controls.maxPolarAngle = Math.PI / 2 - 0.05;
    this.controls.minDistance = 0.3;
    this.controls.maxDistance = 4;
    this.controls.update();
  }

  /** Place the box at position p and orientation q (x,y,z,w). */
  setPose(p, q) {
    this.object.position.set(p[0], p[1], p[2]);
    this.object.quaternion.set(q[0], q[1], q[2], q[3]);
  }

  render() {
    const { canvas, renderer, camera } = this;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (w && h && (canvas.width !== Math.floor(w * renderer.getPixelRatio()) || canvas.height !== Math.floor(h * renderer.getPixelRatio()))) {
      renderer.setSize(w, h, false);
      camera.aspect = w / h;
      camera.updateProjectionMatrix();
    }
    renderer.render(this.scene, camera);
  }
}
