// scripts/serve.mjs on a throwaway site: every response (200, 404, 403) carries the
// isolation headers, the Content-Security-Policy and nosniff, and each file type its own
// Content-Type. (The e2e tests check the same headers on the real build in Chromium.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
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

/** A raw request (no URL normalization, so ../ reaches the server as sent). */
const get = (path, method = 'GET') =>
  new Promise((ok, fail) => {
    const { hostname, port } = new URL(url);
    request({ hostname, port, path, method }, (res) => {
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

test('a file it cannot serve is a response, never a crash, and the server keeps serving', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'orient-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  mkdirSync(join(root, 'odd', 'index.html'), { recursive: true }); // a folder named index.html (EISDIR)
  symlinkSync(join(outside, 'secret.txt'), join(root, 'out-link.txt')); // a symlink out of the root
  symlinkSync(join(root, 'favicon.svg'), join(root, 'in-link.svg')); // a symlink inside it
  execFileSync('mkfifo', [join(root, 'pipe.txt')]); // opening a FIFO would block
  writeFileSync(join(root, 'locked.txt'), 'locked');
  chmodSync(join(root, 'locked.txt'), 0o000);
  try {
    assert.equal((await get('/odd/')).status, 404);
    assert.equal((await get('/odd/index.html')).status, 404);
    const link = await get('/out-link.txt');
    assert.equal(link.status, 403);
    assert.doesNotMatch(link.body, /secret/);
    assertSecurityHeaders(link.headers, 'symlink out');
    assert.equal((await get('/in-link.svg')).body, 'contents of favicon.svg');
    assert.equal((await get('/pipe.txt')).status, 404);
    // As root every file is readable; as anyone else, EACCES is a 403.
    assert.equal((await get('/locked.txt')).status, process.getuid?.() === 0 ? 200 : 403);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await get('/index.html', method);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
      assertSecurityHeaders(r.headers, method);
    }
    assert.equal((await get('/index.html')).body, 'contents of index.html'); // still serving
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});
