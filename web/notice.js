// @ts-check
// The one place for trouble that no part of the page shows itself: each
// error is logged to the console, whole, and the person is told that
// something went wrong and offered a reload, without being stopped from
// going on. Errors come here through `report`, or by being thrown and not
// caught: a listener's error, a promise nobody waited for.

import { ApiError } from './api.js';
import { h } from './dom.js';

/** @type {HTMLElement | null} */
let notice = null;
/**
 * Where the focus was before it moved into the notice, to go back to when
 * the notice goes.
 * @type {EventTarget | null}
 */
let before = null;

/**
 * Logs `error` and shows the notice (or its new words, if it is up).
 * @param {unknown} error
 */
export function report(error) {
  console.error(error);
  // A session the server no longer takes brings back the sign-in view.
  if (error instanceof ApiError && error.status === 401) return;
  // The server's words are for people; a script's error is for the console.
  const words = `Something went wrong${error instanceof ApiError ? `: ${error.message}` : '.'} Reloading the page may help.`;
  if (notice) {
    notice.firstChild?.replaceWith(h('p', {}, words));
    return;
  }
  notice = h(
    'div',
    { className: 'notice', role: 'alert' },
    h('p', {}, words),
    h('button', { type: 'button', onclick: () => location.reload() }, 'Reload'),
    h('button', { type: 'button', className: 'secondary', onclick: dismiss }, 'Dismiss'),
  );
  notice.addEventListener('focusin', (event) => {
    if (!notice?.contains(/** @type {Node | null} */ (event.relatedTarget))) before = event.relatedTarget;
  });
  document.body.append(notice);
}

function dismiss() {
  notice?.remove();
  notice = null;
  if (before instanceof HTMLElement && before.isConnected) before.focus();
  before = null;
}

addEventListener('error', (event) => report(event.error ?? event.message));
addEventListener('unhandledrejection', (event) => report(event.reason));
