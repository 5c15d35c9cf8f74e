// @ts-check
// The open channel's messages: the newest page on open, older pages as the
// log scrolls up, live messages, edits and deletions, the catch-up after a
// reconnect, and the read marker moved as messages come into view.

/** @import { Channel, Message, User } from './api.js' */
/** @import { Limits } from './limits.js' */
/** @import { Users } from './users.js' */

import { ApiError, get, post } from './api.js';
import { render } from './message.js';
import { report } from './notice.js';

const PAGE = 50;
/** How close to an end of the log counts as there, in pixels. */
const NEAR = 48;
/** How often a message is fetched again for fresh links, at most. */
const REFRESH_MS = 60 * 60 * 1000;

export class Room {
  /**
   * @param {HTMLElement} log where the messages go
   * @param {Users} users
   * @param {User} me
   * @param {Limits} limits
   */
  constructor(log, users, me, limits) {
    this.users = users;
    this.me = me;
    this.log = log;
    this.limits = limits;
    // A catch-up asks for as many messages at a time as the server gives.
    this.catchUpPage = limits.page;
    /** @type {Channel | null} */
    this.channel = null;
    /** @type {Message[]} */
    this.messages = [];
    /** @type {Set<string>} */
    this.ids = new Set();
    /** @type {Message[] | null} */
    this.waiting = null;
    this.atNewest = false;
    this.hasOlder = false;
    this.loading = false;
    /** @type {string | null} */
    this.marked = null;
    /**
     * When each message was last fetched again for fresh links.
     * @type {Map<string, number>}
     */
    this.refreshed = new Map();
    this.close();
    this.log.addEventListener('scroll', () => this.scrolled(), { passive: true });
    this.log.addEventListener('keydown', (event) => this.key(event));
    document.addEventListener('visibilitychange', () => this.seen());
    window.addEventListener('focus', () => this.seen());
  }

  close() {
    this.channel = null;
    this.messages = [];
    // Every id ever placed, deleted ones too: a page fetched before a
    // deletion cannot bring the message back.
    this.ids = new Set();
    // Live messages that arrive while a page loads wait for it (null: none loads).
    this.waiting = null;
    this.atNewest = false;
    this.hasOlder = false;
    this.loading = false;
    this.marked = null;
    this.log.removeAttribute('aria-busy');
    this.log.replaceChildren();
  }

  /**
   * Opens `channel` at its newest messages, or around message `at`;
   * resolves to whether it did (another open may have overtaken it).
   * @param {Channel} channel
   * @param {string} [at]
   * @returns {Promise<boolean>}
   */
  async open(channel, at) {
    this.close();
    this.channel = channel;
    this.waiting = [];
    this.log.setAttribute('aria-busy', 'true');
    const base = `/channel/${channel.id}/messages`;
    /** @type {Message[]} */
    let page;
    /** @type {Message | null} */
    let found = null;
    try {
      if (at) {
        const [older, message, newer] = await Promise.all([
          get(`${base}?before=${at}&limit=${PAGE / 2}`),
          get(`/message/${at}`),
          get(`${base}?after=${at}&limit=${PAGE / 2}`),
        ]);
        page = [...older, message, ...newer];
        found = message;
        this.hasOlder = older.length === PAGE / 2;
        this.atNewest = newer.length < PAGE / 2;
      } else {
        page = await get(`${base}?limit=${PAGE}`);
        this.hasOlder = page.length === PAGE;
        this.atNewest = true;
      }
    } catch (failure) {
      // A found message deleted since: the channel's newest instead.
      if (at && this.channel === channel) return this.open(channel);
      if (this.channel === channel) this.close();
      throw failure;
    }
    if (this.channel !== channel) return false;
    await this.place(channel, page, 'end');
    await this.release(channel);
    if (this.channel !== channel) return false;
    this.log.removeAttribute('aria-busy');
    const target = found && this.element(found.id);
    if (target) {
      target.classList.add('found');
      target.scrollIntoView({ block: 'center' });
      target.focus({ preventScroll: true });
    } else {
      this.toBottom();
    }
    this.seen();
    return true;
  }

  /**
   * Places the live messages that waited, if the log reaches the newest.
   * @param {Channel} channel
   */
  async release(channel) {
    const waiting = this.waiting ?? [];
    this.waiting = null;
    if (this.atNewest && this.channel === channel) await this.place(channel, waiting, 'end');
  }

  /**
   * @param {string} id
   * @returns {HTMLElement | null}
   */
  element(id) {
    return this.log.querySelector(`[data-id="${CSS.escape(id)}"]`);
  }

  /**
   * Draws `page` of `channel` at one end of the log (authors' names fetched first).
   * @param {Channel} channel
   * @param {Message[]} page
   * @param {'start' | 'end'} end
   */
  async place(channel, page, end) {
    // Authors, and the people mentioned (their `@name`s are marked).
    await this.users.load(page.flatMap((message) => [message.author, ...(message.mentions ?? [])]));
    if (this.channel !== channel) return;
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

  /** @param {Message} message */
  draw(message) {
    const mine = message.author === this.me.id;
    return render(message, {
      edit: mine,
      // The owner moderates a channel, but no one a direct conversation.
      delete: mine || (this.channel?.owner === this.me.id && this.channel.kind !== 'direct'),
      maxLength: this.limits.content,
      names: (id) => this.users.name(id),
      me: this.me.id,
      saved: (updated) => this.update(updated),
      deleted: (id) => this.removed(id),
      stale: () => this.refresh(message.id),
    });
  }

  /**
   * A link of message `id`'s files failed to load: its signed links may
   * have expired (403), so the message is fetched again for fresh ones,
   * once (an hour) per message, and redrawn.
   * @param {string} id
   */
  async refresh(id) {
    const last = this.refreshed.get(id);
    if (last !== undefined && Date.now() - last < REFRESH_MS) return;
    this.refreshed.set(id, Date.now());
    try {
      this.update(await get(`/message/${id}`));
    } catch (failure) {
      // Deleted meanwhile: its MessageDeleted takes it away.
      if (failure instanceof ApiError && failure.status === 404) return;
      report(failure);
    }
  }

  /** The log shown, or not (search results in its place). */
  /** @param {boolean} shown */
  show(shown) {
    this.log.hidden = !shown;
    if (shown) this.seen();
  }

  focus() {
    this.log.focus();
  }

  /** Whether the reader can see the newest end of the log. */
  nearBottom() {
    if (this.log.hidden) return false;
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

  /**
   * Loads a page with `fetch` unless one is loading; then `done(page)`.
   * @param {() => Promise<Message[]>} fetch
   * @param {(channel: Channel, page: Message[]) => Promise<void>} done
   */
  async page(fetch, done) {
    const channel = this.channel;
    if (!channel || this.loading || !this.messages.length) return;
    this.loading = true;
    this.log.setAttribute('aria-busy', 'true');
    try {
      const page = await fetch();
      if (this.channel === channel) await done(channel, page);
    } finally {
      if (this.channel === channel) {
        this.loading = false;
        this.log.removeAttribute('aria-busy');
      }
    }
  }

  /** The page before the first message shown, keeping the view still. */
  older() {
    if (!this.hasOlder) return;
    const first = this.messages[0]?.id;
    return this.page(
      () => get(`/channel/${this.channel?.id}/messages?before=${first}&limit=${PAGE}`),
      async (channel, page) => {
        this.hasOlder = page.length === PAGE;
        const fromBottom = this.log.scrollHeight - this.log.scrollTop;
        await this.place(channel, page, 'start');
        this.log.scrollTop = this.log.scrollHeight - fromBottom;
      },
    );
  }

  /** The next page after the last message shown (after a search's jump). */
  newer() {
    if (this.atNewest) return;
    const last = this.messages[this.messages.length - 1]?.id;
    this.waiting = [];
    return this.page(
      () => get(`/channel/${this.channel?.id}/messages?after=${last}&limit=${PAGE}`),
      async (channel, page) => {
        this.atNewest = page.length < PAGE;
        await this.place(channel, page, 'end');
        await this.release(channel);
      },
    );
  }

  /**
   * After a reconnect: every message sent meanwhile, once each, and the
   * edits and deletions of the newest page.
   */
  async catchUp() {
    const channel = this.channel;
    if (!channel) return;
    if (!this.atNewest || !this.messages.length) return this.open(channel);
    const stick = this.nearBottom();
    for (;;) {
      const last = this.messages[this.messages.length - 1].id;
      const page = await get(`/channel/${channel.id}/messages?after=${last}&limit=${this.catchUpPage}`);
      if (this.channel !== channel) return;
      await this.place(channel, page, 'end');
      if (page.length < this.catchUpPage) break;
    }
    /** @type {Message[]} */
    const newest = await get(`/channel/${channel.id}/messages?limit=${PAGE}`);
    if (this.channel !== channel || !newest.length) return;
    const current = new Map(newest.map((message) => [message.id, message]));
    const from = this.messages.findIndex((message) => message.id === newest[0].id);
    for (const message of this.messages.slice(Math.max(from, 0))) {
      const now = current.get(message.id);
      if (!now) this.removed(message.id);
      else if (now.edited_at !== message.edited_at) this.update(now);
    }
    if (stick) this.toBottom();
    this.seen();
  }

  /**
   * A live message; returns whether the reader sees it now.
   * @param {Message} message
   */
  async add(message) {
    const channel = this.channel;
    if (message.channel !== channel?.id) return false;
    if (this.waiting) {
      this.waiting.push(message);
      return false;
    }
    if (!this.atNewest) return false;
    const stick = this.nearBottom();
    await this.place(channel, [message], 'end');
    if (stick) this.toBottom();
    this.seen();
    return stick && document.visibilityState === 'visible';
  }

  /** @param {Message} message */
  update(message) {
    const index = this.messages.findIndex((m) => m.id === message.id);
    const element = this.element(message.id);
    if (index < 0 || !element) return;
    const focused = element.contains(document.activeElement);
    this.messages[index] = message;
    const fresh = this.draw(message);
    element.replaceWith(fresh);
    if (focused) fresh.focus();
  }

  /**
   * A message gone; the focus, if it was on it, moves to its neighbour.
   * @param {string} id
   */
  removed(id) {
    const element = this.element(id);
    if (!element) return;
    const focused = element.contains(document.activeElement);
    const next = /** @type {HTMLElement | null} */ (element.nextElementSibling ?? element.previousElementSibling);
    this.messages = this.messages.filter((m) => m.id !== id);
    element.remove();
    if (focused) (next ?? this.log).focus();
  }

  /**
   * Up and Down (Home, End) move between messages; Tab then reaches a message's buttons.
   * @param {KeyboardEvent} event
   */
  key(event) {
    /** @type {Record<string, number>} */
    const moves = { ArrowUp: -1, ArrowDown: 1, Home: -Infinity, End: Infinity };
    const target = event.target;
    // A form and a player keep their own keys.
    if (!(event.key in moves) || !(target instanceof Element) || target.closest('form, audio, video')) return;
    /** @type {HTMLElement[]} */
    const all = [...this.log.querySelectorAll('.msg')].filter((element) => element instanceof HTMLElement);
    if (!all.length) return;
    event.preventDefault();
    const here = all.findIndex((element) => element.contains(target));
    const from = here < 0 ? all.length : here;
    all[Math.min(all.length - 1, Math.max(0, from + moves[event.key]))].focus();
  }

  /** Moves the read marker to the newest message, once it is in view. */
  seen() {
    if (!this.channel || !this.atNewest || this.waiting || !this.messages.length) return;
    if (document.visibilityState !== 'visible' || !this.nearBottom()) return;
    const newest = this.messages[this.messages.length - 1].id;
    if (newest === this.marked) return;
    this.marked = newest;
    post(`/channel/${this.channel.id}/read`, { message: newest }).catch((failure) => {
      // Not moved: the next look tries again.
      this.marked = null;
      report(failure);
    });
  }
}
