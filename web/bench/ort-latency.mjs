// Batch-1 latency of the shipped ONNX files in Node with onnxruntime-web (WASM backend).
//
//   node web/bench/ort-latency.mjs [--dir web/public/models] [--runs 1000] [--warmup 50] [--threads 1]
//
// The counterpart of `python -m experiments.check_onnx --latency 1000` (onnxruntime on the
// CPU). Input names and shapes come from the directory's task.json (written from
// orient_jax/profiles), so nothing here restates the contract. Each model gets one session;
// after `warmup` untimed runs, each of `runs` runs is timed on its own with
// performance.now(). The last line printed is one JSON object.
import { access, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import * as ort from 'onnxruntime-web';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const options = { dir: path.join(here, '..', 'public', 'models'), runs: 1000, warmup: 50, threads: 1 };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--dir') options.dir = value;
    else if (flag === '--runs') options.runs = Number(value);
    else if (flag === '--warmup') options.warmup = Number(value);
    else if (flag === '--threads') options.threads = Number(value);
    else throw new Error(`unknown argument ${flag}; usage: --dir DIR --runs N --warmup N --threads N`);
    i += 1;
  }
  for (const key of ['runs', 'warmup', 'threads']) {
    if (!Number.isInteger(options[key]) || options[key] < (key === 'warmup' ? 0 : 1)) {
      throw new Error(`--${key} must be an integer (${key === 'warmup' ? '>= 0' : '>= 1'}), got ${options[key]}`);
    }
  }
  return options;
}

function models(task) {
  const { onnx, camera, observation, action } = task;
  const size = camera.resolution;
  return [
    { file: 'pose.onnx', input: onnx.pose_input, output: onnx.pose_output, dims: [1, 3, size, size], out: [1, 4] },
    {
      file: 'policy.onnx',
      input: onnx.policy_input,
      output: onnx.policy_output,
      dims: [1, observation.size],
      out: [1, action.size],
    },
  ];
}

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function bench(dir, model, runs, warmup) {
  const bytes = await readFile(path.join(dir, model.file));
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  if (!session.inputNames.includes(model.input) || !session.outputNames.includes(model.output)) {
    throw new Error(
      `${model.file}: expected input '${model.input}' and output '${model.output}', ` +
        `found inputs [${session.inputNames}] and outputs [${session.outputNames}]`,
    );
  }
  const count = model.dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i += 1) data[i] = Math.sin(i * 12.9898) * 0.5; // fixed, input-independent timing
  const feeds = { [model.input]: new ort.Tensor('float32', data, model.dims) };
  const first = await session.run(feeds);
  const shape = first[model.output].dims;
  if (shape.join(',') !== model.out.join(',')) {
    throw new Error(`${model.file}: output '${model.output}' has shape [${shape}], expected [${model.out}]`);
  }
  for (let i = 0; i < warmup; i += 1) await session.run(feeds);
  const ms = new Float64Array(runs);
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    await session.run(feeds);
    ms[i] = performance.now() - start;
  }
  await session.release();
  const sorted = Array.from(ms).sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / runs;
  return {
    file: model.file,
    runs,
    mean_ms: mean,
    median_ms: percentile(sorted, 0.5),
    p90_ms: percentile(sorted, 0.9),
    min_ms: sorted[0],
    s_per_1000: mean, // 1,000 runs x mean ms / 1,000 ms per s
    // The output for the fixed input sin(12.9898 i) / 2, i = 0, 1, ... (row-major), so that
    // another runtime can be compared with this one on the same input.
    output_for_fixed_input: Array.from(first[model.output].data),
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const task = JSON.parse(await readFile(path.join(options.dir, 'task.json'), 'utf8'));
  ort.env.wasm.numThreads = options.threads;
  ort.env.logLevel = 'error';
  const results = [];
  for (const model of models(task)) {
    const file = path.join(options.dir, model.file);
    if (!(await access(file).then(() => true, () => false))) {
      console.log(`${model.file}: skipped (not in ${options.dir})`);
      results.push({ file: model.file, skipped: 'missing' });
      continue;
    }
    const r = await bench(options.dir, model, options.runs, options.warmup);
    results.push(r);
    console.log(
      `${r.file}: onnxruntime-web ${ort.env.versions?.web ?? ''} WASM batch-1 mean ${r.mean_ms.toFixed(4)} ms ` +
        `over ${r.runs} runs = ${r.s_per_1000.toFixed(4)} s per 1,000 (median ${r.median_ms.toFixed(4)}, ` +
        `p90 ${r.p90_ms.toFixed(4)} ms; ${options.threads} thread(s))`,
    );
  }
  const summary = {
    ok: true,
    runtime: `onnxruntime-web ${ort.env.versions?.web ?? 'unknown'} (wasm)`,
    node: process.version,
    threads: options.threads,
    cores: cpus().length,
    results,
  };
  console.log(JSON.stringify(summary));
}

main().catch((error) => {
  console.error(`error: ${error.message}`);
  console.log(JSON.stringify({ ok: false, error: error.message }));
  process.exit(1);
});
