// Module resolution for the original runtime's imports, as its page's import map and
// CDN URLs would give them, but from this folder's pinned npm copies: nothing is
// fetched. Registered by runtime.mjs with module.register().

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const file = (p) => pathToFileURL(require.resolve(p)).href;

// What the original imports, and the local file that stands for it.
const MAP = {
  'https://cdn.jsdelivr.net/npm/cannon-es@0.20.0/dist/cannon-es.js': file('cannon-es/dist/cannon-es.js'),
  three: file('three'),
};

export async function resolve(specifier, context, next) {
  if (specifier in MAP) return { url: MAP[specifier], shortCircuit: true };
  if (specifier.startsWith('http://') || specifier.startsWith('https://')) {
    throw new Error(`the original runtime imports ${specifier}, which this harness has no local copy of`);
  }
  return next(specifier, context);
}
