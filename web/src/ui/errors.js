// Errors and notices on the page. An error is also logged with console.error, so the
// end-to-end test (which fails on any console error) cannot miss one.

const box = () => document.getElementById('errors');

/** Every error shown so far (the test hook exposes it). */
export const shownErrors = [];

export function showError(message) {
  const div = document.createElement('div');
  div.className = 'error';
  div.textContent = message;
  box().append(div);
  shownErrors.push(message);
  console.error(message);
}

export function showNotice(message) {
  const div = document.createElement('div');
  div.className = 'notice';
  div.textContent = message;
  box().append(div);
}
