// Lights for the inference render: the centre of the training renders' randomized
// lighting (render/config.py, Randomization), so the CNN sees what it was trained on.
// The renders model exactly what Three.js offers:
//   key light (sun):  elevation 10..80 deg, azimuth -110..110 deg from the camera's,
//                     strength 1.5..4.5 W/m^2            -> here 45 deg, 0 deg, 3.0
//   fill light (sun): elevation -30..60 deg, azimuth 120..240 deg from the key's,
//                     strength 0..1.5                     -> here 15 deg, 180 deg, 0.75
//   hemisphere:       sky 0.1..0.5 (radiance scale, linear), ground = sky x 0.2..0.8
//                                                         -> here 0.3 and 0.15
// Units: a Cycles sun of strength E lights a diffuse face with radiance albedo*E*cos/pi,
// and so does a Three.js DirectionalLight of intensity E (BRDF_Lambert = albedo/pi), so
// intensities carry over unchanged. The renders add the hemisphere term as emission
// albedo*ambient, while Three.js's HemisphereLight gives albedo*irradiance/pi: hence
// intensity pi. Lights are fixed relative to the camera, which never rotates.

import * as THREE from 'three';

/** Unit vector at this elevation above the horizontal plane and azimuth about +Y (0 = +Z). */
export function direction(elevationDeg, azimuthDeg) {
  const el = THREE.MathUtils.degToRad(elevationDeg);
  const az = THREE.MathUtils.degToRad(azimuthDeg);
  return [Math.cos(el) * Math.sin(az), Math.sin(el), Math.cos(el) * Math.cos(az)];
}

/**
 * A lighting description in the training renders' terms (as their per-image params):
 * { key: {direction, rgb, strength}, fill: {...}, sky_rgb, ground_rgb }; directions point
 * towards the light, colours are linear.
 */
export function trainingLights(cameraAzimuthDeg) {
  const keyAz = cameraAzimuthDeg + 0;
  return {
    key: { direction: direction(45, keyAz), rgb: [1, 1, 1], strength: 3.0 },
    fill: { direction: direction(15, keyAz + 180), rgb: [1, 1, 1], strength: 0.75 },
    sky_rgb: [0.3, 0.3, 0.3],
    ground_rgb: [0.15, 0.15, 0.15],
  };
}

/** Add lights built from a description (see trainingLights) to `scene`; returns them. */
export function addLights(scene, d) {
  const lights = [];
  for (const l of [d.key, d.fill]) {
    const light = new THREE.DirectionalLight(new THREE.Color(...l.rgb), l.strength);
    light.position.set(...l.direction); // shines from here towards its target at the origin
    scene.add(light, light.target);
    lights.push(light);
  }
  const hemi = new THREE.HemisphereLight(new THREE.Color(...d.sky_rgb), new THREE.Color(...d.ground_rgb), Math.PI);
  scene.add(hemi);
  lights.push(hemi);
  return lights;
}

export function addTrainingLights(scene, cameraAzimuthDeg) {
  return addLights(scene, trainingLights(cameraAzimuthDeg));
}
