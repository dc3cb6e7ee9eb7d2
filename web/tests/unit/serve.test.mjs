// scripts/serve.mjs on a throwaway site: every response (200, 404, 403) carries the
// isolation headers, the Content-Security-Policy and nosniff, and each file type its own
// Content-Type. (The e2e tests check the same headers on the real build in Chromium.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CONTENT_SECURITY_POLICY, CSP_DIRECTIVES } from '../../scripts/headers.mjs';
import { startServer } from '../../scripts/serve.mjs';

const TYPES = {
  'index.html': 'text/html; charset=utf-8',
  'assets/index-abc.js': 'text/javascript; charset=utf-8',
  'assets/index-abc.css': 'text/css; charset=utf-8',
  'ort/ort-wasm-simd-threaded.jsep.mjs': 'text/javascript; charset=utf-8',
  'ort/ort-wasm-simd-threaded.jsep.wasm': 'application/wasm',
  'models/pose.onnx': 'application/octet-stream',
  'models/object.glb': 'model/gltf-binary',
  'models/manifest.json': 'application/json; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
  'UPPER.JS': 'text/javascript; charset=utf-8',
  'notes.unknownext': 'application/octet-stream',
};

let root;
let server;
let url;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'orient-serve-'));
  for (const name of Object.keys(TYPES)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), `contents of ${name}`);
  }
  ({ server, url } = await startServer({ root, port: 0 }));
});
after(() => {
  server?.close();
  rmSync(root, { recursive: true, force: true });
});

/** A raw GET (no URL normalization, so ../ reaches the server as sent). */
const get = (path) =>
  new Promise((ok, fail) => {
    const { hostname, port } = new URL(url);
    request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body }));
    })
      .on('error', fail)
      .end();
  });

function assertSecurityHeaders(headers, what) {
  assert.equal(headers['content-security-policy'], CONTENT_SECURITY_POLICY, what);
  assert.equal(headers['x-content-type-options'], 'nosniff', what);
  assert.equal(headers['cross-origin-opener-policy'], 'same-origin', what);
  assert.equal(headers['cross-origin-embedder-policy'], 'require-corp', what);
}

test('every file is served with its Content-Type and the security headers', async () => {
  for (const [name, type] of Object.entries(TYPES)) {
    const r = await get(`/${name}`);
    assert.equal(r.status, 200, name);
    assert.equal(r.headers['content-type'], type, name);
    assert.equal(r.body, `contents of ${name}`);
    assertSecurityHeaders(r.headers, name);
  }
  const index = await get('/');
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assertSecurityHeaders(index.headers, '/');
});

test('errors are plain text with the same headers', async () => {
  const missing = await get('/models/<script>.onnx');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['content-type'], 'text/plain; charset=utf-8');
  assertSecurityHeaders(missing.headers, '404');
  const outside = await get('/../../etc/passwd');
  assert.ok([403, 404].includes(outside.status), `${outside.status}`);
  assert.doesNotMatch(outside.body, /root:/);
  assertSecurityHeaders(outside.headers, 'outside the root');
  const escaped = await get('/..%2f..%2f..%2fetc/passwd'); // decoded after URL parsing: ../../../etc/passwd
  assert.equal(escaped.status, 403);
  assertSecurityHeaders(escaped.headers, '403');
  const bad = await get('/%E0%A4%A');
  assert.equal(bad.status, 400);
  assertSecurityHeaders(bad.headers, '400');
});

test('the policy allows only what the page uses', () => {
  assert.equal(
    CONTENT_SECURITY_POLICY,
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; img-src 'self'; " +
      "style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  const all = Object.values(CSP_DIRECTIVES).flat();
  for (const loose of ["'unsafe-inline'", "'unsafe-eval'", 'data:', 'blob:', '*', 'http:', 'https:']) assert.ok(!all.includes(loose), loose);
});
