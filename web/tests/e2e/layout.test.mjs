// The first minutes of a visitor on a laptop screen, in Debian's headless Chromium on
// the built site (web/dist):
//   * at 1366 x 768 the three views (the arena, live vs predicted, what the CNN sees)
//     lie wholly inside the viewport while the page runs, with nothing to scroll;
//   * the page never shows a non-finite figure, and when the clock stalls (as under
//     chromium --virtual-time-budget: performance.now() stops between frames) the FPS
//     and latency readouts show '–' instead of Infinity FPS or 0.0 ms;
//   * no console error, and no warning about Chromium's deprecated automatic fallback
//     to software WebGL (browser.mjs opts into SwiftShader explicitly).
// Screenshots: web/test-results/layout-1366x768*.png. Run: npm --prefix web run test:e2e

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../../scripts/serve.mjs';
import { launch, openPage } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = resolve(here, '../../test-results');
const VIEWPORT = { width: 1366, height: 768 };
const VIEWS = { arena: '#main-view', 'live vs predicted': '#compare', 'what the CNN sees': '#inference' };
const NOT_A_NUMBER = /Infinity|NaN/;

let server;
let baseUrl;
let browser;

before(async () => {
  ({ server, url: baseUrl } = await startServer({ port: 0, root: process.env.E2E_DIST || undefined }));
  mkdirSync(resultsDir, { recursive: true });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** Boxes of the views and their captions, the viewport, and what would scroll. */
const measure = (page, views) =>
  page.evaluate((views) => {
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
    };
    const boxes = Object.fromEntries(Object.entries(views).map(([name, sel]) => [name, box(document.querySelector(sel))]));
    document.querySelectorAll('#views figcaption').forEach((el, i) => (boxes[`caption ${i + 1}`] = box(el)));
    const aside = document.querySelector('aside');
    const doc = document.scrollingElement;
    return {
      boxes,
      viewport: { width: innerWidth, height: innerHeight },
      overflow: { page: [doc.scrollWidth - doc.clientWidth, doc.scrollHeight - doc.clientHeight], panel: aside.scrollHeight - aside.clientHeight },
    };
  }, views);

describe(`at ${VIEWPORT.width} x ${VIEWPORT.height}`, { timeout: 5 * 60_000 }, () => {
  test('the three views are on screen and every figure is a number', async () => {
    const { page, problems } = await openPage(browser, `${baseUrl}?ep=wasm&seed=7`, VIEWPORT);
    try {
      // Running: the loop has taken control steps and measured a frame rate.
      await page.waitForFunction(() => window.orient.state().steps >= 3 && window.orient.fps() !== null, null, { timeout: 120_000 });
      await page.screenshot({ path: resolve(resultsDir, `layout-${VIEWPORT.width}x${VIEWPORT.height}.png`) });
      const m = await measure(page, VIEWS);
      writeFileSync(resolve(resultsDir, 'layout.json'), JSON.stringify(m, null, 2) + '\n');
      assert.deepEqual(m.viewport, VIEWPORT);
      for (const [name, b] of Object.entries(m.boxes)) {
        assert.ok(b.width > 0 && b.height > 0, `${name} has no size: ${JSON.stringify(b)}`);
        const inside = b.left >= 0 && b.top >= 0 && b.right <= VIEWPORT.width && b.bottom <= VIEWPORT.height;
        assert.ok(inside, `${name} is not wholly inside the ${VIEWPORT.width} x ${VIEWPORT.height} viewport: ${JSON.stringify(b)}`);
      }
      assert.deepEqual(m.overflow, { page: [0, 0], panel: 0 }, 'something scrolls');
      const text = await page.evaluate(() => document.body.innerText);
      assert.doesNotMatch(text, NOT_A_NUMBER);
      assert.match(await page.locator('#ro-fps').innerText(), /^\d+\.\d$/);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test('a stalled clock shows no figure rather than Infinity FPS or 0.0 ms', async () => {
    const { page, problems } = await openPage(browser, `${baseUrl}?ep=wasm&seed=7`, VIEWPORT);
    try {
      await page.waitForFunction(() => window.orient.state().steps >= 3, null, { timeout: 120_000 });
      // What --virtual-time-budget does to the page: animation frames keep coming, but
      // performance.now() returns the same time, so every interval it measures is zero.
      const before = await page.evaluate(() => {
        const frozen = performance.now();
        performance.now = () => frozen;
        window.orient.resetStats(); // measurements from here on are taken on the stalled clock
        return window.orient.state().steps;
      });
      await page.waitForFunction((n) => window.orient.state().steps >= n + 3 && window.orient.state().cnnFrames >= 1, before, { timeout: 120_000 });
      const shown = await page.evaluate(() => {
        window.orient.pause();
        const text = (id) => document.getElementById(id).textContent;
        return {
          state: window.orient.state(),
          fps: window.orient.fps(),
          readouts: Object.fromEntries(['hud-fps', 'ro-fps', 'ro-capture', 'ro-pose', 'ro-policy'].map((id) => [id, text(id)])),
          body: document.body.innerText,
        };
      });
      await page.screenshot({ path: resolve(resultsDir, `layout-${VIEWPORT.width}x${VIEWPORT.height}-stalled-clock.png`) });
      // The clock really stalled: every latency measured as exactly zero.
      assert.equal(shown.state.poseMs, 0, JSON.stringify(shown.state));
      assert.equal(shown.state.policyMs, 0);
      assert.equal(shown.fps, null);
      assert.deepEqual(shown.readouts, {
        'hud-fps': '–',
        'ro-fps': '–',
        'ro-capture': 'median –',
        'ro-pose': '– (median –)',
        'ro-policy': '– (median –)',
      });
      assert.doesNotMatch(shown.body, NOT_A_NUMBER);
      assert.doesNotMatch(shown.body, /\b0\.0 ms/);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});
