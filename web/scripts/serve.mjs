#!/usr/bin/env node
// A static file server for the built site (web/dist): no dependencies, a Content-Type
// for every file it serves (.wasm as application/wasm, .js/.mjs as text/javascript), and
// on every response the headers of scripts/headers.mjs: COOP/COEP (which let
// onnxruntime-web use threads), the Content-Security-Policy and nosniff.
//
//   node scripts/serve.mjs [--port 8080] [--host 127.0.0.1] [--root dist]

import { createReadStream, existsSync, statSync } from 'node:fs';
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

/** Serve `root`; resolves to { server, url } once listening (port 0 picks a free port). */
export function startServer({ root = resolve(here, '../dist'), port = 8080, host = '127.0.0.1' } = {}) {
  root = resolve(root);
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(`${root}/index.html not found: build the site first (make web-build, or npm --prefix web run build)`);
  }
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400, TEXT).end('bad request');
      return;
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403, TEXT).end('forbidden');
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404, TEXT).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { ...HEADERS, 'Content-Type': MIME[extname(file).toLowerCase()] ?? BINARY, 'Content-Length': statSync(file).size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
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
