// The channel list: live as channels come and go, each with its unread
// count, and the form that creates one.

import { call, get, post } from './api.js';
import { byId, h } from './dom.js';

export class Channels {
  constructor() {
    this.list = [];
    this.unread = new Map();
    this.current = null;
    this.wireForm();
  }

  find(id) {
    return this.list.find((channel) => channel.id === id);
  }

  /** The list and the unread counts, afresh (at start and after a reconnect). */
  async load() {
    this.list = await get('/channel');
    await this.refreshUnread();
  }

  async refreshUnread() {
    const entries = await get('/user/self/unread');
    this.unread = new Map(entries.map((entry) => [entry.channel, entry.unread]));
    this.render();
  }

  /** Counts again shortly: markers move in bursts as messages are read. */
  refreshSoon() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refreshUnread().catch(() => {}), 250);
  }

  added(channel) {
    if (this.find(channel.id)) return;
    this.list.push(channel);
    this.render();
  }

  removed(id) {
    this.list = this.list.filter((channel) => channel.id !== id);
    this.unread.delete(id);
    this.render();
  }

  /** One more unread message in a channel not being read. */
  bump(id) {
    this.unread.set(id, Math.min(1000, (this.unread.get(id) ?? 0) + 1));
    this.render();
  }

  select(id) {
    this.current = id;
    this.render();
  }

  async delete(id) {
    await call('DELETE', '/channel', { id });
    this.removed(id);
  }

  /**
   * Brings the list up to date in place: a link that has the keyboard's
   * focus keeps it while counts change around it.
   */
  render() {
    const list = byId('channel-list');
    const items = new Map([...list.children].map((li) => [li.dataset.id, li]));
    this.list.forEach((channel, index) => {
      const li = items.get(channel.id) ?? this.item(channel);
      items.delete(channel.id);
      const here = channel.id === this.current;
      const link = li.firstChild;
      if (link.textContent !== channel.name) link.textContent = channel.name;
      li.classList.toggle('current', here);
      if (here) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
      const count = here ? 0 : (this.unread.get(channel.id) ?? 0);
      const badge = li.querySelector('.badge');
      badge.hidden = count === 0;
      badge.firstChild.textContent = count >= 1000 ? '999+' : String(count);
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
    });
    for (const gone of items.values()) gone.remove();
    // The tab's title counts what waits elsewhere.
    let waiting = 0;
    for (const [id, count] of this.unread) if (id !== this.current) waiting += count;
    document.title = waiting ? `(${waiting}) azuma` : 'azuma';
  }

  item(channel) {
    return h(
      'li',
      { 'data-id': channel.id },
      h('a', { href: `#/c/${channel.id}` }, channel.name),
      h('span', { className: 'badge' }, '', h('span', { className: 'sr' }, ' unread')),
    );
  }

  /** "New channel" opens the form; "Create" creates it and goes there. */
  wireForm() {
    const toggle = byId('new-channel');
    const form = byId('new-channel-form');
    const input = byId('channel-name');
    const error = byId('new-channel-error');
    const show = (open) => {
      form.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
      error.textContent = '';
      if (open) input.focus();
    };
    toggle.addEventListener('click', () => show(form.hidden));
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
        error.textContent = failure.message;
      }
    });
  }
}
