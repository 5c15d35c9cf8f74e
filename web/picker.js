// @ts-check
// The people picker: a search box that asks the server for the people
// whose name starts with what is typed (`GET /user?q=`), as it is typed,
// and a checkbox for each. The people chosen stay listed (first) while the
// search changes.

/** @import { User } from './api.js' */
/** @import { Users } from './users.js' */

import { ApiError } from './api.js';
import { h } from './dom.js';

/** How many people one search shows. */
const SHOWN = 20;
/** How long typing pauses before the server is asked. */
const PAUSE_MS = 150;

let made = 0;

export class Picker {
  /**
   * Fills `root` with the picker.
   * @param {HTMLElement} root
   * @param {string} label names the search box, such as "Find people"
   * @param {Users} users
   * @param {number} longest the longest name there is (and so search)
   * @param {() => Set<string>} left out: the people not to offer (oneself, members)
   * @param {number} most the most people that may be chosen (the server's limit)
   */
  constructor(root, label, users, longest, left, most) {
    this.users = users;
    this.left = left;
    this.most = most;
    made += 1;
    const id = `picker-${made}`;
    this.input = h('input', { id, type: 'search', autocomplete: 'off', maxlength: longest, spellcheck: 'false' });
    this.list = h('ul', { className: 'picks', 'aria-label': 'People found' });
    this.status = h('p', { className: 'picks-status', role: 'status' });
    this.error = h('p', { className: 'error', role: 'alert' });
    root.replaceChildren(h('label', { for: id }, label), this.input, this.list, this.status, this.error);
    /** @type {Map<string, User>} */
    this.chosen = new Map();
    /** @type {User[]} */
    this.found = [];
    this.asked = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.ask(), PAUSE_MS);
    });
    // Enter in the search box asks now, rather than submitting the form.
    this.input.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      clearTimeout(this.timer);
      this.ask();
    });
  }

  /** Empty again (nobody chosen), listing everyone from the start. */
  reset() {
    this.chosen.clear();
    this.input.value = '';
    this.found = [];
    this.list.replaceChildren();
    this.status.textContent = '';
    return this.ask();
  }

  focus() {
    this.input.focus();
  }

  /** The ids of the people chosen. */
  get ids() {
    return [...this.chosen.keys()];
  }

  /** Asks the server for the people the box names; the last answer asked for wins. */
  async ask() {
    const asked = ++this.asked;
    const prefix = this.input.value.trim();
    this.error.textContent = '';
    try {
      const found = await this.users.search(prefix, SHOWN);
      if (asked !== this.asked) return;
      this.found = found;
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      if (asked === this.asked) this.error.textContent = failure.message;
      return;
    }
    this.render();
  }

  render() {
    const left = this.left();
    const found = this.found.filter((user) => !left.has(user.id) && !this.chosen.has(user.id));
    const shown = [...this.chosen.values(), ...found];
    this.list.replaceChildren(...shown.map((user) => this.item(user)));
    this.full();
    if (!shown.length) this.status.textContent = 'No one found.';
  }

  /** At the most that may be chosen, the others cannot be, and it says so. */
  full() {
    const full = this.chosen.size >= this.most;
    for (const box of this.list.querySelectorAll('input')) {
      if (box instanceof HTMLInputElement) box.disabled = full && !box.checked;
    }
    this.status.textContent = full ? `At most ${this.most} people.` : '';
  }

  /** @param {User} user */
  item(user) {
    const box = h('input', { type: 'checkbox', value: user.id });
    box.checked = this.chosen.has(user.id);
    box.addEventListener('change', () => {
      if (box.checked) this.chosen.set(user.id, user);
      else this.chosen.delete(user.id);
      this.full();
    });
    return h('li', {}, h('label', {}, box, ' ', user.name));
  }
}
