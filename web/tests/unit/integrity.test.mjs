// Model bytes against manifest.json's sha256 (src/infer/integrity.js): the shipped models
// pass; tampered bytes, a missing or malformed sha256 and a broken manifest each stop with
// an error naming the file (never a TypeError, never a pass).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { expectedSha256, IntegrityError, parseManifest, sha256Hex, toHex, verifyFile } from '../../src/infer/integrity.js';
import { modelsDir } from './helpers.mjs';

const manifestText = readFileSync(resolve(modelsDir, 'manifest.json'), 'utf8');
const read = (name) => new Uint8Array(readFileSync(resolve(modelsDir, name)));
const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');
/** A manifest listing only `files`. */
const manifestOf = (files) => parseManifest(JSON.stringify({ files }));

test('the shipped models match the shipped manifest.json', async () => {
  const manifest = parseManifest(manifestText);
  for (const name of ['pose.onnx', 'policy.onnx']) {
    const bytes = read(name);
    assert.equal(await verifyFile(manifest, name, bytes), manifest.files[name].sha256, name);
  }
});

test('SHA-256 through WebCrypto agrees with node:crypto', async () => {
  const bytes = read('policy.onnx');
  assert.equal(await sha256Hex(bytes), sha(bytes));
  assert.equal(await sha256Hex(new Uint8Array()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  // a view into a larger buffer hashes only its own bytes
  const big = new Uint8Array([9, 1, 2, 3, 9]);
  assert.equal(await sha256Hex(big.subarray(1, 4)), sha(Buffer.from([1, 2, 3])));
  assert.equal(toHex(new Uint8Array([0, 15, 255]).buffer), '000fff');
});

test('one changed byte is refused, naming the file, the expected and the actual hash', async () => {
  const manifest = parseManifest(manifestText);
  const bytes = read('pose.onnx');
  bytes[bytes.length >> 1] ^= 1;
  const expected = manifest.files['pose.onnx'].sha256;
  const actual = sha(bytes);
  await assert.rejects(verifyFile(manifest, 'pose.onnx', bytes), (e) => {
    assert.ok(e instanceof IntegrityError, e);
    assert.equal(e.file, 'pose.onnx');
    assert.match(e.message, /^pose\.onnx: is not the exported model/);
    assert.ok(e.message.includes(`expects ${expected}`), e.message);
    assert.ok(e.message.includes(`its sha256 is ${actual}`), e.message);
    return true;
  });
});

test('another valid model under the name is refused too', async () => {
  const manifest = parseManifest(manifestText);
  await assert.rejects(verifyFile(manifest, 'pose.onnx', read('policy.onnx')), /pose\.onnx: is not the exported model: its sha256 is 2a5921d7.*\(82224 bytes; the manifest's 8331980\)/);
});

test('an entry without a sha256 is a clear error, not a TypeError', async () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const cases = [
    [{ 'pose.onnx': { bytes: 3 } }, /^pose\.onnx: its entry in manifest\.json has no sha256/],
    [{ 'pose.onnx': { sha256: null } }, /^pose\.onnx: its sha256 in manifest\.json is not 64 lower-case hex digits: null/],
    [{ 'pose.onnx': { sha256: 'abc' } }, /not 64 lower-case hex digits: "abc"/],
    [{ 'pose.onnx': { sha256: sha(bytes).toUpperCase() } }, /not 64 lower-case hex digits/],
    [{ 'pose.onnx': null }, /^pose\.onnx: is not listed in manifest\.json \(it lists: pose\.onnx\)/],
    [{ 'policy.onnx': { sha256: sha(bytes) } }, /^pose\.onnx: is not listed in manifest\.json \(it lists: policy\.onnx\)/],
    [{}, /is not listed in manifest\.json \(it lists: nothing\)/],
    // a name inherited from Object.prototype is not an entry
    [{ 'pose.onnx': { sha256: sha(bytes) } }, /^constructor: is not listed/, 'constructor'],
  ];
  for (const [files, pattern, name = 'pose.onnx'] of cases) {
    await assert.rejects(verifyFile(manifestOf(files), name, bytes), (e) => {
      assert.ok(e instanceof IntegrityError, `${JSON.stringify(files)}: ${e}`);
      assert.match(e.message, pattern);
      return true;
    });
  }
  assert.equal(expectedSha256(manifestOf({ 'pose.onnx': { sha256: sha(bytes) } }), 'pose.onnx'), sha(bytes));
});

test('a manifest that is not JSON or has no files table is refused as manifest.json', () => {
  for (const [text, pattern] of [
    ['', /^manifest\.json: is not JSON/],
    ['<!doctype html>', /^manifest\.json: is not JSON/],
    ['null', /^manifest\.json: has no "files" table/],
    ['[]', /has no "files" table/],
    ['{"models": ["pose"]}', /has no "files" table/],
    ['{"files": []}', /has no "files" table/],
  ]) {
    assert.throws(() => parseManifest(text), (e) => e instanceof IntegrityError && pattern.test(e.message), text);
  }
});

test('without WebCrypto (not a secure context) the model is refused, saying why', async () => {
  const manifest = manifestOf({ 'pose.onnx': { sha256: sha(new Uint8Array([1])) } });
  await assert.rejects(verifyFile(manifest, 'pose.onnx', new Uint8Array([1]), null), /^IntegrityError: pose\.onnx: crypto\.subtle is missing \(the page is not a secure context/);
});
