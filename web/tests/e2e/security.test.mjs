// The page's hardening, in Debian's headless Chromium on the built site (web/dist, or
// E2E_DIST) served by scripts/serve.mjs:
//   * the document and the files it loads (the app's .js, onnxruntime-web's .mjs and
//     .wasm, the .onnx models) come with the Content-Security-Policy, nosniff and their
//     true Content-Type, and the page boots under that policy without a violation;
//   * a CSP violation is caught by browser.mjs (so any future one fails the suite);
//   * both models are checked against manifest.json's sha256 before a session is made;
//   * a pose.onnx with one byte changed -- still a loadable model that keeps the browser
//     contract -- is refused with a red error naming the file and both hashes, and no
//     onnxruntime session is created for it.
// Run: npm --prefix web run test:e2e

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-web';

import { CONTENT_SECURITY_POLICY } from '../../scripts/headers.mjs';
import { startServer } from '../../scripts/serve.mjs';
import { loadPose } from '../../src/infer/models.js';
import { parseTask } from '../../src/sim/task.js';
import { launch, openPage } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const DIST = resolve(process.env.E2E_DIST || resolve(here, '../../dist'));
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const manifest = JSON.parse(readFileSync(join(DIST, 'models/manifest.json'), 'utf8'));

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

describe('the shipped site', { timeout: 5 * 60_000 }, () => {
  let server;
  let baseUrl;
  before(async () => {
    ({ server, url: baseUrl } = await startServer({ port: 0, root: DIST }));
  });
  after(() => server?.close());

  test('every response carries the CSP, nosniff and its Content-Type; the page runs under them', async () => {
    const { page, problems, responses } = await openPage(browser, `${baseUrl}?paused=1&ep=wasm`);
    try {
      const info = await page.evaluate(() => window.orient.info);
      assert.deepEqual(info.executionProviders, { pose: 'wasm', policy: 'wasm' }, `errors on the page: ${await page.locator('#errors').innerText()}`);
      // Run the whole loop once (render -> readback -> CNN -> policy) under the policy.
      const s = await page.evaluate(() => {
        window.orient.set({ vision: true, rl: true, cnnInterval: 1 });
        window.orient.reset(0);
        return window.orient.stepFrames(3);
      });
      assert.equal(s.cnnFrames, 3);
      const seen = responses.map((r) => ({ url: r.url(), status: r.status(), headers: r.headers() }));
      const find = (what, pattern) => {
        const r = seen.find((x) => pattern.test(new URL(x.url).pathname));
        assert.ok(r, `no ${what} response; the page fetched: ${seen.map((x) => x.url).join(', ')}`);
        return r;
      };
      const checked = {
        document: [find('document', /^\/$/), 'text/html; charset=utf-8'],
        'app .js': [find('app .js', /^\/assets\/index-[^/]+\.js$/), 'text/javascript; charset=utf-8'],
        'ort .mjs': [find('ort .mjs', /^\/ort\/[^/]+\.mjs$/), 'text/javascript; charset=utf-8'],
        '.wasm': [find('.wasm', /^\/ort\/[^/]+\.wasm$/), 'application/wasm'],
        'pose.onnx': [find('pose.onnx', /^\/models\/pose\.onnx$/), 'application/octet-stream'],
        'policy.onnx': [find('policy.onnx', /^\/models\/policy\.onnx$/), 'application/octet-stream'],
        'manifest.json': [find('manifest.json', /^\/models\/manifest\.json$/), 'application/json; charset=utf-8'],
        'object.glb': [find('object.glb', /^\/models\/object\.glb$/), 'model/gltf-binary'],
      };
      for (const [what, [r, type]] of Object.entries(checked)) {
        assert.equal(r.status, 200, what);
        assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY, what);
        assert.equal(r.headers['x-content-type-options'], 'nosniff', what);
        assert.equal(r.headers['content-type'], type, what);
      }
      // ... and every other response too.
      for (const r of seen) {
        assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY, r.url);
        assert.equal(r.headers['x-content-type-options'], 'nosniff', r.url);
        assert.ok(r.headers['content-type'], `${r.url} has no Content-Type`);
      }
      assert.equal(await page.evaluate(() => crossOriginIsolated), true);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test('both models were checked against manifest.json before their sessions were made', async () => {
    const { page, problems } = await openPage(browser, `${baseUrl}?paused=1&ep=wasm`);
    try {
      const info = await page.evaluate(() => window.orient.info);
      assert.deepEqual(info.verified, { 'pose.onnx': manifest.files['pose.onnx'].sha256, 'policy.onnx': manifest.files['policy.onnx'].sha256 });
      assert.deepEqual(info.sessionAttempts, [
        { model: 'pose.onnx', executionProvider: 'wasm' },
        { model: 'policy.onnx', executionProvider: 'wasm' },
      ]);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test('a CSP violation in the page is caught as a problem', async () => {
    const { page, problems } = await openPage(browser, `${baseUrl}?paused=1&ep=wasm`);
    try {
      assert.deepEqual(problems, []);
      // Three kinds the policy refuses: an inline script, a data: image, a fetch elsewhere.
      await page.evaluate(() => {
        const script = document.createElement('script');
        script.textContent = 'window.inlineRan = true';
        document.body.append(script);
        new Image().src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
        fetch('http://example.invalid/x').catch(() => {});
      });
      const csp = () => problems.filter((p) => p.startsWith('CSP violation: '));
      for (let i = 0; i < 50 && csp().length < 3; i++) await page.waitForTimeout(100); // the reports arrive asynchronously
      assert.equal(await page.evaluate(() => window.inlineRan), undefined, 'an inline script ran');
      assert.ok(csp().some((p) => p.includes('script-src-elem refused inline')), problems.join('\n'));
      assert.ok(csp().some((p) => p.includes('img-src refused data')), problems.join('\n'));
      assert.ok(csp().some((p) => p.includes('connect-src refused http://example.invalid')), problems.join('\n'));
      assert.ok(problems.some((p) => p.startsWith('console.error:') && /Content Security Policy/.test(p)), problems.join('\n'));
    } finally {
      await page.close();
    }
  });
});

describe('a pose.onnx that is not the exported one', { timeout: 5 * 60_000 }, () => {
  let server;
  let baseUrl;
  let site;
  let expected;
  let actual;

  before(async () => {
    // A copy of the built site whose pose.onnx has one weight byte changed; manifest.json
    // is left as exported.
    site = mkdtempSync(join(tmpdir(), 'orient-tampered-'));
    cpSync(DIST, site, { recursive: true });
    const bytes = new Uint8Array(readFileSync(join(DIST, 'models/pose.onnx')));
    expected = sha256(bytes);
    bytes[bytes.length >> 1] ^= 0x01; // inside the convolution weights
    actual = sha256(bytes);
    writeFileSync(join(site, 'models/pose.onnx'), bytes);
    ({ server, url: baseUrl } = await startServer({ port: 0, root: site }));
  });
  after(() => {
    server?.close();
    if (site) rmSync(site, { recursive: true, force: true });
  });

  test('the tampered file still loads and keeps the contract (so only the hash can refuse it)', async () => {
    assert.equal(expected, manifest.files['pose.onnx'].sha256, 'the built pose.onnx is not the one manifest.json lists');
    assert.notEqual(actual, expected);
    ort.env.wasm.numThreads = 1;
    const task = parseTask(JSON.parse(readFileSync(join(site, 'models/task.json'), 'utf8')));
    const pose = await loadPose(ort, task, new Uint8Array(readFileSync(join(site, 'models/pose.onnx'))), 'wasm');
    const q = await pose.predict(new Float32Array(3 * 224 * 224).fill(0.5));
    assert.equal(q.length, 4);
  });

  test('the page refuses it with a visible error naming pose.onnx and both hashes, and makes no session of it', async () => {
    const { page, problems } = await openPage(browser, `${baseUrl}?paused=1&ep=wasm`);
    try {
      const errors = await page.locator('#errors .error').allInnerTexts();
      assert.equal(errors.length, 1, errors.join('\n'));
      const [error] = errors;
      assert.match(error, /^pose\.onnx: is not the exported model/);
      assert.ok(error.includes(`its sha256 is ${actual}`), error);
      assert.ok(error.includes(`manifest.json expects ${expected}`), error);
      assert.ok(await page.locator('#errors .error').first().isVisible());
      const info = await page.evaluate(() => window.orient.info);
      assert.deepEqual(info.sessionAttempts, [{ model: 'policy.onnx', executionProvider: 'wasm' }], 'a session was attempted for pose.onnx');
      assert.deepEqual(info.executionProviders, { pose: null, policy: 'wasm' });
      assert.deepEqual(info.verified, { 'policy.onnx': manifest.files['policy.onnx'].sha256 });
      assert.deepEqual(info.errors, [error]);
      // The one problem is that error, logged by the page; no CSP violation, no other error.
      assert.deepEqual(problems, [`console.error: ${error}`]);
    } finally {
      await page.close();
    }
  });
});
