// @ts-check
// The channel list: live as channels come and go, each with its unread
// count, and the form that creates one.

/** @import { Channel } from './api.js' */
/** @import { Limits } from './limits.js' */

import { ApiError, call, get, post } from './api.js';
import { find, h } from './dom.js';
import { report } from './notice.js';

export class Channels {
  /**
   * @param {HTMLElement} nav the list's part of the page, with the form
   * @param {Limits} limits
   */
  constructor(nav, limits) {
    /** @type {Channel[]} */
    this.list = [];
    /** @type {Map<string, number>} */
    this.unread = new Map();
    /** @type {string | null} */
    this.current = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.refreshTimer = undefined;
    this.cap = limits.unread;
    this.element = find(nav, 'ul', HTMLUListElement);
    this.wireForm(nav, limits);
  }

  /** @param {string | undefined} id */
  find(id) {
    return this.list.find((channel) => channel.id === id);
  }

  /** The list and the unread counts, afresh (at start and after a reconnect). */
  async load() {
    this.list = await get('/channel');
    await this.refreshUnread();
  }

  async refreshUnread() {
    /** @type {{ channel: string, unread: number }[]} */
    const entries = await get('/user/self/unread');
    this.unread = new Map(entries.map((entry) => [entry.channel, entry.unread]));
    this.render();
  }

  /** Counts again shortly: markers move in bursts as messages are read. */
  refreshSoon() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refreshUnread().catch(report), 250);
  }

  /** @param {Channel} channel */
  added(channel) {
    if (this.find(channel.id)) return;
    this.list.push(channel);
    this.render();
  }

  /** @param {string} id */
  removed(id) {
    this.list = this.list.filter((channel) => channel.id !== id);
    this.unread.delete(id);
    this.render();
  }

  /**
   * One more unread message in a channel not being read (counted, as the
   * server counts, up to its cap).
   * @param {string} id
   */
  bump(id) {
    this.unread.set(id, Math.min(this.cap, (this.unread.get(id) ?? 0) + 1));
    this.render();
  }

  /** @param {string | null} id */
  select(id) {
    this.current = id;
    this.render();
  }

  /** @param {string} id */
  async delete(id) {
    await call('DELETE', '/channel', { id });
    this.removed(id);
  }

  /**
   * Brings the list up to date in place: a link that has the keyboard's
   * focus keeps it while counts change around it.
   */
  render() {
    const list = this.element;
    const items = new Map([...list.children].map((li) => [li instanceof HTMLElement ? li.dataset.id : '', li]));
    this.list.forEach((channel, index) => {
      const li = items.get(channel.id) ?? this.item(channel);
      items.delete(channel.id);
      const here = channel.id === this.current;
      const link = find(li, 'a', HTMLAnchorElement);
      if (link.textContent !== channel.name) link.textContent = channel.name;
      li.classList.toggle('current', here);
      if (here) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
      const count = here ? 0 : (this.unread.get(channel.id) ?? 0);
      const badge = find(li, '.badge', HTMLElement);
      badge.hidden = count === 0;
      // At the cap, "more than one less".
      if (badge.firstChild) badge.firstChild.textContent = count >= this.cap ? `${this.cap - 1}+` : String(count);
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
    });
    for (const gone of items.values()) gone.remove();
    // The tab's title counts what waits elsewhere.
    let waiting = 0;
    for (const [id, count] of this.unread) if (id !== this.current) waiting += count;
    document.title = waiting ? `(${waiting}) azuma` : 'azuma';
  }

  /** @param {Channel} channel */
  item(channel) {
    return h(
      'li',
      { 'data-id': channel.id },
      h('a', { href: `#/c/${channel.id}` }, channel.name),
      h('span', { className: 'badge' }, '', h('span', { className: 'sr' }, ' unread')),
    );
  }

  /**
   * "New channel" opens the form; "Create" creates it and goes there.
   * @param {HTMLElement} nav
   * @param {Limits} limits
   */
  wireForm(nav, limits) {
    const toggle = find(nav, 'button[aria-controls]', HTMLButtonElement);
    const form = find(nav, 'form', HTMLFormElement);
    const input = find(form, 'input', HTMLInputElement);
    const error = find(form, '.error', HTMLElement);
    input.maxLength = limits.channelName;
    /** @param {boolean} open */
    const show = (open) => {
      form.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
      error.textContent = '';
      if (open) input.focus();
    };
    toggle.addEventListener('click', () => show(form.hidden !== false));
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        show(false);
        toggle.focus();
      }
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name) return;
      try {
        const channel = await post('/channel', { name });
        this.added(channel);
        input.value = '';
        show(false);
        location.hash = `#/c/${channel.id}`;
      } catch (failure) {
        if (!(failure instanceof ApiError)) throw failure;
        error.textContent = failure.message;
      }
    });
  }
}
