// End to end in Debian's headless Chromium, on the built site (web/dist):
//   * the page loads, both models load and run, on WASM and on WebGPU (SwiftShader);
//   * from 10 seeded random starts with the vision loop on (render -> pose.onnx ->
//     policy.onnx -> cannon-es), the box ends upright within 5 s of simulated time;
//   * the CNN's error on browser-rendered frames, the live FPS and per-model latency are
//     measured and written to web/test-results/e2e-<ep>.json with a screenshot;
//   * the inference render reproduces Blender training images given their lights;
//   * any console error fails the test.
// Run: npm --prefix web run test:e2e
// Environment: E2E_EPS=wasm,webgpu; per EP (WebGPU: the _WEBGPU variants) E2E_STARTS=10,
// E2E_POSE_FRAMES=200, E2E_FPS_SECONDS=5 (WebGPU defaults: 1, 8, 10); E2E_LITE=0|1.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../../scripts/serve.mjs';
import { launch, openPage } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = resolve(here, '../../test-results');
const EPS = (process.env.E2E_EPS ?? 'wasm,webgpu').split(',').filter(Boolean);
// WebGPU in headless Chromium runs on SwiftShader (a CPU emulation of a GPU): a CNN
// inference takes on the order of a second there, so it runs fewer of everything.
const SETTINGS = {
  wasm: {
    starts: Number(process.env.E2E_STARTS ?? 10),
    poseFrames: Number(process.env.E2E_POSE_FRAMES ?? 200),
    liveSeconds: Number(process.env.E2E_FPS_SECONDS ?? 5),
  },
  webgpu: {
    starts: Number(process.env.E2E_STARTS_WEBGPU ?? 1),
    poseFrames: Number(process.env.E2E_POSE_FRAMES_WEBGPU ?? 8),
    liveSeconds: Number(process.env.E2E_FPS_SECONDS_WEBGPU ?? 10),
  },
};
const POSE_SEED = 2024;
const poseErrorsByEp = {};

let server;
let baseUrl;

before(async () => {
  ({ server, url: baseUrl } = await startServer({ port: 0, root: process.env.E2E_DIST || undefined }));
  mkdirSync(resultsDir, { recursive: true });
});
after(() => server?.close());

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

for (const ep of EPS) {
  const { starts: STARTS, poseFrames: POSE_FRAMES, liveSeconds: FPS_SECONDS } = SETTINGS[ep];
  const MIN_UPRIGHT = Math.ceil(0.9 * STARTS); // the goal: at least 9 of 10 episodes upright
  describe(`in Chromium on ${ep}`, { timeout: 30 * 60_000 }, () => {
    let browser;
    let page;
    let problems;
    const report = { ep };

    before(async () => {
      report.startedAt = new Date().toISOString();
      browser = await launch({ webgpu: ep === 'webgpu' });
      // E2E_LITE=0 draws the arena view in full quality even on a software renderer.
      const lite = process.env.E2E_LITE ? `&lite=${process.env.E2E_LITE}` : '';
      ({ page, problems } = await openPage(browser, `${baseUrl}?paused=1&ep=${ep}&interval=1${lite}`));
      report.liteView = await page.evaluate(() => window.orient.info.liteView);
      report.userAgent = await page.evaluate(() => navigator.userAgent);
    });
    after(async () => {
      report.finishedAt = new Date().toISOString();
      writeFileSync(resolve(resultsDir, `e2e-${ep}.json`), JSON.stringify(report, null, 2) + '\n');
      console.log(`e2e ${ep}: ${JSON.stringify(report)}`);
      await browser?.close();
    });

    test('the page loads and both models run on the requested execution provider', async () => {
      const info = await page.evaluate(() => window.orient?.info);
      assert.ok(info, 'window.orient missing: the page failed to boot');
      assert.deepEqual(info.executionProviders, { pose: ep, policy: ep }, `errors on the page: ${await page.locator('#errors').innerText()}`);
      const s = await page.evaluate(async () => {
        window.orient.set({ vision: true, rl: true, cnnInterval: 1 });
        window.orient.reset(0);
        return window.orient.stepFrames(3);
      });
      assert.equal(s.cnnFrames, 3);
      assert.ok(s.poseMs > 0 && s.policyMs > 0, `latencies ${s.poseMs} ${s.policyMs}`);
      report.executionProviders = info.executionProviders;
      report.ortVersion = info.ortVersion;
      assert.deepEqual(problems, []);
    });

    if (ep === 'webgpu') {
      test('in auto mode the CNN runs on WebGPU and the policy on WASM', async () => {
        const { page: auto, problems: autoProblems } = await openPage(browser, `${baseUrl}?paused=1&ep=auto`);
        const info = await auto.evaluate(() => window.orient.info);
        await auto.close();
        assert.deepEqual(info.executionProviders, { pose: 'webgpu', policy: 'wasm' });
        assert.deepEqual(autoProblems, []);
      });
    }

    test(`from ${STARTS} seeded random starts, the vision loop turns the box upright within 5 s`, async () => {
      await page.evaluate(() => window.orient.resetStats());
      const episodes = [];
      for (let seed = 1; seed <= STARTS; seed++) {
        const s = await page.evaluate(async (seed) => {
          const start = window.orient.reset(seed);
          const steps = window.orient.task.derived.episode_steps;
          const end = await window.orient.stepFrames(steps, { stopOnSuccess: true });
          return { seed, startTiltDeg: start.tiltDeg, success: end.success, successTime: end.successTime, tiltDeg: end.tiltDeg, steps: end.steps, cnnMedianErrorDeg: end.cnnEpisodeMedianErrorDeg };
        }, seed);
        episodes.push(s);
      }
      const state = await page.evaluate(() => window.orient.state());
      const errors = await page.evaluate(() => window.orient.cnnErrorsDeg());
      const upright = episodes.filter((e) => e.success).length;
      Object.assign(report, {
        starts: STARTS,
        upright,
        median_time_to_upright_s: median(episodes.filter((e) => e.success).map((e) => e.successTime)),
        cnn_median_error_deg: median(errors),
        cnn_p90_error_deg: [...errors].sort((a, b) => a - b)[Math.floor(0.9 * (errors.length - 1))],
        cnn_frames: errors.length,
        pose_median_ms_stepped: state.poseMedianMs,
        capture_median_ms_stepped: state.captureMedianMs,
        policy_median_ms_stepped: state.policyMedianMs,
        episodes,
      });
      await page.screenshot({ path: resolve(resultsDir, `e2e-${ep}-upright.png`) });
      assert.ok(upright >= MIN_UPRIGHT, `${upright}/${STARTS} upright: ${JSON.stringify(episodes)}`);
      assert.deepEqual(problems, []);
    });

    test('the CNN on browser renders at uniformly random orientations', async () => {
      const errors = await page.evaluate(([n, seed]) => window.orient.poseErrorsDeg(n, seed), [POSE_FRAMES, POSE_SEED]);
      poseErrorsByEp[ep] = errors;
      // The same frames on both providers: the predictions must agree.
      const other = Object.entries(poseErrorsByEp).find(([k]) => k !== ep)?.[1];
      if (other) {
        const n = Math.min(other.length, errors.length);
        const gap = Math.max(...errors.slice(0, n).map((e, i) => Math.abs(e - other[i])));
        report.cnn_error_gap_vs_other_ep_deg = gap;
        assert.ok(gap < 0.5, `the CNN's error differs between execution providers by up to ${gap.toFixed(3)} deg on the same frames`);
      }
      const sorted = [...errors].sort((a, b) => a - b);
      Object.assign(report, {
        cnn_uniform_median_error_deg: median(errors),
        cnn_uniform_p90_error_deg: sorted[Math.floor(0.9 * (sorted.length - 1))],
        cnn_uniform_frames: errors.length,
      });
      assert.ok(errors.every(Number.isFinite));
      assert.deepEqual(problems, []);
    });

    test('the live loop: FPS and per-frame model latency', async () => {
      // Control steps completed per second of wall time, by the page's own animation
      // loop (render + CNN + policy + physics + drawing), with the CNN every frame and
      // with the automatic interval.
      for (const interval of [1, 'auto']) {
        await page.evaluate((interval) => {
          window.orient.set({ vision: true, rl: true, cnnInterval: interval });
          window.orient.reset(123);
          window.orient.resetStats();
          window.orient.start();
        }, interval);
        const t0 = Date.now();
        await page.waitForTimeout(FPS_SECONDS * 1000);
        const live = await page.evaluate(() => {
          window.orient.pause();
          return window.orient.state();
        });
        const seconds = (Date.now() - t0) / 1000;
        const key = interval === 1 ? 'live_every_frame' : 'live_auto';
        report[key] = {
          fps: live.steps / seconds,
          seconds,
          steps: live.steps,
          cnn_interval: live.cnnInterval,
          pose_median_ms: live.poseMedianMs,
          policy_median_ms: live.policyMedianMs,
          capture_median_ms: live.captureMedianMs,
        };
        assert.ok(live.steps > 0, 'the animation loop did not run');
      }
      await page.screenshot({ path: resolve(resultsDir, `e2e-${ep}.png`) });
      assert.deepEqual(problems, []);
    });
  });
}

describe('the inference render against Blender training images', { timeout: 5 * 60_000 }, () => {
  test("given each image's lights, face colours and roughness, the pixels agree", async () => {
    const fixtures = JSON.parse(readFileSync(resolve(here, '../fixtures/blender/images.json'), 'utf8'));
    const browser = await launch();
    try {
      const { page, problems } = await openPage(browser, `${baseUrl}?paused=1&ep=wasm`);
      const diffs = [];
      for (const item of fixtures.items) {
        const png = readFileSync(resolve(here, '../fixtures/blender', item.image)).toString('base64');
        const d = await page.evaluate(
          async ([q, params, png]) => {
            // PNG data URL -> RGBA, decoded from bytes: an <img> with a data: URL would be
            // a CSP violation (img-src 'self'), createImageBitmap on a Blob is not a load.
            const pixels = async (url) => {
              const bytes = Uint8Array.from(atob(url.slice(url.indexOf(',') + 1)), (ch) => ch.charCodeAt(0));
              const img = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
              const c = new OffscreenCanvas(img.width, img.height);
              const g = c.getContext('2d');
              g.drawImage(img, 0, 0);
              return g.getImageData(0, 0, img.width, img.height).data;
            };
            const ours = await pixels(window.orient.renderTrainingImage(q, params));
            const theirs = await pixels(`data:image/png;base64,${png}`);
            const n = Math.sqrt(ours.length / 4);
            const bg = [ours[0], ours[1], ours[2]];
            const inside = (x, y) => Math.max(...[0, 1, 2].map((k) => Math.abs(ours[(y * n + x) * 4 + k] - bg[k]))) > 30;
            let sum = 0;
            let count = 0;
            for (let y = 3; y < n - 3; y++) {
              for (let x = 3; x < n - 3; x++) {
                // the object's interior: away from its edge, where the renders' filters differ
                if (![[0, 0], [3, 0], [-3, 0], [0, 3], [0, -3]].every(([dx, dy]) => inside(x + dx, y + dy))) continue;
                const i = (y * n + x) * 4;
                sum += Math.abs(ours[i] - theirs[i]) + Math.abs(ours[i + 1] - theirs[i + 1]) + Math.abs(ours[i + 2] - theirs[i + 2]);
                count += 3;
              }
            }
            return { meanAbs: sum / count, pixels: count / 3 };
          },
          [item.quat_xyzw, item.params, png],
        );
        diffs.push({ image: item.image, ...d });
      }
      console.log(`render fidelity (mean |browser - Blender| in 8-bit levels, object interior): ${JSON.stringify(diffs)}`);
      writeFileSync(resolve(resultsDir, 'render-fidelity.json'), JSON.stringify(diffs, null, 2) + '\n');
      for (const d of diffs) {
        assert.ok(d.pixels > 1000, `${d.image}: too few object pixels (${d.pixels})`);
        // Blender's sensor noise (sigma <= 4 levels) and blur alone give ~1-4 levels.
        assert.ok(d.meanAbs < 8, `${d.image}: mean difference ${d.meanAbs.toFixed(1)} levels`);
      }
      assert.deepEqual(problems.filter((p) => !/pose\.onnx|404/.test(p)), []);
    } finally {
      await browser.close();
    }
  });
});
