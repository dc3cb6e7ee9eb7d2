// onnxruntime-web in the page: where its .wasm files are served from (the build, never
// a CDN), which execution provider to use, and fetching model files with errors that
// say what is missing.

import * as ort from 'onnxruntime-web';

export { ort };

/** Point onnxruntime-web at the runtime files the build serves under ./ort/ (see vite.config.js). */
export function configureOrt() {
  ort.env.wasm.wasmPaths = new URL('ort/', document.baseURI).href;
  ort.env.logLevel = 'error';
  // Threads need cross-origin isolation (COOP/COEP headers, set by our servers);
  // without it onnxruntime-web runs single-threaded.
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, Math.max(1, (navigator.hardwareConcurrency ?? 2) >> 1)) : 1;
}

/** Whether a WebGPU adapter exists (headless Chromium needs the swiftshader flags for one). */
export async function webgpuAvailable() {
  if (!('gpu' in navigator)) return { ok: false, reason: 'navigator.gpu is missing (this browser has no WebGPU)' };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    return adapter ? { ok: true } : { ok: false, reason: 'no WebGPU adapter' };
  } catch (e) {
    return { ok: false, reason: `requestAdapter failed: ${e?.message ?? e}` };
  }
}

/**
 * The execution providers to try for each model, in order. requested:
 *   'auto'    the pose CNN on WebGPU when an adapter exists (else WASM); the policy on WASM:
 *             a 23 -> 3 MLP takes ~0.1 ms on the CPU, less than one GPU round trip
 *   'webgpu'  both models on WebGPU, or an error
 *   'wasm'    both models on WASM
 */
export async function executionProviderPlan(requested) {
  if (requested === 'wasm') return { pose: ['wasm'], policy: ['wasm'], note: 'WASM (requested)' };
  if (requested !== 'auto' && requested !== 'webgpu') throw new Error(`unknown execution provider "${requested}"; use ?ep=auto, webgpu or wasm`);
  const gpu = await webgpuAvailable();
  if (requested === 'webgpu') {
    if (!gpu.ok) throw new Error(`WebGPU was requested (?ep=webgpu) but is not available: ${gpu.reason}`);
    return { pose: ['webgpu'], policy: ['webgpu'], note: 'WebGPU (requested)' };
  }
  return gpu.ok
    ? { pose: ['webgpu', 'wasm'], policy: ['wasm'], note: 'auto: CNN on WebGPU, policy on WASM' }
    : { pose: ['wasm'], policy: ['wasm'], note: `auto: WASM (${gpu.reason})` };
}

/** Fetch a file as bytes; a 404 or network error names the file and how to produce it. */
export async function fetchBytes(url, what, hint) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`${what}: could not fetch ${url}: ${e?.message ?? e}`);
  }
  if (!response.ok) throw new Error(`${what}: ${url} answered HTTP ${response.status}; ${hint}`);
  // A dev server answers unknown paths with index.html: that is a missing file too.
  if ((response.headers.get('content-type') ?? '').includes('text/html')) throw new Error(`${what}: ${url} is missing (the server sent a web page); ${hint}`);
  return new Uint8Array(await response.arrayBuffer());
}
