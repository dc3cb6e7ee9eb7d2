// The HTTP headers every server of the page sends (scripts/serve.mjs for dist/ and `make
// demo`, and Vite's preview and dev servers through vite.config.js). No imports, so
// vite.config.js can load it as is.
//
// Everything the page uses is same-origin: the bundled app, onnxruntime-web's runtime
// files under ./ort/, and models/ (task.json, manifest.json, object.glb, *.onnx).

/** Directive by directive; each one is what the page needs and no more. */
export const CSP_DIRECTIVES = {
  // Whatever is not listed below is refused: fonts, media, frames, manifests, prefetches.
  'default-src': ["'none'"],
  // The app bundle and onnxruntime-web's ort-wasm-simd-threaded.jsep.mjs (a dynamic
  // import()) are files of this origin; no inline script, no eval(). 'wasm-unsafe-eval'
  // lets WebAssembly compile onnxruntime-web's .wasm (nothing else JavaScript can eval).
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  // onnxruntime-web's WASM threads: module workers started from that same .mjs. (It uses
  // a blob: copy only when the runtime comes from another origin, which ours never does.)
  'worker-src': ["'self'"],
  // fetch(): task.json, manifest.json, object.glb, the .onnx models and the .wasm.
  'connect-src': ["'self'"],
  // No image is loaded from anywhere except this origin (object.glb has no textures); the
  // canvases' readback (readPixels, toDataURL) is not a fetch and needs nothing here.
  'img-src': ["'self'"],
  // The built stylesheet is a file; nothing writes a style attribute or a <style>
  // element (setting el.style.* from script is not governed by CSP).
  'style-src': ["'self'"],
  // No plugins, no <base> rewriting where relative URLs (./assets, models/) point, no
  // form submissions, and no page may frame this one (clickjacking).
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/** A policy string from directives, with `extra` sources appended per directive. */
export function contentSecurityPolicy(extra = {}) {
  return Object.entries(CSP_DIRECTIVES)
    .map(([name, sources]) => [name, ...sources, ...(extra[name] ?? [])].join(' '))
    .join('; ');
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

/** COOP + COEP make the page cross-origin isolated, which lets onnxruntime-web use threads. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export const SECURITY_HEADERS = {
  ...ISOLATION_HEADERS,
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  // Every response has its true Content-Type; never let the browser guess one (a model
  // or a 404 text is never run as script or rendered as HTML).
  'X-Content-Type-Options': 'nosniff',
};
