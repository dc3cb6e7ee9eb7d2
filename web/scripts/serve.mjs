#!/usr/bin/env node
// A static file server for the built site (web/dist): no dependencies, a Content-Type
// for every file it serves (.wasm as application/wasm, .js/.mjs as text/javascript), and
// on every response the headers of scripts/headers.mjs: COOP/COEP (which let
// onnxruntime-web use threads), the Content-Security-Policy and nosniff. GET and HEAD only
// (others: 405); no symlink out of the root is followed; a file it cannot read is a 403,
// 404 or 500 response, and the server keeps serving.
//
//   node scripts/serve.mjs [--port 8080] [--host 127.0.0.1] [--root dist]

import { constants, existsSync, realpathSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { SECURITY_HEADERS } from './headers.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.glb': 'model/gltf-binary',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
};
// Anything else is bytes (with nosniff the browser neither runs nor renders it).
const BINARY = 'application/octet-stream';

const HEADERS = { ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' };
const TEXT = { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' };

const STATUS_OF = { ENOENT: 404, ENOTDIR: 404, EISDIR: 404, EACCES: 403, EPERM: 403, ELOOP: 403 };

function fail(res, status, text) {
  if (res.headersSent) {
    res.destroy(); // mid-body: the client sees a cut connection, never a wrong file
    return;
  }
  res.writeHead(status, TEXT).end(text);
}

/** One request: GET or HEAD of a regular file inside `root` (symlinks resolved, and refused
 * if they lead out of it). Every failure is a response: 400, 403, 404, 405 or 500. */
async function serveFile(root, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...TEXT, Allow: 'GET, HEAD' }).end('method not allowed');
    return;
  }
  let path;
  try {
    path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    fail(res, 400, 'bad request');
    return;
  }
  let file = normalize(join(root, path));
  const inside = (f) => f === root || f.startsWith(root + sep);
  if (!inside(file)) {
    fail(res, 403, 'forbidden');
    return;
  }
  let handle;
  try {
    file = await realpath(file);
    if ((await stat(file)).isDirectory()) file = await realpath(join(file, 'index.html'));
    if (!inside(file)) {
      fail(res, 403, 'forbidden'); // a symlink out of the served folder
      return;
    }
    // O_NONBLOCK: a FIFO planted in the folder must not hang the request (it is then refused as not a file).
    handle = await open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    const info = await handle.stat();
    if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    res.writeHead(200, { ...HEADERS, 'Content-Type': MIME[extname(file).toLowerCase()] ?? BINARY, 'Content-Length': info.size });
    if (req.method === 'HEAD') {
      res.end();
      await handle.close();
      return;
    }
    const stream = handle.createReadStream(); // closes the handle when it ends or fails
    handle = undefined;
    stream.on('error', () => fail(res, 500, 'read error'));
    stream.pipe(res);
  } catch (e) {
    await handle?.close();
    const status = STATUS_OF[e.code] ?? 500;
    fail(res, status, status === 404 ? `not found: ${path}` : status === 403 ? 'forbidden' : 'server error');
  }
}

/** Serve `root`; resolves to { server, url } once listening (port 0 picks a free port). */
export function startServer({ root = resolve(here, '../dist'), port = 8080, host = '127.0.0.1' } = {}) {
  root = resolve(root);
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(`${root}/index.html not found: build the site first (make web-build, or npm --prefix web run build)`);
  }
  const realRoot = realpathSync(root);
  const server = createServer((req, res) => {
    serveFile(realRoot, req, res).catch((e) => fail(res, 500, `server error: ${e.code ?? e.message}`));
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      ok({ server, url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${p}/` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, root: { type: 'string' } },
  });
  try {
    const { url } = await startServer({ root: values.root, port: Number(values.port), host: values.host });
    console.log(`orient-jax demo: ${url}   (Ctrl-C to stop)`);
  } catch (e) {
    const hint = e.code === 'EADDRINUSE' ? ` (port ${values.port} is taken: pass --port N, or WEB_PORT=N to make)` : '';
    console.error(`serve: ${e.message}${hint}`);
    process.exit(1);
  }
}
