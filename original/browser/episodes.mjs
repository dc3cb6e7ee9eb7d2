// Seeded episodes in the original, unchanged page: camera -> pose CNN -> policy -> its
// physics, all in the page's own code, in headless Chromium.
//
// The page's loop (index.html:753-790) is driven by requestAnimationFrame and
// performance.now: each frame renders the inference image, then runs one simulation.step
// per 1/60 s of elapsed time. A loaded machine would let time run ahead of the page, so the
// harness owns the clock (an init script, like Playwright's own clock, but leaving timers
// real for onnxruntime): each harness frame advances time by one control step (plus 1e-7 ms
// so float rounding never drops a step) and waits for the page's frame, awaits included.
// Every frame must then have stepped exactly once; anything else stops the episode.
//
// An episode is what a user gets after a page load: Math.random seeded, the page's Reset
// (a drop at a random orientation from 1.5 m), "RL control" checked, Start. Success is the
// Node harness's (node/episodes.mjs): tilt <= 10 deg and |w| < 0.5 rad/s held 0.5 s, within 10 s.
//
// SwiftShader spends most of each frame on the main view (1 directional and 2 point-light
// shadow maps of a 19k-vertex mesh), which nothing in camera -> CNN -> policy -> physics
// reads: the inference image has its own scene, camera and renderer. `hideMainView` (the
// default) sets the main scene's `visible` to false; with it shown, the same seed ends in
// the same state bit for bit (page_eval.mjs --show-main-view prints it).

import { DEFAULT_SUCCESS, CONTROL_HZ } from '../node/episodes.mjs';
import { openOriginal } from './page.mjs';

/** Init script: the page's clock and animation frames, advanced only by window.__orientFrame(ms). */
export const MANUAL_CLOCK = `(() => {
  let now = 0;
  let queue = [];
  performance.now = () => now;
  window.requestAnimationFrame = (cb) => { queue.push(cb); return queue.length; };
  window.cancelAnimationFrame = () => {};
  window.__orientFrame = async (ms) => {
    now += ms;
    const due = queue;
    queue = [];
    await Promise.all(due.map((cb) => cb(now)));
  };
})();`;

/**
 * One seeded episode on a fresh page of `browser` at `url`.
 * Returns { seed, success, timeS, finalTiltDeg, steps, inferences, start, final: {position, quaternion}, problems }.
 */
export async function pageEpisode(browser, url, seed, { success = DEFAULT_SUCCESS, hideMainView = true, width = 640, height = 400 } = {}) {
  const { page, problems } = await openOriginal(browser, url, { seed, width, height, initScripts: [MANUAL_CLOCK] });
  try {
    const row = await page.evaluate(
      async ({ seed, success, controlHz, hideMainView }) => {
        const sim = window.simulation;
        if (hideMainView) window.crateMesh.parent.visible = false; // the main scene (index.html:285, 455)
        window.__orientSeedRandom(seed);
        let inferences = 0;
        const onInference = sim.onInferenceUpdate;
        sim.onInferenceUpdate = (r) => { inferences++; return onInference?.(r); };
        document.getElementById('reset-btn').click();
        const { x, y, z, w } = sim.physics.boxBody.quaternion;
        const start = [x, y, z, w]; // the page's seeded drop
        const rl = document.getElementById('rl-enabled-check');
        if (!rl.checked) rl.click();
        document.getElementById('start-btn').click();
        const tilt = (q) => (Math.acos(Math.max(-1, Math.min(1, 1 - 2 * (q.x * q.x + q.z * q.z)))) * 180) / Math.PI;
        const holdSteps = Math.round(success.holdSeconds * controlHz);
        const maxSteps = Math.round(success.withinSeconds * controlHz);
        let hold = 0;
        let done = null;
        let step = 0;
        while (step < maxSteps && done === null) {
          await window.__orientFrame(1000 / controlHz + 1e-7);
          step++;
          if (sim.frameCount !== step) return { error: `frame ${step}: the page ran ${sim.frameCount} simulation steps, not ${step}` };
          const body = sim.physics.boxBody;
          const w = body.angularVelocity;
          hold = tilt(body.quaternion) <= success.maxTiltDeg && Math.hypot(w.x, w.y, w.z) < success.maxSpeed ? hold + 1 : 0;
          if (hold >= holdSteps) done = (step - holdSteps) / controlHz;
        }
        document.getElementById('stop-btn').click();
        const { position: p, quaternion: q } = sim.physics.boxBody;
        const final = { position: [p.x, p.y, p.z], quaternion: [q.x, q.y, q.z, q.w] };
        return { success: done !== null, timeS: done, finalTiltDeg: tilt(q), steps: step, inferences, start, final };
      },
      { seed, success, controlHz: CONTROL_HZ, hideMainView },
    );
    if (row.error) throw new Error(`seed ${seed}: ${row.error}`);
    return { seed, ...row, problems };
  } finally {
    await page.close();
  }
}
