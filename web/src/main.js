// The page: load task.json, the object and both models (showing any failure), build
// the views, and run camera -> CNN -> policy -> physics once per animation frame.
// URL options: ?ep=auto|webgpu|wasm  ?interval=auto|N  ?seed=N  ?paused=1  ?obs=vision|truth  ?lite=auto|1|0

import { configureOrt, executionProviderPlan, fetchBytes, ort } from './infer/browser.js';
import { loadPolicy, loadPose } from './infer/models.js';
import { Runtime } from './app/runtime.js';
import { CompareView } from './render/compareView.js';
import { InferenceView } from './render/inferenceView.js';
import { MainView } from './render/mainView.js';
import { loadObject } from './render/object.js';
import { geodesicAngle, randomUniform } from './sim/quat.js';
import { Rng } from './sim/rng.js';
import { parseTask } from './sim/task.js';
import { bindControls, showExecutionProvider, showRunning, showSettings, updateReadouts } from './ui/panel.js';
import { showError, showNotice, shownErrors } from './ui/errors.js';
import { enableDragPush, randomPush } from './ui/push.js';

const params = new URLSearchParams(location.search);
const modelUrl = (name) => new URL(`models/${name}`, document.baseURI).href;
const EP_LABEL = { webgpu: 'WebGPU', wasm: 'WASM' };
const EXPORT_HINT = 'export the models with the ONNX exporter into web/public/models/ and rebuild (make web-build)';

async function loadTaskJson() {
  const bytes = await fetchBytes(modelUrl('task.json'), 'task.json', 'regenerate it with `python -m orient_jax.spec`');
  return parseTask(JSON.parse(new TextDecoder().decode(bytes)));
}

/** Load one model on the first execution provider of `order` that takes it; every failure is shown. */
async function loadModel(name, loader, task, order) {
  let bytes;
  try {
    bytes = await fetchBytes(modelUrl(name), name, EXPORT_HINT);
  } catch (e) {
    showError(e.message);
    return null;
  }
  for (const [i, ep] of order.entries()) {
    try {
      return await loader(ort, task, bytes, ep);
    } catch (e) {
      if (i + 1 < order.length) showNotice(`${e.message} -- trying ${EP_LABEL[order[i + 1]]}`);
      else showError(e.message);
    }
  }
  return null;
}

function describeProviders(models) {
  const eps = [...new Set(models.filter(Boolean).map((m) => m.executionProvider))];
  if (!eps.length) return { label: 'no model loaded', kind: 'error' };
  if (eps.length === 1) return { label: EP_LABEL[eps[0]], kind: eps[0] };
  return { label: models.filter(Boolean).map((m) => `${m.name}: ${EP_LABEL[m.executionProvider]}`).join(', '), kind: 'mixed' };
}

async function boot() {
  const info = { executionProvider: null, executionProviders: {}, plan: null, errors: shownErrors, ortVersion: ort.env.versions?.web ?? null };
  const task = await loadTaskJson();

  configureOrt();
  let plan = null;
  try {
    plan = await executionProviderPlan(params.get('ep') ?? 'auto');
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
  const pose = plan ? await loadModel('pose.onnx', loadPose, task, plan.pose) : null;
  const policy = plan ? await loadModel('policy.onnx', loadPolicy, task, plan.policy) : null;
  const objectTemplate = await objectPromise;
  const providers = describeProviders([pose, policy]);
  showExecutionProvider(providers.label, providers.kind);
  info.executionProvider = providers.label;
  info.executionProviders = { pose: pose?.executionProvider ?? null, policy: policy?.executionProvider ?? null };

  const inference = objectTemplate ? new InferenceView(task, objectTemplate, document.getElementById('inference')) : null;
  const runtime = new Runtime({ task, inference, pose, policy });
  runtime.settings.vision = params.get('obs') !== 'truth';
  const interval = params.get('interval') ?? 'auto';
  runtime.settings.cnnInterval = interval === 'auto' ? 'auto' : Math.max(1, Number(interval) | 0);
  showSettings(runtime.settings);
  runtime.reset(params.has('seed') ? Number(params.get('seed')) : undefined);

  const mainView = objectTemplate ? new MainView(task, objectTemplate, document.getElementById('main-view'), { lite: { 1: true, 0: false }[params.get('lite')] ?? 'auto' }) : null;
  const compare = objectTemplate ? new CompareView(task, objectTemplate, document.getElementById('compare')) : null;
  if (mainView) enableDragPush(mainView, (impulse, offset) => runtime.push(impulse, offset));
  info.liteView = mainView?.lite ?? null;
  if (mainView?.lite) showNotice("Software WebGL renderer: the arena view is drawn at half resolution without antialiasing or shadows (?lite=0 to override). The CNN's view is unchanged.");

  // --- the animation loop: one control step per displayed frame (at most 60 per second) ---
  let running = params.get('paused') !== '1';
  let driven = false; // the test hook is stepping: the loop only draws
  let lastStep = -Infinity;
  const frameTimes = [];
  const fps = () => {
    const now = performance.now();
    while (frameTimes.length && now - frameTimes[0] > 1000) frameTimes.shift();
    return frameTimes.length > 1 ? ((frameTimes.length - 1) * 1000) / (frameTimes.at(-1) - frameTimes[0]) : null;
  };
  const draw = () => {
    const s = runtime.state;
    mainView?.setPose(s.position, s.quat);
    mainView?.render();
    compare?.render(s.quat, runtime.settings.vision ? s.prediction : null);
    updateReadouts(s, fps(), runtime);
  };
  const stepMs = 1000 * task.derived.control_dt;
  // Redraw only when something changed: a control step, the camera, a reset or a push.
  // (While the test hook steps, drawing every animation frame would compete with the
  // models for the GPU process.)
  let dirty = true;
  const markDirty = () => (dirty = true);
  mainView?.controls.addEventListener('change', markDirty);
  const frame = async (now) => {
    try {
      if (running && !driven && now - lastStep >= 0.9 * stepMs) {
        lastStep = now;
        await runtime.controlStep();
        frameTimes.push(performance.now());
        dirty = true;
      }
      if (dirty && !driven) {
        dirty = false;
        draw();
      }
    } catch (e) {
      running = false;
      showRunning(running);
      showError(`the control loop stopped: ${e.message}`);
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  bindControls({
    onRunToggle: () => {
      running = !running;
      showRunning(running);
    },
    onReset: () => {
      runtime.reset();
      markDirty();
    },
    onPush: () => {
      const { impulse, offset } = randomPush(task.physics.box_size);
      runtime.push(impulse, offset);
    },
    onSettings: (s) => {
      Object.assign(runtime.settings, s);
      markDirty();
    },
  });
  showRunning(running);

  // --- the test hook (used by tests/e2e): deterministic stepping off the animation loop ---
  window.orient = {
    info,
    task,
    pause() {
      running = false;
      showRunning(running);
    },
    start() {
      running = true;
      showRunning(running);
    },
    reset(seed) {
      runtime.reset(seed);
      draw();
      return runtime.state;
    },
    set(settings) {
      Object.assign(runtime.settings, settings);
      showSettings(runtime.settings);
      return { ...runtime.settings };
    },
    /** Run n control steps now (not tied to frames); stops early once success latches if asked. */
    async stepFrames(n, { stopOnSuccess = false } = {}) {
      driven = true;
      try {
        for (let i = 0; i < n; i++) {
          await runtime.controlStep();
          if (stopOnSuccess && runtime.episode.success.success) break;
        }
      } finally {
        driven = false;
      }
      draw();
      return runtime.state;
    },
    state: () => runtime.state,
    /** The inference camera's picture of orientation q, as a PNG data URL (what the CNN would get). */
    renderInference(q) {
      if (!inference) throw new Error('the object did not load');
      inference.capture(q);
      return inference.canvas.toDataURL('image/png');
    },
    /** The CNN's angular error (degrees) on n browser renders at uniformly random orientations. */
    async poseErrorsDeg(n, seed = 0) {
      if (!inference || !pose) throw new Error('the object or pose.onnx did not load');
      const rng = new Rng(seed);
      const errors = [];
      for (let i = 0; i < n; i++) {
        const q = randomUniform(rng);
        const predicted = await pose.predict(inference.capture(q));
        errors.push((geodesicAngle(predicted, q) * 180) / Math.PI);
      }
      return errors;
    },
    /** The same camera with one training image's lights, face colours and roughness (a fidelity check). */
    renderTrainingImage(q, imageParams) {
      if (!objectTemplate) throw new Error('the object did not load');
      const view = new InferenceView(task, objectTemplate);
      view.useTrainingImageParams(imageParams);
      view.capture(q);
      const url = view.canvas.toDataURL('image/png');
      view.renderer.dispose();
      view.renderer.forceContextLoss();
      return url;
    },
    fps,
    cnnErrorsDeg: () => [...runtime.errorsDeg],
    resetStats() {
      runtime.errorsDeg = [];
      runtime.captureMs = [];
      pose?.resetStats();
      policy?.resetStats();
      frameTimes.length = 0;
    },
  };
  window.orientReady = true;
}

boot().catch((e) => {
  showExecutionProvider('failed', 'error');
  showError(e.message);
  window.orientReady = true;
});
