// The page's three views of one runtime: the arena (drag the box to push it), the
// live-versus-predicted comparison, and what the CNN sees. Without the object there
// are no views; the error saying why is already on the page.

import { CompareView } from '../render/compareView.js';
import { InferenceView } from '../render/inferenceView.js';
import { MainView } from '../render/mainView.js';
import { showNotice } from '../ui/errors.js';
import { enableDragPush } from '../ui/push.js';

const LITE_NOTICE =
  "Software WebGL: the arena is drawn at half resolution, without antialiasing or shadows (?lite=0 to override). The CNN's view is unchanged.";

/** The inference camera (the CNN's input), or null without the object. */
export function makeInferenceView(task, objectTemplate) {
  return objectTemplate ? new InferenceView(task, objectTemplate, document.getElementById('inference')) : null;
}

/**
 * The arena and comparison views, wired to `runtime` (drag pushes the box). `lite`:
 * 'auto' | true | false, the ?lite= option. Returns { main, compare, draw }.
 */
export function makeViews(task, objectTemplate, runtime, lite) {
  if (!objectTemplate) return { main: null, compare: null, draw: () => {} };
  const main = new MainView(task, objectTemplate, document.getElementById('main-view'), { lite });
  const compare = new CompareView(task, objectTemplate, document.getElementById('compare'));
  enableDragPush(main, (impulse, offset) => runtime.push(impulse, offset));
  if (main.lite) showNotice(LITE_NOTICE);
  const draw = () => {
    const s = runtime.state;
    main.setPose(s.position, s.quat);
    main.render();
    compare.render(s.quat, runtime.settings.vision ? s.prediction : null);
  };
  return { main, compare, draw };
}
