// onnxruntime-web sessions for the two shipped models, with the browser contract
// checked on load (names, element type, shapes) so that a wrong file stops with a
// message instead of producing nonsense. Used by the page and by the Node evaluation;
// the caller passes in the `ort` module (the browser and Node builds differ).
//
//   policy.onnx  input  float32 [N, observation.size]  ->  actions [N, action.size] in [-1, 1]
//   pose.onnx    input  float32 [N, 3, R, R] (RGB, ImageNet-normalized)  ->  output [N, 4] (x,y,z,w)

import { canonical, normalize } from '../sim/quat.js';

export class ModelError extends Error {
  constructor(model, message) {
    super(`${model}: ${message}`);
    this.name = 'ModelError';
    this.model = model;
  }
}

function describe(meta) {
  return meta.map((m) => `${m.name}${m.isTensor ? ` ${m.type}[${m.shape.join(',')}]` : ''}`).join(', ');
}

/** Check one named input/output: present, float32, and each fixed dimension matching `shape` (null = any). */
function checkValue(model, kind, metadata, name, shape) {
  const meta = metadata.find((m) => m.name === name);
  if (!meta) throw new ModelError(model, `has no ${kind} named "${name}" (it has: ${describe(metadata)}); re-export it with the browser contract`);
  if (!meta.isTensor || meta.type !== 'float32') throw new ModelError(model, `${kind} "${name}" must be a float32 tensor, got ${describe([meta])}`);
  if (meta.shape.length && meta.shape.length !== shape.length) {
    throw new ModelError(model, `${kind} "${name}" has rank ${meta.shape.length} [${meta.shape}], expected [${shape.map((d) => d ?? 'N')}]`);
  }
  meta.shape.forEach((d, i) => {
    if (typeof d === 'number' && shape[i] !== null && d !== shape[i] && d > 0) {
      throw new ModelError(model, `${kind} "${name}" has shape [${meta.shape}], expected [${shape.map((x) => x ?? 'N')}]`);
    }
  });
}

/** The contract each model must keep, from task.json. */
export function contracts(task) {
  const r = task.camera.resolution;
  return {
    policy: {
      input: task.onnx.policy_input,
      output: task.onnx.policy_output,
      inputShape: [null, task.observation.size],
      outputShape: [null, task.action.size],
    },
    pose: {
      input: task.onnx.pose_input,
      output: task.onnx.pose_output,
      inputShape: [null, 3, r, r],
      outputShape: [null, 4],
    },
  };
}

/**
 * Create a session from model bytes on exactly one execution provider (so that what the
 * page reports is what runs), and check it against `contract`.
 */
export async function createSession(ort, model, bytes, contract, executionProvider) {
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: [executionProvider],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
  } catch (e) {
    throw new ModelError(model, `could not be loaded on ${executionProvider}: ${e?.message ?? e}`);
  }
  checkValue(model, 'input', session.inputMetadata, contract.input, contract.inputShape);
  checkValue(model, 'output', session.outputMetadata, contract.output, contract.outputShape);
  return session;
}

/** Runs a model and keeps its latest and median latency (ms). */
class TimedModel {
  constructor(name, ort, session, contract, executionProvider) {
    this.name = name;
    this.ort = ort;
    this.session = session;
    this.contract = contract;
    this.executionProvider = executionProvider;
    this.latencies = [];
  }

  async _run(data, dims) {
    const t0 = performance.now();
    const feeds = { [this.contract.input]: new this.ort.Tensor('float32', data, dims) };
    const out = await this.session.run(feeds);
    const y = out[this.contract.output];
    const values = await y.getData();
    const ms = performance.now() - t0;
    this.latencies.push(ms);
    if (this.latencies.length > 600) this.latencies.shift();
    return { values, dims: y.dims, ms };
  }

  get lastMs() {
    return this.latencies.at(-1) ?? null;
  }

  get medianMs() {
    if (!this.latencies.length) return null;
    const s = [...this.latencies].sort((a, b) => a - b);
    return s[s.length >> 1];
  }

  resetStats() {
    this.latencies = [];
  }
}

export class PolicyModel extends TimedModel {
  /** obs: Float32Array of n * observation.size; returns Float32Array of n * 3 actions. */
  async act(obs, n = 1) {
    const size = this.contract.inputShape[1];
    if (obs.length !== n * size) throw new Error(`policy input needs ${n} x ${size} values, got ${obs.length}`);
    const { values, dims } = await this._run(obs, [n, size]);
    const a = this.contract.outputShape[1];
    if (dims.length !== 2 || dims[0] !== n || dims[1] !== a) throw new ModelError('policy.onnx', `returned shape [${dims}], expected [${n},${a}]`);
    for (const v of values) if (!Number.isFinite(v)) throw new ModelError('policy.onnx', 'returned a non-finite action');
    return values;
  }
}

export class PoseModel extends TimedModel {
  /** input: Float32Array [1, 3, R, R] (see capture.js); returns the unit quaternion, w >= 0. */
  async predict(input) {
    const r = this.contract.inputShape[2];
    const { values, dims } = await this._run(input, [1, 3, r, r]);
    if (dims.length !== 2 || dims[0] !== 1 || dims[1] !== 4) throw new ModelError('pose.onnx', `returned shape [${dims}], expected [1,4]`);
    const q = Array.from(values);
    if (!q.every(Number.isFinite) || Math.hypot(...q) < 1e-6) throw new ModelError('pose.onnx', `returned an unusable quaternion [${q}]`);
    return canonical(normalize(q));
  }
}

/** Load policy.onnx from bytes on one execution provider. */
export async function loadPolicy(ort, task, bytes, executionProvider) {
  const c = contracts(task).policy;
  const session = await createSession(ort, 'policy.onnx', bytes, c, executionProvider);
  return new PolicyModel('policy', ort, session, c, executionProvider);
}

/** Load pose.onnx from bytes on one execution provider. */
export async function loadPose(ort, task, bytes, executionProvider) {
  const c = contracts(task).pose;
  const session = await createSession(ort, 'pose.onnx', bytes, c, executionProvider);
  return new PoseModel('pose', ort, session, c, executionProvider);
}
