// @ts-check
// The web client's entry: signs in, then hands the page to a Chat. Leaving
// (log out, or a session the server no longer takes) reloads the page, so
// nothing of one session (drafts, timers, requests in flight) reaches the
// next. The page's two views are handed to the parts that own them.
// Importing notify.js registers the service worker, on every load.

import { report } from './notice.js';
import { ApiError, get, session } from './api.js';
import { Chat } from './chat.js';
import { find } from './dom.js';
import { limits } from './limits.js';
import { forget } from './notify.js';
import { SignIn } from './signin.js';

const ENDED = 'Your session has ended; please log in again.';
const WHY = 'azuma.why';

const signIn = new SignIn(find(document, '#signin', HTMLElement));
const chatView = find(document, '#chat', HTMLElement);

/**
 * Back to the sign-in view, with a word on why.
 * @param {string} why
 */
function leave(why) {
  session.set(null);
  forget();
  sessionStorage.setItem(WHY, why);
  location.replace('/app/');
}

session.onExpired(() => leave(ENDED));

/** @type {Chat | null} */
let chat = null;

async function start() {
  if (chat) return;
  if (!session.token) return signIn.show(takeWhy(), begin);
  let me;
  let known;
  try {
    [me, known] = await Promise.all([get('/user/self'), limits()]);
  } catch (failure) {
    if (!(failure instanceof ApiError)) throw failure;
    if (failure.status !== 401) signIn.show(failure.message, begin);
    return;
  }
  if (chat) return;
  signIn.hide();
  chat = new Chat(chatView, me, known, leave, ENDED);
}

function begin() {
  start().catch(report);
}

function takeWhy() {
  const why = sessionStorage.getItem(WHY) ?? '';
  sessionStorage.removeItem(WHY);
  return why;
}

begin();
performance.mark('azuma-interactive');
