import { test } from 'node:test';
import assert from 'node:assert/strict';

import { rgbaToNchw } from '../../src/infer/capture.js';
import { assertClose, task } from './helpers.mjs';

test('pixels become RGB planes, /255 then ImageNet-normalized, top row first', () => {
  const { image_mean: mean, image_std: std } = task.onnx;
  // A 2x2 image as WebGL reads it (bottom row first): bottom = red, white; top = black, (0,128,255).
  const rgba = new Uint8Array([255, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 255, 0, 128, 255, 255]);
  const x = rgbaToNchw(rgba, 2, mean, std, true);
  const n = (v, c) => (v / 255 - mean[c]) / std[c];
  // Pixel order in each plane: (top-left, top-right, bottom-left, bottom-right).
  assertClose(x.subarray(0, 4), [n(0, 0), n(0, 0), n(255, 0), n(255, 0)], 1e-6, 'R');
  assertClose(x.subarray(4, 8), [n(0, 1), n(128, 1), n(0, 1), n(255, 1)], 1e-6, 'G');
  assertClose(x.subarray(8, 12), [n(0, 2), n(255, 2), n(0, 2), n(255, 2)], 1e-6, 'B');
  const same = rgbaToNchw(new Uint8Array([0, 0, 0, 255, 0, 128, 255, 255, 255, 0, 0, 255, 255, 255, 255, 255]), 2, mean, std, false);
  assert.deepEqual(same, x);
  assert.throws(() => rgbaToNchw(new Uint8Array(12), 2, mean, std, true), /2x2/);
});
