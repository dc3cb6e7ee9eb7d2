// The side panel: buttons and selectors in, readouts out. Every figure goes through
// format.js: no measurement (null, 0, Infinity, NaN) shows as '–'.

import { formatDeg as deg, formatFps, formatMs as ms, formatSigned, NO_FIGURE } from './format.js';

const $ = (id) => document.getElementById(id);

export function bindControls({ onRunToggle, onReset, onPush, onSettings }) {
  $('btn-run').addEventListener('click', onRunToggle);
  $('btn-reset').addEventListener('click', onReset);
  $('btn-push').addEventListener('click', onPush);
  const settings = () => {
    const interval = $('sel-interval').value;
    onSettings({
      rl: $('chk-rl').checked,
      vision: $('sel-obs').value === 'vision',
      cnnInterval: interval === 'auto' ? 'auto' : Number(interval),
    });
  };
  for (const id of ['chk-rl', 'sel-obs', 'sel-interval']) $(id).addEventListener('change', settings);
}

/** Mirror settings changed elsewhere (URL, test hook) into the controls. */
export function showSettings(s) {
  $('chk-rl').checked = s.rl;
  $('sel-obs').value = s.vision ? 'vision' : 'truth';
  $('sel-interval').value = String(s.cnnInterval);
}

export function showRunning(running) {
  $('btn-run').textContent = running ? 'Pause' : 'Start';
}

export function showExecutionProvider(label, kind) {
  $('ep-badge').textContent = label;
  $('ep-badge').className = `badge ${kind}`;
  $('ro-ep').textContent = label;
}

export function updateReadouts(state, fps, runtime) {
  $('hud-fps').textContent = formatFps(fps, 0);
  $('ro-fps').textContent = formatFps(fps, 1);
  $('hud-tilt').textContent = deg(state.tiltDeg);
  $('ro-tilt').textContent = deg(state.tiltDeg);
  const status = $('hud-status');
  if (state.blocked) {
    status.textContent = `stopped: ${state.blocked}`;
    status.className = '';
  } else if (state.success) {
    status.textContent = `upright and still after ${state.successTime.toFixed(2)} s`;
    status.className = 'ok';
  } else {
    status.textContent = state.steps >= runtime.task.derived.episode_steps ? 'not upright within 5 s' : 'turning…';
    status.className = '';
  }
  $('ro-episode').textContent = `${state.simTime.toFixed(2)} s${state.success ? ' ✓' : ''}`;
  $('ro-pose').textContent = runtime.settings.vision ? `${ms(state.poseMs)} (median ${ms(state.poseMedianMs)})` : 'off (ground truth)';
  $('ro-capture').textContent = runtime.settings.vision ? `median ${ms(state.captureMedianMs)}` : NO_FIGURE;
  $('ro-policy').textContent = runtime.settings.rl ? `${ms(state.policyMs)} (median ${ms(state.policyMedianMs)})` : 'off';
  $('ro-cnn').textContent = `${deg(state.observedErrorDeg)} / ${deg(state.cnnMedianErrorDeg)}`;
  $('ro-interval').textContent = runtime.settings.vision ? `${state.cnnInterval} frame${state.cnnInterval > 1 ? 's' : ''}` : NO_FIGURE;
  $('ro-action').textContent = state.action.map((a) => formatSigned(a)).join(', ');
}
