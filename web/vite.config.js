// Vite builds the static site (dist/): index.html, the bundled app, public/models/
// copied as is, and onnxruntime-web's WASM runtime files served from ./ort/ -- nothing
// is fetched from a CDN. The preview and dev servers send the headers scripts/serve.mjs
// sends (scripts/headers.mjs): COOP/COEP, which make the page cross-origin isolated so
// onnxruntime-web can use threads, the Content-Security-Policy and nosniff.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defaultClientConditions, defineConfig } from 'vite';

import { contentSecurityPolicy, SECURITY_HEADERS } from './scripts/headers.mjs';

// The dev server's client injects <style> elements (its error overlay, CSS imported from
// JavaScript): the one loosening of the policy, and only there. Its HMR WebSocket is
// same-origin, which connect-src 'self' allows.
const DEV_HEADERS = { ...SECURITY_HEADERS, 'Content-Security-Policy': contentSecurityPolicy({ 'style-src': ["'unsafe-inline'"] }) };

const require = createRequire(import.meta.url);
const ORT_DIST = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));
// The default onnxruntime-web build (WASM + the WebGPU "JSEP" provider) loads these two.
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

function ortRuntimeFiles() {
  return {
    name: 'ort-runtime-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = ORT_FILES.find((f) => req.url?.split('?')[0].endsWith(`/ort/${f}`));
        if (!name) return next();
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        res.end(readFileSync(join(ORT_DIST, name)));
      });
    },
    generateBundle() {
      for (const name of ORT_FILES) this.emitFile({ type: 'asset', fileName: `ort/${name}`, source: readFileSync(join(ORT_DIST, name)) });
    },
  };
}

export default defineConfig({
  base: './',
  // Use the onnxruntime-web build that loads its WASM runtime from env.wasm.wasmPaths.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: DEV_HEADERS },
  preview: { headers: SECURITY_HEADERS },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
  plugins: [ortRuntimeFiles()],
});
