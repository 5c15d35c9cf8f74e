// The sign-in view: log in or register with a name and a password.

import { post, session } from './api.js';
import { byId } from './dom.js';

/** What a failed sign-in means to the person trying. */
const WORDS = {
  login: { 404: 'There is no account with that name.', 403: 'Wrong password.' },
  register: { 409: 'That name is taken.', 403: 'This server does not take new accounts.' },
};

let signedIn = () => {};
const form = byId('signin-form');
const error = byId('signin-error');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (form.getAttribute('aria-busy')) return;
  const how = event.submitter?.value === 'register' ? 'register' : 'login';
  const name = byId('signin-name').value;
  const password = byId('signin-password');
  error.textContent = '';
  form.setAttribute('aria-busy', 'true');
  try {
    const { token } = await post(`/user/${how}`, { name, password: password.value });
    password.value = '';
    session.set(token);
    signedIn();
  } catch (failure) {
    error.textContent = WORDS[how][failure.status] ?? failure.message;
  } finally {
    form.removeAttribute('aria-busy');
  }
});

/** Shows the view with `why` (if any); `then` runs once signed in. */
export function signIn(why, then) {
  signedIn = then;
  error.textContent = why;
  byId('signin').hidden = false;
  byId('signin-name').focus();
}
