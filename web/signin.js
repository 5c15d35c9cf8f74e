// @ts-check
// The sign-in view: log in or register with a name and a password.

import { ApiError, post, session } from './api.js';
import { find } from './dom.js';

/**
 * What a failed sign-in means to the person trying.
 * @type {Record<'login' | 'register', Record<number, string>>}
 */
const WORDS = {
  login: { 404: 'There is no account with that name.', 403: 'Wrong password.' },
  register: { 409: 'That name is taken.', 403: 'This server does not take new accounts.' },
};

export class SignIn {
  /** @param {HTMLElement} view the view, with its form */
  constructor(view) {
    this.view = view;
    this.form = find(view, 'form', HTMLFormElement);
    this.name = find(view, '[name=name]', HTMLInputElement);
    this.password = find(view, '[name=password]', HTMLInputElement);
    this.error = find(view, '.error', HTMLElement);
    /** @type {() => unknown} */
    this.signedIn = () => {};
    this.form.addEventListener('submit', (event) => this.submit(event));
  }

  /** @param {SubmitEvent} event */
  async submit(event) {
    event.preventDefault();
    const form = this.form;
    if (form.getAttribute('aria-busy')) return;
    const how = event.submitter instanceof HTMLButtonElement && event.submitter.value === 'register' ? 'register' : 'login';
    this.error.textContent = '';
    form.setAttribute('aria-busy', 'true');
    try {
      const { token } = await post(`/user/${how}`, { name: this.name.value, password: this.password.value });
      this.password.value = '';
      session.set(token);
      this.signedIn();
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      this.error.textContent = WORDS[how][failure.status] ?? failure.message;
    } finally {
      form.removeAttribute('aria-busy');
    }
  }

  /**
   * Shows the view with `why` (if any); `then` runs once signed in.
   * @param {string} why
   * @param {() => unknown} then
   */
  show(why, then) {
    this.signedIn = then;
    this.error.textContent = why;
    this.view.hidden = false;
    this.name.focus();
  }

  hide() {
    this.view.hidden = true;
  }
}
