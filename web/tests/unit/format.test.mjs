// The panel's figures: a measurement is shown only when it is one. A stalled clock (a
// headless browser under --virtual-time-budget) gives zero intervals, hence 0 ms
// latencies and Infinity FPS; those, NaN, negatives and "not measured yet" show as '–'.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { framesPerSecond } from '../../src/app/loop.js';
import { formatDeg, formatFps, formatMeasurement, formatMs, formatSigned, NO_FIGURE } from '../../src/ui/format.js';

const NOT_MEASUREMENTS = [Infinity, -Infinity, NaN, 0, -0, -3.2, null, undefined, '12', {}];

test('the en dash stands for no figure', () => {
  assert.equal(NO_FIGURE, '–');
});

test('no figure for a value that is not a finite positive measurement', () => {
  for (const v of NOT_MEASUREMENTS) {
    assert.equal(formatMeasurement(v), NO_FIGURE, `formatMeasurement(${String(v)})`);
    assert.equal(formatMs(v), NO_FIGURE, `formatMs(${String(v)})`);
    assert.equal(formatFps(v), NO_FIGURE, `formatFps(${String(v)})`);
    assert.equal(formatFps(v, 0), NO_FIGURE, `formatFps(${String(v)}, 0)`);
  }
});

test('a real measurement is formatted', () => {
  assert.equal(formatMs(12.345), '12.3 ms');
  assert.equal(formatMs(0.04), '0.0 ms'); // measured, just below the shown precision
  assert.equal(formatFps(59.94), '59.9');
  assert.equal(formatFps(59.94, 0), '60');
  assert.equal(formatMeasurement(1.5, 2, ' s'), '1.50 s');
});

test('angles: zero is an angle, non-finite or negative values are not', () => {
  assert.equal(formatDeg(3.21), '3.2°');
  assert.equal(formatDeg(0), '0.0°');
  for (const v of [Infinity, NaN, -1, null, undefined]) assert.equal(formatDeg(v), NO_FIGURE, `formatDeg(${v})`);
});

test('signed values (action components) keep their sign; non-finite ones show no figure', () => {
  assert.equal(formatSigned(-0.781), '-0.78');
  assert.equal(formatSigned(0), '0.00');
  for (const v of [Infinity, NaN, null, undefined]) assert.equal(formatSigned(v), NO_FIGURE);
});

test('FPS over the last second of frames', () => {
  assert.equal(framesPerSecond([], 0), null);
  assert.equal(framesPerSecond([100], 100), null); // one frame is no rate
  assert.equal(framesPerSecond([0, 100, 200, 300], 300), 10);
  const old = [0, 500, 1600, 1700];
  assert.equal(framesPerSecond(old, 2000), 10); // frames older than a second are dropped
  assert.deepEqual(old, [1600, 1700]);
});

test('FPS: a clock that did not advance between frames is no figure, not Infinity', () => {
  assert.equal(framesPerSecond([5000, 5000], 5000), null);
  assert.equal(framesPerSecond([5000, 5000, 5000, 5000], 5000), null);
  assert.equal(framesPerSecond([NaN, NaN], NaN), null);
});
