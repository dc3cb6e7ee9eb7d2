// The original, unchanged page in headless Chromium with the models installed in its
// folder (python -m experiments.install_original --runtime-dir DIR). Runs only when
// ORIGINAL_RUNTIME_DIR names that folder; otherwise every test skips and says how to get it.
// ORIGINAL_FRAMES (default and minimum 200: below that, p95 is one of the few largest errors)
// and ORIGINAL_PAGE_EPISODES (default 10) size the two goals.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { pageEpisode } from '../browser/episodes.mjs';
import { launch, openOriginal, poseFrames, serve } from '../browser/page.mjs';
import { angleDeg, uniformQuats } from '../node/rotations.mjs';
import { HOW_TO_GET, verifyRuntime } from '../node/runtime.mjs';

const DIR = process.env.ORIGINAL_RUNTIME_DIR;
const skip = DIR ? false : `ORIGINAL_RUNTIME_DIR is not set: ${HOW_TO_GET}`;
const FRAMES = Math.max(200, Number(process.env.ORIGINAL_FRAMES ?? 200));
const EPISODES = Number(process.env.ORIGINAL_PAGE_EPISODES ?? 10);

let browser;
let site;
before(async () => {
  if (!DIR) return;
  await verifyRuntime(DIR);
  site = await serve(DIR);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  site?.server.close();
});

test('the pose model on frames the page renders: median <= 5 deg, p95 <= 15 deg, no console error', { skip, timeout: 3_600_000 }, async () => {
  const { page, problems } = await openOriginal(browser, site.url);
  try {
    const frames = await poseFrames(page, uniformQuats(FRAMES, 1234));
    const errors = frames.map((f) => angleDeg(f.truth, f.predicted)).sort((a, b) => a - b);
    const median = errors[Math.floor(errors.length / 2)];
    const p95 = errors[Math.min(errors.length - 1, Math.floor(0.95 * errors.length))];
    assert.deepEqual(problems, []);
    assert.ok(median <= 5 && p95 <= 15, `median ${median.toFixed(2)} deg, p95 ${p95.toFixed(2)} deg over ${errors.length} frames`);
  } finally {
    await page.close();
  }
});

test('camera -> pose model -> policy turns the object upright in >= 90% of seeded episodes within 10 s', { skip, timeout: 7_200_000 }, async () => {
  const rows = [];
  for (let e = 0; e < EPISODES; e++) rows.push(await pageEpisode(browser, site.url, 100 + e));
  assert.deepEqual(rows.flatMap((r) => r.problems), []);
  assert.equal(new Set(rows.map((r) => JSON.stringify(r.start))).size, rows.length, 'every seed drops differently');
  for (const r of rows) assert.equal(r.inferences, Math.floor(r.steps / 5), `seed ${r.seed}: the pose model ran every 5th step`);
  const upright = rows.filter((r) => r.success).length;
  assert.ok(upright >= Math.ceil(0.9 * EPISODES), `${upright}/${EPISODES} upright: ${JSON.stringify(rows.map((r) => [r.seed, r.success, r.finalTiltDeg]))}`);
});
