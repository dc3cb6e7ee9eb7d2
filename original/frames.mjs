// Frames the original, unchanged page renders of its object, with the page's own pose
// prediction on each: the pose model's error on the page's renders.
//
//   node original/frames.mjs --runtime-dir DIR [--frames 200] [--seed 0] [--png-dir OUT] [--json]

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { launch, openOriginal, poseFrames, serve } from './browser/page.mjs';
import { angleDeg, uniformQuats } from './node/rotations.mjs';
import { HOW_TO_GET, verifyRuntime } from './node/runtime.mjs';

const { values } = parseArgs({
  options: {
    'runtime-dir': { type: 'string', default: process.env.ORIGINAL_RUNTIME_DIR },
    frames: { type: 'string', default: '200' },
    seed: { type: 'string', default: '0' },
    'png-dir': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

async function main() {
  const dir = values['runtime-dir'];
  if (!dir) throw new Error(`no runtime folder: ${HOW_TO_GET}`);
  await verifyRuntime(dir);
  const { server, url } = await serve(dir);
  const browser = await launch();
  try {
    const { page, problems } = await openOriginal(browser, url);
    const frames = await poseFrames(page, uniformQuats(Number(values.frames), Number(values.seed)), { png: Boolean(values['png-dir']) });
    const errors = frames.map((f) => angleDeg(f.truth, f.predicted)).sort((a, b) => a - b);
    const pick = (p) => errors[Math.min(errors.length - 1, Math.floor(p * errors.length))];
    if (values['png-dir']) {
      mkdirSync(values['png-dir'], { recursive: true });
      frames.forEach((f, i) => writeFileSync(join(values['png-dir'], `frame-${String(i).padStart(4, '0')}.png`), Buffer.from(f.png.split(',')[1], 'base64')));
      writeFileSync(join(values['png-dir'], 'frames.json'), JSON.stringify(frames.map(({ truth, predicted }) => ({ truth, predicted }))));
    }
    const summary = { frames: errors.length, median_deg: pick(0.5), p95_deg: pick(0.95), max_deg: errors.at(-1), problems, errors_deg: errors };
    (values.json ? console.error : console.log)(`pose error on ${errors.length} page renders: median ${summary.median_deg.toFixed(2)} deg, p95 ${summary.p95_deg.toFixed(2)} deg; ${problems.length} console problem(s)`);
    if (values.json) console.log(JSON.stringify(summary));
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(2);
});
