// How the panel writes a figure. A measurement is shown only when it is one: a finite
// number above zero (an angle may also be exactly zero). Anything else -- null before the
// first measurement, 0 or Infinity from a clock that did not advance between two
// readings (a headless browser under --virtual-time-budget), NaN -- shows as an en dash,
// never as "Infinity FPS" or "0.0 ms". Pure: no DOM, tested in Node.

export const NO_FIGURE = '–';

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

/** A positive measurement with `digits` decimals and an optional unit ("12.3 ms"), else '–'. */
export function formatMeasurement(v, digits = 1, unit = '') {
  return finite(v) && v > 0 ? `${v.toFixed(digits)}${unit}` : NO_FIGURE;
}

/** Milliseconds: "12.3 ms", or '–' without a positive duration. */
export const formatMs = (v) => formatMeasurement(v, 1, ' ms');

/** Frames per second with `digits` decimals, or '–' without a positive rate. */
export const formatFps = (v, digits = 1) => formatMeasurement(v, digits);

/** An angle in degrees ("3.2°"), zero included, or '–' when it is not a finite angle. */
export function formatDeg(v) {
  return finite(v) && v >= 0 ? `${v.toFixed(1)}°` : NO_FIGURE;
}

/** A signed number (an action component) with 2 decimals, or '–' when it is not finite. */
export function formatSigned(v, digits = 2) {
  return finite(v) ? v.toFixed(digits) : NO_FIGURE;
}
