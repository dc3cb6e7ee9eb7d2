// The page: load task.json, the object and both models (app/load.js, showing any
// failure), build the views (app/views.js), and run camera -> CNN -> policy -> physics
// once per animation frame (app/runtime.js, app/loop.js). The end-to-end tests drive it
// through window.orient (app/testHook.js).
// URL options: ?ep=auto|webgpu|wasm  ?interval=auto|N  ?seed=N  ?paused=1  ?obs=vision|truth  ?lite=auto|1|0

import { loadAll } from './app/load.js';
import { AnimationLoop } from './app/loop.js';
import { Runtime } from './app/runtime.js';
import { installTestHook } from './app/testHook.js';
import { makeInferenceView, makeViews } from './app/views.js';
import { bindControls, showExecutionProvider, showRunning, showSettings, updateReadouts } from './ui/panel.js';
import { showError } from './ui/errors.js';
import { randomPush } from './ui/push.js';

const params = new URLSearchParams(location.search);

async function boot() {
  const { task, objectTemplate, pose, policy, info, providers } = await loadAll(params.get('ep') ?? 'auto');
  showExecutionProvider(providers.label, providers.kind);

  const inference = makeInferenceView(task, objectTemplate);
  const runtime = new Runtime({ task, inference, pose, policy });
  runtime.settings.vision = params.get('obs') !== 'truth';
  const interval = params.get('interval') ?? 'auto';
  runtime.settings.cnnInterval = interval === 'auto' ? 'auto' : Math.max(1, Number(interval) | 0);
  showSettings(runtime.settings);
  runtime.reset(params.has('seed') ? Number(params.get('seed')) : undefined);

  const views = makeViews(task, objectTemplate, runtime, { 1: true, 0: false }[params.get('lite')] ?? 'auto');
  info.liteView = views.main?.lite ?? null;
  const loop = new AnimationLoop(runtime, {
    draw: () => {
      views.draw();
      updateReadouts(runtime.state, loop.fps(), runtime);
    },
    stepMs: 1000 * task.derived.control_dt,
    onRunning: showRunning,
  });
  views.main?.controls.addEventListener('change', () => loop.markDirty());

  bindControls({
    onRunToggle: () => loop.setRunning(!loop.running),
    onReset: () => {
      runtime.reset();
      loop.markDirty();
    },
    onPush: () => {
      const { impulse, offset } = randomPush(task.physics.box_size);
      runtime.push(impulse, offset);
    },
    onSettings: (s) => {
      Object.assign(runtime.settings, s);
      loop.markDirty();
    },
  });
  loop.setRunning(params.get('paused') !== '1');
  loop.start();

  installTestHook({ info, task, runtime, loop, inference, pose, policy, objectTemplate });
  window.orientReady = true;
}

boot().catch((e) => {
  showExecutionProvider('failed', 'error');
  showError(e.message);
  window.orientReady = true;
});
