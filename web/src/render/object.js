// The shipped object (web/public/models/object.glb, exported by render/asset.py from
// the same code as the training renders): a cube of box_size in the body frame, Y up.
// Loaded once; every view gets its own clone (materials are shared and never changed).

import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';

export async function loadObject(url, task) {
  let gltf;
  try {
    gltf = await new GLTFLoader().loadAsync(url);
  } catch (e) {
    throw new Error(`object.glb: could not be loaded from ${url}: ${e?.message ?? e}; re-export it with \`make glb\``);
  }
  const root = gltf.scene;
  // The mesh must be the physics box: same extent, centred on the body origin.
  const box = new THREE.Box3().setFromObject(root);
  const size = box.getSize(new THREE.Vector3());
  const centre = box.getCenter(new THREE.Vector3());
  const s = task.physics.box_size;
  const tol = 1e-3 * s;
  if ([size.x, size.y, size.z].some((d) => Math.abs(d - s) > tol) || centre.length() > tol) {
    throw new Error(
      `object.glb: extent ${size.toArray().map((v) => v.toFixed(4))} centred at ${centre.toArray().map((v) => v.toFixed(4))}, ` +
        `expected a ${s} m cube at the origin; re-export it with \`make glb\``,
    );
  }
  return root;
}

/** A fresh clone of the object for one view. */
export function cloneObject(template) {
  return template.clone(true);
}
