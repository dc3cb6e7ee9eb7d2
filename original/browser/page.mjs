// The original, unchanged page in headless Chromium (Debian's, driven by playwright-core;
// never a downloaded browser). Its folder is served as it is; what the page fetches from
// CDNs (three 0.155.0, cannon-es 0.20.0, onnxruntime-web) is answered from this folder's
// pinned npm copies by request interception, so index.html and static/js stay unchanged.
// The page forces the WebGPU provider (inference.js:88-89, 114-115), which SwiftShader runs
// about 100x too slowly; which provider runs is not part of the contract, so an init script
// (FORCE_WASM) makes every session WASM: it catches the global `ort` that the page's
// onnxruntime script defines and wraps InferenceSession.create. It records each session's
// requested and used providers, so openOriginal can check that both models really loaded.

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';

import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
/** The folder of an installed package (its exports map may hide package.json). */
const pkgDir = (name) => {
  const main = require.resolve(name);
  return main.slice(0, main.lastIndexOf(`${sep}node_modules${sep}${name}${sep}`)) + `${sep}node_modules${sep}${name}`;
};
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const QUIET = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.onnx': 'application/octet-stream', '.glb': 'model/gltf-binary', '.wasm': 'application/wasm',
  '.json': 'application/json', '.png': 'image/png', '.gif': 'image/gif' }; // prettier-ignore

// The page's CDN URLs (index.html:33-37, 161; physics.js:6) -> local files.
const CDN = [
  ['https://cdn.jsdelivr.net/npm/three@0.155.0/build/', () => join(pkgDir('three'), 'build')],
  ['https://cdn.jsdelivr.net/npm/three@0.155.0/examples/jsm/', () => join(pkgDir('three'), 'examples/jsm')],
  ['https://cdn.jsdelivr.net/npm/cannon-es@0.20.0/dist/', () => join(pkgDir('cannon-es'), 'dist')],
  ['https://cdn.jsdelivr.net/npm/onnxruntime-web@1.23.2/dist/', () => join(pkgDir('onnxruntime-web'), 'dist')],
  ['https://unpkg.com/onnxruntime-web/dist/', () => join(pkgDir('onnxruntime-web'), 'dist')],
];
const FORCE_WASM = `(() => {
  let ort;
  window.__orientSessions = [];
  Object.defineProperty(window, 'ort', {
    configurable: true,
    get: () => ort,
    set: (value) => {
      ort = value;
      ort.env.logLevel = 'error'; // onnxruntime's own warnings (e.g. "Unknown CPU vendor" here)
      const create = ort.InferenceSession.create.bind(ort.InferenceSession);
      ort.InferenceSession.create = async (model, options = {}) => {
        const session = await create(model, { ...options, executionProviders: ['wasm'] });
        window.__orientSessions.push({ model: String(model), requested: options.executionProviders, used: 'wasm' });
        return session;
      };
    },
  });
})();`;

/** Serve `root` as a static site, as the original's host would (its _headers: no COOP/COEP). */
export function serve(root) {
  root = resolve(root);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return res.writeHead(404).end(`not found: ${path}`);
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'X-Content-Type-Options': 'nosniff' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}/` })));
}

async function answerFromNpm(route) {
  const url = route.request().url();
  for (const [prefix, dir] of CDN) {
    if (!url.startsWith(prefix)) continue;
    const file = join(dir(), url.slice(prefix.length).split('?')[0]);
    if (!existsSync(file)) break;
    return route.fulfill({ status: 200, body: readFileSync(file), headers: { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Access-Control-Allow-Origin': '*' } });
  }
  return route.fulfill({ status: 404, body: `no local copy of ${url}` });
}

// Init script: Math.random is a seeded generator (mulberry32; the Node harness's is
// node/rng.mjs's sfc32, so one seed's drop differs between the two), and
// window.__orientSeedRandom(seed) reseeds it, for a harness that drops at a known seed.
const SEED_RANDOM = (seed) => `(() => {
  const make = (seed) => { let a = seed >>> 0;
    return () => { a |= 0; a = (a + 0x6d2b79f5) | 0; let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; };
  Math.random = make(${seed >>> 0});
  window.__orientSeedRandom = (seed) => { Math.random = make(seed); };
})();`;

export async function launch() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (make web-setup)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: QUIET });
}

/**
 * Open the page served at `url`; resolves once its models and its GLB are loaded.
 * `seed`: Math.random is seeded before any of the page's scripts run (its starts and kicks).
 * `initScripts`: more scripts to run before the page's own.
 * Returns { page, problems }: every console error, page error and failed request.
 */
export async function openOriginal(browser, url, { seed = null, width = 1280, height = 800, initScripts = [] } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems = [];
  page.on('console', (msg) => msg.type() === 'error' && problems.push(`console.error: ${msg.text()}`));
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  await page.route(/^https:\/\//, answerFromNpm);
  await page.addInitScript(FORCE_WASM);
  if (seed !== null) await page.addInitScript(SEED_RANDOM(seed));
  for (const script of initScripts) await page.addInitScript(script);
  await page.goto(url);
  await page.waitForFunction(() => window.simulation?.isReady() && window.crateMesh?.isObject3D && window.crateMesh.children.length > 0,
    null, { timeout: 180_000, polling: 100 }); // prettier-ignore
  const { mock, sessions } = await page.evaluate(() => ({ mock: window.simulation.inference.useMockData, sessions: window.__orientSessions }));
  if (mock) problems.push('the page fell back to mock data: a model did not load');
  for (const name of ['pose_model_best.onnx', 'rl-model.onnx'])
    if (!sessions.some((s) => s.model.endsWith(name))) problems.push(`no onnxruntime session was made for ${name}`);
  return { page, problems };
}

/**
 * The page's own pose prediction on frames it rendered itself at orientations `quats`
 * ([x, y, z, w], the Three.js/cannon frame). Returns [{ truth, predicted, png? }].
 */
export async function poseFrames(page, quats, { png = false } = {}) {
  return page.evaluate(
    async ({ quats, png }) => {
      const sim = window.simulation;
      sim.setRLEnabled(false);
      sim.start();
      const canvas = document.getElementById('inference-image');
      const frame = () => new Promise((ok) => requestAnimationFrame(ok));
      const out = [];
      for (const q of quats) {
        sim.teleportBox([0, 1.5, 0], q);
        sim.onStateUpdate(sim.getState()); // the displayed object takes q now
        await frame(); // the page's loop rendered the inference image of q, then stepped
        const truth = [...window.crateMesh.quaternion.toArray()];
        const result = await sim.inference.predictPose(canvas);
        out.push({ truth, predicted: result.quaternion, png: png ? canvas.toDataURL('image/png') : null });
      }
      sim.stop();
      return out;
    },
    { quats, png },
  );
}
