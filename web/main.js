// The web client's entry: signs in, then hands the page to a Chat. Leaving
// (log out, or a session the server no longer takes) reloads the page, so
// nothing of one session (drafts, timers, requests in flight) reaches the
// next.

import { get, session } from './api.js';
import { Chat } from './chat.js';
import { byId } from './dom.js';
import { signIn } from './signin.js';

const ENDED = 'Your session has ended; please log in again.';
const WHY = 'azuma.why';

/** Back to the sign-in view, with a word on why. */
function leave(why) {
  session.set(null);
  sessionStorage.setItem(WHY, why);
  location.replace('/app/');
}

session.onExpired(() => leave(ENDED));

let chat = null;

async function start() {
  if (chat) return;
  if (!session.token) return signIn(takeWhy(), start);
  let me;
  try {
    me = await get('/user/self');
  } catch (failure) {
    if (failure.status !== 401) signIn(failure.message, start);
    return;
  }
  if (chat) return;
  byId('signin').hidden = true;
  byId('chat').hidden = false;
  chat = new Chat(me, leave, ENDED);
}

function takeWhy() {
  const why = sessionStorage.getItem(WHY) ?? '';
  sessionStorage.removeItem(WHY);
  return why;
}

start();
performance.mark('azuma-interactive');
