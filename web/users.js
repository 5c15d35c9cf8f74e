// People: names fetched once and cached, and the online status of each
// person this page has met (the server announces changes as they happen).

import { get } from './api.js';
import { byId, h } from './dom.js';

const STATUS_WORDS = {
  ONLINE: 'online',
  AFK: 'away',
  DND: 'do not disturb',
  OFFLINE: 'offline',
};

export class Users {
  constructor() {
    this.known = new Map();
    this.status = new Map();
    this.fetching = new Map();
  }

  /** The user with this id, fetched at most once at a time. */
  async get(id) {
    if (this.known.has(id)) return this.known.get(id);
    if (!this.fetching.has(id)) {
      const fetched = get(`/user/${id}`)
        .then((user) => this.learn(user))
        .catch(() => ({ id, name: 'someone' }))
        .finally(() => this.fetching.delete(id));
      this.fetching.set(id, fetched);
    }
    return this.fetching.get(id);
  }

  /** Loads every one of these users; then `name` knows them. */
  async load(ids) {
    await Promise.all([...new Set(ids)].filter((id) => !this.known.has(id)).map((id) => this.get(id)));
  }

  /** Statuses afresh (after a reconnect: changes made meanwhile were missed). */
  refresh() {
    for (const id of [...this.known.keys()].slice(0, 100)) {
      get(`/user/${id}`)
        .then((user) => this.learn(user))
        .catch(() => {});
    }
  }

  name(id) {
    return this.known.get(id)?.name ?? 'someone';
  }

  learn(user) {
    this.known.set(user.id, { id: user.id, name: user.name });
    if (user.onlinestatus) this.status.set(user.id, user.onlinestatus);
    this.render();
    return this.known.get(user.id);
  }

  setStatus(id, status) {
    this.status.set(id, status);
    if (this.known.has(id)) this.render();
    else this.get(id);
  }

  /** The "People" list: everyone met so far, those online first. */
  render() {
    const rank = (id) => (this.status.get(id) ?? 'OFFLINE') === 'OFFLINE';
    const people = [...this.known.values()].sort(
      (a, b) => rank(a.id) - rank(b.id) || a.name.localeCompare(b.name),
    );
    byId('people').replaceChildren(
      ...people.map((user) => {
        const status = this.status.get(user.id) ?? 'OFFLINE';
        return h(
          'li',
          { className: `person ${status.toLowerCase()}` },
          h('span', { className: 'dot', 'aria-hidden': 'true' }),
          h('span', { className: 'who' }, user.name),
          h('span', { className: 'what' }, STATUS_WORDS[status] ?? status.toLowerCase()),
        );
      }),
    );
  }
}
