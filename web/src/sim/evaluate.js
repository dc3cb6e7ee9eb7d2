// Headless evaluation: many episodes of the same physics and observation code the page
// runs, from uniformly random starts, with a batched policy. Reports what
// orient_jax/tasks/rotation/evaluation.py reports: success rate and time to upright (seconds from the
// reset to the start of the successful hold) over the successful episodes.

import { Episode, noisySensor } from './episode.js';
import { randomUniform } from './quat.js';
import { Rng } from './rng.js';

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const x = (sorted.length - 1) * p;
  const i = Math.floor(x);
  const f = x - i;
  return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

/**
 * @param task     parsed task.json
 * @param policy   async (obs: Float32Array [n*23], n) => Float32Array [n*3]
 * @param episodes number of episodes
 * @param seed     episode i's start, disturbances and noise depend only on (seed, i)
 * @param noise    a NoiseModel, or null for ground-truth observations
 * @param batch    episodes stepped together (one policy call per control step)
 * @param observeEvery  refresh the observed orientation every N control steps and hold it
 *                  in between, as the page does when the CNN runs every N frames
 * @param onProgress  optional (doneEpisodes, episodes) => void
 */
export async function evaluate({ task, policy, episodes, seed = 0, noise = null, disturbances = true, batch = 1000, observeEvery = 1, onProgress }) {
  if (!(episodes > 0)) throw new Error(`episodes must be positive, got ${episodes}`);
  if (!(Number.isInteger(observeEvery) && observeEvery >= 1)) throw new Error(`observeEvery must be an integer >= 1, got ${observeEvery}`);
  const obsSize = task.observation.size;
  const steps = task.derived.episode_steps;
  const results = [];
  for (let first = 0; first < episodes; first += batch) {
    const n = Math.min(batch, episodes - first);
    const eps = [];
    for (let i = 0; i < n; i++) {
      const rng = new Rng(seed * 1000003 + first + i);
      const ep = new Episode(task, { rng: rng.fork(), disturbances });
      const sense = noise ? noisySensor(noise, rng.fork()) : (q) => q;
      ep.reset(randomUniform(rng));
      eps.push({ ep, sense, diverged: false, held: null });
    }
    for (let t = 0; t < steps; t++) {
      // Once success has latched nothing can change the result, so stop stepping it.
      const live = eps.filter((e) => !e.ep.success.success && !e.diverged);
      if (!live.length) break;
      const obs = new Float32Array(live.length * obsSize);
      live.forEach((e, k) => {
        if (t % observeEvery === 0) e.held = e.sense(e.ep.trueQuat);
        obs.set(e.ep.observe(e.held), k * obsSize);
      });
      const actions = await policy(obs, live.length);
      live.forEach((e, k) => {
        e.ep.act(actions.subarray(k * 3, k * 3 + 3));
        if (!e.ep.physics.isFinite) e.diverged = true;
      });
    }
    for (const e of eps) {
      results.push({ success: e.ep.success.success, time: e.ep.success.successTime, diverged: e.diverged, finalTiltDeg: e.ep.tiltDeg });
    }
    onProgress?.(results.length, episodes);
  }
  const times = results.filter((r) => r.success).map((r) => r.time).sort((a, b) => a - b);
  return {
    episodes,
    success_rate: times.length / episodes,
    median_time_to_upright_s: percentile(times, 0.5),
    p90_time_to_upright_s: percentile(times, 0.9),
    diverged: results.filter((r) => r.diverged).length,
    noise: noise ? { quantiles_deg: noise.quantilesDeg, median_deg: noise.medianDeg(), source: noise.source } : null,
    disturbances,
    observe_every: observeEvery,
    seed,
  };
}
