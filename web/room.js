// The open channel's messages: the newest page on open, older pages as the
// log scrolls up, live messages, edits and deletions, the catch-up after a
// reconnect, and the read marker moved as messages come into view.

import { get, post } from './api.js';
import { byId, on } from './dom.js';
import { render } from './message.js';

const PAGE = 50;
const CATCH_UP = 100;
/** How close to an end of the log counts as there, in pixels. */
const NEAR = 48;

export class Room {
  constructor(users, me) {
    this.users = users;
    this.me = me;
    this.log = byId('log');
    this.channel = null;
    this.messages = [];
    on(this.log, 'scroll', () => this.scrolled(), { passive: true });
    on(document, 'visibilitychange', () => this.seen());
    on(window, 'focus', () => this.seen());
  }

  /** Opens `channel` at its newest messages, or around message `at`. */
  async open(channel, at) {
    this.channel = channel;
    this.messages = [];
    this.ids = new Set();
    this.marked = null;
    // Live messages that arrive while the page loads wait for it.
    this.atNewest = false;
    this.waiting = [];
    this.log.replaceChildren();
    const id = channel.id;
    const base = `/channel/${id}/messages`;
    let found = null;
    let older;
    let newer = [];
    if (at) {
      [older, found, newer] = await Promise.all([
        get(`${base}?before=${at}&limit=${PAGE / 2}`),
        get(`/message/${at}`),
        get(`${base}?after=${at}&limit=${PAGE / 2}`),
      ]);
      this.hasOlder = older.length === PAGE / 2;
      this.atNewest = newer.length < PAGE / 2;
    } else {
      older = await get(`${base}?limit=${PAGE}`);
      this.hasOlder = older.length === PAGE;
    }
    if (this.channel?.id !== id) return;
    await this.place([...older, ...(found ? [found] : []), ...newer], 'end');
    if (!at) this.atNewest = true;
    if (this.atNewest) await this.place(this.waiting, 'end');
    this.waiting = null;
    const target = found && this.element(found.id);
    if (target) {
      target.classList.add('found');
      target.scrollIntoView({ block: 'center' });
      target.focus({ preventScroll: true });
    } else {
      this.toBottom();
    }
    this.seen();
  }

  close() {
    this.channel = null;
    this.messages = [];
    this.ids = new Set();
    this.log.replaceChildren();
  }

  element(id) {
    return this.log.querySelector(`[data-id="${CSS.escape(id)}"]`);
  }

  /** Draws `page` at one end of the log (authors' names fetched first). */
  async place(page, end) {
    const id = this.channel?.id;
    await this.users.load(page.map((message) => message.author));
    if (this.channel?.id !== id) return;
    const fresh = page.filter((message) => !this.ids.has(message.id));
    for (const message of fresh) this.ids.add(message.id);
    const elements = fresh.map((message) => this.draw(message));
    if (end === 'start') {
      this.messages.unshift(...fresh);
      this.log.prepend(...elements);
    } else {
      this.messages.push(...fresh);
      this.log.append(...elements);
    }
  }

  draw(message) {
    const mine = message.author === this.me.id;
    const owner = this.channel.owner === this.me.id;
    return render(message, { edit: mine, delete: mine || owner }, (id) => this.users.name(id));
  }

  nearBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < NEAR;
  }

  toBottom() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  scrolled() {
    if (this.log.scrollTop < NEAR) this.older();
    if (this.nearBottom()) {
      if (this.atNewest) this.seen();
      else this.newer();
    }
  }

  /** The page before the first message shown, keeping the view still. */
  async older() {
    if (!this.hasOlder || this.loading || !this.messages.length) return;
    this.loading = true;
    try {
      const first = this.messages[0].id;
      const page = await get(`/channel/${this.channel.id}/messages?before=${first}&limit=${PAGE}`);
      this.hasOlder = page.length === PAGE;
      const fromBottom = this.log.scrollHeight - this.log.scrollTop;
      await this.place(page, 'start');
      this.log.scrollTop = this.log.scrollHeight - fromBottom;
    } finally {
      this.loading = false;
    }
  }

  /** The next page after the last message shown (after a search's jump). */
  async newer() {
    if (this.atNewest || this.loading || !this.messages.length) return;
    this.loading = true;
    try {
      const last = this.messages[this.messages.length - 1].id;
      const page = await get(`/channel/${this.channel.id}/messages?after=${last}&limit=${PAGE}`);
      this.atNewest = page.length < PAGE;
      await this.place(page, 'end');
    } finally {
      this.loading = false;
    }
  }

  /** After a reconnect: every message sent meanwhile, once each. */
  async catchUp() {
    if (!this.channel || !this.atNewest) return;
    if (!this.messages.length) return this.open(this.channel);
    const stick = this.nearBottom();
    for (;;) {
      const last = this.messages[this.messages.length - 1].id;
      const page = await get(`/channel/${this.channel.id}/messages?after=${last}&limit=${CATCH_UP}`);
      await this.place(page, 'end');
      if (page.length < CATCH_UP) break;
    }
    if (stick) this.toBottom();
    this.seen();
  }

  /** A live message; returns whether the reader sees it now. */
  async add(message) {
    if (message.channel !== this.channel?.id) return false;
    if (!this.atNewest) {
      if (this.waiting) this.waiting.push(message);
      return false;
    }
    const stick = this.nearBottom();
    await this.place([message], 'end');
    if (stick) this.toBottom();
    this.seen();
    return stick && document.visibilityState === 'visible';
  }

  update(message) {
    const index = this.messages.findIndex((m) => m.id === message.id);
    const element = this.element(message.id);
    if (index < 0 || !element) return;
    this.messages[index] = message;
    const editing = element.contains(document.activeElement) && element.querySelector('form');
    element.replaceWith(this.draw(message));
    if (editing) this.element(message.id)?.querySelector('.actions button')?.focus();
  }

  removed(id) {
    this.messages = this.messages.filter((m) => m.id !== id);
    this.element(id)?.remove();
  }

  /** Moves the read marker to the newest message, once it is in view. */
  seen() {
    if (!this.channel || !this.atNewest || !this.messages.length) return;
    if (document.visibilityState !== 'visible' || !this.nearBottom()) return;
    const newest = this.messages[this.messages.length - 1].id;
    if (newest === this.marked) return;
    this.marked = newest;
    post(`/channel/${this.channel.id}/read`, { message: newest }).catch(() => {
      this.marked = null;
    });
  }
}

