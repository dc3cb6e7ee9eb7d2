// Each model's bytes against manifest.json (written by the ONNX exporter next to the
// models: files.<name>.sha256). The page hashes the bytes it fetched and creates the
// onnxruntime session from those same bytes only if the hash matches, so what was
// checked is what runs. Pure apart from the SHA-256 itself (crypto.subtle, passed in or
// the global one): runs in the page and in Node.

export class IntegrityError extends Error {
  constructor(file, message) {
    super(`${file}: ${message}`);
    this.name = 'IntegrityError';
    this.file = file;
  }
}

const MANIFEST = 'manifest.json';
const SHA256_HEX = /^[0-9a-f]{64}$/;
const HINT = 're-export the models with the ONNX exporter into web/public/models/ (it writes both) and rebuild (make web-build)';

const isObject = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);

/** Parse manifest.json's text; it must hold a "files" object (file name -> entry). */
export function parseManifest(text) {
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new IntegrityError(MANIFEST, `is not JSON (${e.message}); ${HINT}`);
  }
  if (!isObject(manifest) || !isObject(manifest.files)) {
    throw new IntegrityError(MANIFEST, `has no "files" table of the exported files and their sha256; ${HINT}`);
  }
  return manifest;
}

/** The sha256 (64 lower-case hex digits) manifest.json records for `file`, or an IntegrityError naming it. */
export function expectedSha256(manifest, file) {
  const entry = Object.hasOwn(manifest.files, file) ? manifest.files[file] : undefined;
  if (!isObject(entry)) throw new IntegrityError(file, `is not listed in ${MANIFEST} (it lists: ${Object.keys(manifest.files).join(', ') || 'nothing'}); ${HINT}`);
  if (!Object.hasOwn(entry, 'sha256')) throw new IntegrityError(file, `its entry in ${MANIFEST} has no sha256, so it cannot be checked; ${HINT}`);
  const sha = entry.sha256;
  if (typeof sha !== 'string' || !SHA256_HEX.test(sha)) {
    throw new IntegrityError(file, `its sha256 in ${MANIFEST} is not 64 lower-case hex digits: ${JSON.stringify(sha)}; ${HINT}`);
  }
  return sha;
}

/** Lower-case hex of a digest (ArrayBuffer or typed array). */
export function toHex(digest) {
  const bytes = digest instanceof ArrayBuffer ? new Uint8Array(digest) : new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** SHA-256 of `bytes` as hex, with WebCrypto (a page has it only in a secure context: https, localhost, 127.0.0.1). */
export async function sha256Hex(bytes, subtle = globalThis.crypto?.subtle) {
  if (!subtle) {
    throw new Error('crypto.subtle is missing (the page is not a secure context: serve it over https, or open it as http://127.0.0.1 or http://localhost), so the models cannot be checked against manifest.json');
  }
  return toHex(await subtle.digest('SHA-256', bytes));
}

/**
 * Check `bytes` (a Uint8Array) of `file` against the manifest; resolves to the sha256 when
 * they match, else rejects with an IntegrityError naming the file, the expected and the
 * actual hash.
 */
export async function verifyFile(manifest, file, bytes, subtle) {
  const expected = expectedSha256(manifest, file);
  let actual;
  try {
    actual = await sha256Hex(bytes, subtle);
  } catch (e) {
    throw new IntegrityError(file, e?.message ?? String(e));
  }
  if (actual !== expected) {
    const size = manifest.files[file].bytes;
    const sizes = Number.isInteger(size) ? ` (${bytes.length} bytes; the manifest's ${size})` : ` (${bytes.length} bytes)`;
    throw new IntegrityError(file, `is not the exported model: its sha256 is ${actual}${sizes}, ${MANIFEST} expects ${expected}; it was not loaded. ${HINT[0].toUpperCase()}${HINT.slice(1)}`);
  }
  return actual;
}
