// @ts-check
// The sign-in view: log in or register with a name and a password. An
// invitation's link (`/app/#invite=<code>`) opens it ready to register,
// with the code filled in.

import { ApiError, post, session } from './api.js';
import { find } from './dom.js';

/**
 * What a failed sign-in means to the person trying.
 * @type {Record<'login' | 'register', Record<number, string>>}
 */
const WORDS = {
  login: { 404: 'There is no account with that name.', 403: 'Wrong password.' },
  register: { 409: 'That name is taken.' },
};

/** Why an invitation is refused: the server tells no more than that. */
const BAD_INVITE = 'This invitation cannot be used: it is unknown, used or expired.';

export class SignIn {
  /** @param {HTMLElement} view the view, with its form */
  constructor(view) {
    this.view = view;
    this.form = find(view, 'form', HTMLFormElement);
    this.name = find(view, '[name=name]', HTMLInputElement);
    this.password = find(view, '[name=password]', HTMLInputElement);
    this.error = find(view, '.error', HTMLElement);
    this.invite = find(view, '[name=invite]', HTMLInputElement);
    this.invited = find(view, '#signin-invited', HTMLElement);
    this.registerButton = find(view, 'button[value=register]', HTMLButtonElement);
    this.loginButton = find(view, 'button[value=login]', HTMLButtonElement);
    /** @type {() => unknown} */
    this.signedIn = () => {};
    this.form.addEventListener('submit', (event) => this.submit(event));
    window.addEventListener('hashchange', () => {
      if (!this.view.hidden) this.readInvite();
    });
  }

  /**
   * An invitation's link: the code filled in, and Register first (the
   * button Enter presses).
   */
  readInvite() {
    const code = new URLSearchParams(location.hash.slice(1)).get('invite');
    const invited = Boolean(code);
    if (code) this.invite.value = code;
    this.invited.hidden = !invited;
    find(this.view, '#signin-code-field', HTMLElement).hidden = !invited;
    this.password.autocomplete = invited ? 'new-password' : 'current-password';
    this.registerButton.classList.toggle('secondary', !invited);
    this.loginButton.classList.toggle('secondary', invited);
    const row = this.registerButton.parentElement;
    if (row) row.prepend(invited ? this.registerButton : this.loginButton);
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
      /** @type {Record<string, string>} */
      const body = { name: this.name.value, password: this.password.value };
      const invite = this.invite.value.trim();
      if (how === 'register' && invite && !this.invited.hidden) body.invite = invite;
      const { token } = await post(`/user/${how}`, body);
      this.password.value = '';
      session.set(token);
      // The invitation is used: its link is no longer the page's address.
      if (body.invite) history.replaceState(null, '', location.pathname);
      this.signedIn();
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      this.error.textContent = WORDS[how][failure.status] ?? failure.message;
      // Registering refused: closed, or by invitation only (the server's
      // words say which), or this invitation no good.
      if (how === 'register' && failure.status === 403) {
        this.error.textContent = this.invited.hidden ? `No new accounts: ${failure.message}.` : BAD_INVITE;
      }
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
    this.readInvite();
    this.error.textContent = why;
    this.view.hidden = false;
    this.name.focus();
  }

  hide() {
    this.view.hidden = true;
  }
}
