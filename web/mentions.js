// @ts-check
// Mentions: the message box's `@` autocomplete (the people whose name
// starts with what follows the `@`, from `GET /user?q=`, in a listbox:
// Up and Down choose, Enter or Tab inserts `@Name `, Escape closes, a tap
// inserts too), and a message's `@name`s of the accounts it mentions,
// marked in its text (as text, never markup).

/** @import { Message, User } from './api.js' */
/** @import { Users } from './users.js' */

import { ApiError } from './api.js';
import { h } from './dom.js';
import { report } from './notice.js';

/** How many people the list offers. */
const SHOWN = 8;
/** How long typing pauses before the server is asked. */
const PAUSE_MS = 100;

export class Mentions {
  /**
   * Adds the list to `box`'s form; its keys are handled before the form's own.
   * @param {HTMLTextAreaElement} box
   * @param {Users} users
   * @param {number} longest the longest name there is
   */
  constructor(box, users, longest) {
    this.box = box;
    this.users = users;
    this.longest = longest;
    this.list = h('ul', { id: 'mention-list', className: 'mentions', role: 'listbox', 'aria-label': 'People to mention' });
    this.list.hidden = true;
    box.after(this.list);
    box.setAttribute('aria-autocomplete', 'list');
    box.setAttribute('aria-controls', this.list.id);
    /** @type {User[]} */
    this.found = [];
    this.active = 0;
    /** Where the `@` being completed is (-1: none). */
    this.at = -1;
    this.asked = 0;
    /** The last name inserted, not to be offered again: where, and as what. */
    this.inserted = { at: -1, text: '' };
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    box.addEventListener('input', () => this.typed());
    box.addEventListener('click', () => this.typed());
    box.addEventListener('blur', () => this.close());
    box.addEventListener('keydown', (event) => this.key(event));
    // A tap on an option keeps the focus (and the phone's keyboard) in the box.
    this.list.addEventListener('pointerdown', (event) => event.preventDefault());
    this.list.addEventListener('click', (event) => {
      const option = event.target instanceof Element ? event.target.closest('[role=option]') : null;
      const index = [...this.list.children].indexOf(/** @type {Element} */ (option));
      if (index >= 0) this.choose(index);
    });
  }

  get open() {
    return !this.list.hidden;
  }

  /** What the caret is after: `@` and the start of a name, or nothing. */
  typed() {
    clearTimeout(this.timer);
    const caret = this.box.selectionStart;
    const before = this.box.value.slice(0, caret);
    const at = before.lastIndexOf('@');
    const prefix = before.slice(at + 1);
    const starts = at === 0 || (at > 0 && /\s/.test(before[at - 1]));
    const inserted = at === this.inserted.at && this.box.value.startsWith(this.inserted.text, at);
    if (at < 0 || !starts || inserted || /^\s|\n/.test(prefix) || [...prefix].length > this.longest) {
      this.close();
      return;
    }
    this.at = at;
    this.timer = setTimeout(() => this.ask(prefix).catch(report), PAUSE_MS);
  }

  /** @param {string} prefix */
  async ask(prefix) {
    const asked = ++this.asked;
    /** @type {User[]} */
    let found;
    try {
      found = await this.users.search(prefix, SHOWN);
    } catch (failure) {
      // No list this time; typing on asks again.
      if (!(failure instanceof ApiError)) throw failure;
      found = [];
    }
    if (asked !== this.asked || this.at < 0) return;
    this.found = found;
    this.active = 0;
    this.render();
  }

  render() {
    if (!this.found.length) return this.close();
    this.list.replaceChildren(
      ...this.found.map((user, index) =>
        h('li', { id: `mention-${index}`, role: 'option', 'aria-selected': String(index === this.active) }, user.name),
      ),
    );
    this.list.hidden = false;
    this.box.setAttribute('aria-activedescendant', `mention-${this.active}`);
    this.list.children[this.active]?.scrollIntoView({ block: 'nearest' });
  }

  close() {
    clearTimeout(this.timer);
    this.asked += 1;
    this.at = -1;
    this.found = [];
    this.list.hidden = true;
    this.list.replaceChildren();
    this.box.removeAttribute('aria-activedescendant');
  }

  /** @param {KeyboardEvent} event */
  key(event) {
    if (!this.open || event.isComposing) return;
    const count = this.found.length;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      this.active = (this.active + (event.key === 'ArrowDown' ? 1 : -1) + count) % count;
      this.render();
    } else if ((event.key === 'Enter' && !event.shiftKey) || event.key === 'Tab') {
      this.choose(this.active);
    } else if (event.key === 'Escape') {
      this.close();
    } else {
      return;
    }
    // Not the form's: Enter inserts a name here, it does not send.
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  /**
   * Puts `@Name ` in place of the `@` and what follows it up to the caret.
   * @param {number} index
   */
  choose(index) {
    const user = this.found[index];
    const at = this.at;
    if (!user || at < 0) return;
    const text = `@${user.name} `;
    const value = this.box.value;
    const caret = this.box.selectionStart;
    this.box.value = value.slice(0, at) + text + value.slice(caret);
    this.box.setSelectionRange(at + text.length, at + text.length);
    this.inserted = { at, text };
    this.close();
    this.box.focus();
    // Heard as typing (and not taken for a new `@`).
    this.box.dispatchEvent(new Event('input'));
  }
}

/**
 * What names are compared by: no case, no diacritics (as the server
 * compares them).
 * @param {string} text
 */
const key = (text) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * A message's text, with each `@name` of an account it mentions as a
 * `.mention` mark (`.you` too, for this account); the longest name that
 * fits wins.
 * @param {Message} message
 * @param {(id: string) => string} names
 * @param {string} me this account's id
 * @returns {(Node | string)[]}
 */
export function marked(message, names, me) {
  const content = message.content;
  const mentioned = (message.mentions ?? [])
    .map((id) => ({ id, name: names(id) }))
    .sort((a, b) => b.name.length - a.name.length);
  if (!mentioned.length) return [content];
  /** @type {(Node | string)[]} */
  const parts = [];
  let from = 0;
  for (let at = content.indexOf('@'); at >= 0; at = content.indexOf('@', at + 1)) {
    if (at < from) continue;
    const who = mentioned.find(({ name }) => key(content.slice(at + 1, at + 1 + name.length)) === key(name));
    if (!who) continue;
    const end = at + 1 + who.name.length;
    parts.push(content.slice(from, at));
    parts.push(h('span', { className: who.id === me ? 'mention you' : 'mention' }, content.slice(at, end)));
    from = end;
  }
  parts.push(content.slice(from));
  return parts.filter((part) => part !== '');
}
