// Seeded episodes of the original, unchanged page in headless Chromium: its camera, its
// pose model (static/models/pose_model_best.onnx), its policy (static/models/rl-model.onnx)
// and its physics, nothing else. One fresh page per episode. See browser/episodes.mjs.
//
//   node original/page_eval.mjs --runtime-dir DIR [--episodes 10] [--seed 0] [--show-main-view] [--json]
//
// --show-main-view renders the page's main view too (slower; the episodes end the same).

import { parseArgs } from 'node:util';

import { pageEpisode } from './browser/episodes.mjs';
import { launch, serve } from './browser/page.mjs';
import { HOW_TO_GET, verifyRuntime } from './node/runtime.mjs';

const { values } = parseArgs({
  options: {
    'runtime-dir': { type: 'string', default: process.env.ORIGINAL_RUNTIME_DIR },
    episodes: { type: 'string', default: '10' },
    seed: { type: 'string', default: '0' },
    'show-main-view': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

async function main() {
  const dir = values['runtime-dir'];
  if (!dir) throw new Error(`no runtime folder: ${HOW_TO_GET}`);
  const episodes = Number(values.episodes);
  const seed0 = Number(values.seed);
  if (!Number.isInteger(episodes) || episodes < 1) throw new Error(`--episodes must be a positive integer, not ${values.episodes}`);
  if (!Number.isInteger(seed0) || seed0 < 0) throw new Error(`--seed must be a non-negative integer, not ${values.seed}`);
  await verifyRuntime(dir);
  const { server, url } = await serve(dir);
  const browser = await launch();
  const rows = [];
  try {
    for (let e = 0; e < episodes; e++) {
      const t0 = performance.now();
      const row = await pageEpisode(browser, url, seed0 + e, { hideMainView: !values['show-main-view'] });
      rows.push(row);
      const what = row.success ? `upright at ${row.timeS.toFixed(2)} s` : `not upright in 10 s (final tilt ${row.finalTiltDeg.toFixed(1)} deg)`;
      const wall = ((performance.now() - t0) / 1000).toFixed(0);
      process.stderr.write(`seed ${row.seed}: ${what}; ${row.inferences} pose inferences, ${row.problems.length} console problem(s), ${wall} s; final ${JSON.stringify(row.final)}\n`);
    }
  } finally {
    await browser.close();
    server.close();
  }
  const upright = rows.filter((r) => r.success).length;
  const problems = rows.flatMap((r) => r.problems);
  (values.json ? console.error : console.log)(`${upright}/${episodes} episodes upright in the page (camera -> pose model -> policy); ${problems.length} console problem(s)`);
  if (values.json) console.log(JSON.stringify({ episodes, upright, problems, rows }));
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(2);
});
