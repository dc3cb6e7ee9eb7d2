// Loading the page's inputs: task.json, the execution-provider plan, the object and both
// models. Every failure is shown on the page; a model that fails on one execution
// provider is tried on the next one of its plan, with a notice, never silently. A model's
// bytes are checked against manifest.json's sha256 before any session is made from them
// (infer/integrity.js): no manifest, no sha256 or a different hash, and it is not loaded.

import { configureOrt, executionProviderPlan, fetchBytes, ort } from '../infer/browser.js';
import { parseManifest, verifyFile } from '../infer/integrity.js';
import { loadPolicy, loadPose } from '../infer/models.js';
import { loadObject } from '../render/object.js';
import { parseTask } from '../sim/task.js';
import { showError, showNotice, shownErrors } from '../ui/errors.js';

const modelUrl = (name) => new URL(`models/${name}`, document.baseURI).href;
export const EP_LABEL = { webgpu: 'WebGPU', wasm: 'WASM' };
const EXPORT_HINT = 'export the models with the ONNX exporter into web/public/models/ and rebuild (make web-build)';

export async function loadTaskJson() {
  const bytes = await fetchBytes(modelUrl('task.json'), 'task.json', 'regenerate it with `make spec`');
  return parseTask(JSON.parse(new TextDecoder().decode(bytes)));
}

/** manifest.json, which holds each model's sha256; null (with the error shown) when it cannot be read. */
async function loadManifest() {
  try {
    const bytes = await fetchBytes(modelUrl('manifest.json'), 'manifest.json', EXPORT_HINT);
    return parseManifest(new TextDecoder().decode(bytes));
  } catch (e) {
    showError(`${e.message} -- without it no model can be checked, so none is loaded`);
    return null;
  }
}

/**
 * Load one model: fetch it, check its sha256 against the manifest, then create the session
 * from those bytes on the first execution provider of `order` that takes it. Every failure
 * is shown; `info` records what was verified and each session attempted.
 */
async function loadModel(name, loader, task, order, manifest, info) {
  if (!manifest) return null; // the manifest's error is shown already
  let bytes;
  try {
    bytes = await fetchBytes(modelUrl(name), name, EXPORT_HINT);
    info.verified[name] = await verifyFile(manifest, name, bytes);
  } catch (e) {
    showError(e.message);
    return null;
  }
  for (const [i, ep] of order.entries()) {
    info.sessionAttempts.push({ model: name, executionProvider: ep });
    try {
      return await loader(ort, task, bytes, ep);
    } catch (e) {
      if (i + 1 < order.length) showNotice(`${e.message} -- trying ${EP_LABEL[order[i + 1]]}`);
      else showError(e.message);
    }
  }
  return null;
}

/** The label of the execution provider(s) the loaded models run on. */
export function describeProviders(models) {
  const eps = [...new Set(models.filter(Boolean).map((m) => m.executionProvider))];
  if (!eps.length) return { label: 'no model loaded', kind: 'error' };
  if (eps.length === 1) return { label: EP_LABEL[eps[0]], kind: eps[0] };
  return { label: models.filter(Boolean).map((m) => `${m.name}: ${EP_LABEL[m.executionProvider]}`).join(', '), kind: 'mixed' };
}

/**
 * task.json, then the object and both models (`requestedEp`: the ?ep= option). Returns
 * { task, objectTemplate, pose, policy, info }; a part that failed to load is null.
 */
export async function loadAll(requestedEp) {
  const info = {
    executionProvider: null,
    executionProviders: {},
    plan: null,
    errors: shownErrors,
    ortVersion: ort.env.versions?.web ?? null,
    verified: {}, // model file -> the sha256 its bytes had, equal to manifest.json's
    sessionAttempts: [], // { model, executionProvider }: every onnxruntime session the page tried to create
  };
  const task = await loadTaskJson();
  configureOrt();
  let plan = null;
  try {
    plan = await executionProviderPlan(requestedEp);
    info.plan = plan.note;
  } catch (e) {
    showError(e.message);
  }
  const objectPromise = loadObject(modelUrl('object.glb'), task).catch((e) => {
    showError(e.message);
    return null;
  });
  // One model at a time: onnxruntime-web initializes its WASM runtime on the first
  // session, and two sessions created at once on different providers race there.
  const manifest = plan ? await loadManifest() : null;
  const pose = plan ? await loadModel('pose.onnx', loadPose, task, plan.pose, manifest, info) : null;
  const policy = plan ? await loadModel('policy.onnx', loadPolicy, task, plan.policy, manifest, info) : null;
  const objectTemplate = await objectPromise;
  const providers = describeProviders([pose, policy]);
  info.executionProvider = providers.label;
  info.executionProviders = { pose: pose?.executionProvider ?? null, policy: policy?.executionProvider ?? null };
  return { task, objectTemplate, pose, policy, info, providers };
}
