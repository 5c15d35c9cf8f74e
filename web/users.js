// @ts-check
// People: everyone on the server (`GET /user`, as many as one answer
// gives, and anyone else met since) with their online status, which the
// server announces as it changes; names fetched once and cached.

/** @import { User } from './api.js' */

import { ApiError, get } from './api.js';
import { h } from './dom.js';
import { report } from './notice.js';

/** @type {Record<string, string>} */
const STATUS_WORDS = {
  ONLINE: 'online',
  AFK: 'away',
  DND: 'do not disturb',
  OFFLINE: 'offline',
};

export class Users {
  /**
   * @param {HTMLElement} list the "People" list
   * @param {number} most the most people one `GET /user` answers with
   */
  constructor(list, most) {
    this.list = list;
    this.most = most;
    /** @type {Map<string, User>} */
    this.known = new Map();
    /** @type {Map<string, string>} */
    this.status = new Map();
    /** @type {Map<string, Promise<User>>} */
    this.fetching = new Map();
  }

  /**
   * The user with this id, fetched at most once at a time; one the server
   * does not know (or cannot tell about just now) is "someone".
   * @param {string} id
   * @returns {Promise<User>}
   */
  async get(id) {
    const known = this.known.get(id);
    if (known) return known;
    let fetched = this.fetching.get(id);
    if (!fetched) {
      fetched = get(`/user/${id}`)
        .then((/** @type {User} */ user) => this.learn(user))
        .catch((failure) => {
          if (!(failure instanceof ApiError && failure.status === 404)) report(failure);
          return { id, name: 'someone' };
        })
        .finally(() => this.fetching.delete(id));
      this.fetching.set(id, fetched);
    }
    return fetched;
  }

  /**
   * Loads every one of these users; then `name` knows them.
   * @param {string[]} ids
   */
  async load(ids) {
    await Promise.all([...new Set(ids)].filter((id) => !this.known.has(id)).map((id) => this.get(id)));
  }

  /**
   * Everyone, with their statuses, afresh (at start, and after a
   * reconnect: changes made meanwhile were missed); anyone met who is not
   * in the answer (past its end) is asked about alone.
   */
  async loadAll() {
    /** @type {User[]} */
    const everyone = await get(`/user?limit=${this.most}`);
    for (const user of everyone) this.remember(user);
    this.render();
    const listed = new Set(everyone.map((user) => user.id));
    for (const id of [...this.known.keys()].filter((id) => !listed.has(id)).slice(0, this.most)) {
      get(`/user/${id}`)
        .then((/** @type {User} */ user) => this.learn(user))
        .catch(report);
    }
  }

  /**
   * People whose name starts with `prefix` (as the server compares names).
   * @param {string} prefix
   * @param {number} limit
   * @returns {Promise<User[]>}
   */
  async search(prefix, limit) {
    const q = prefix ? `q=${encodeURIComponent(prefix)}&` : '';
    /** @type {User[]} */
    const found = await get(`/user?${q}limit=${Math.min(limit, this.most)}`);
    for (const user of found) this.remember(user);
    this.render();
    return found;
  }

  /** @param {string} id */
  name(id) {
    return this.known.get(id)?.name ?? 'someone';
  }

  /**
   * @param {User} user
   * @returns {User}
   */
  learn(user) {
    const known = this.remember(user);
    this.render();
    return known;
  }

  /**
   * @param {User} user
   * @returns {User}
   */
  remember(user) {
    const known = { id: user.id, name: user.name };
    this.known.set(user.id, known);
    if (user.onlinestatus) this.status.set(user.id, user.onlinestatus);
    return known;
  }

  /**
   * @param {string} id
   * @param {string} status
   */
  setStatus(id, status) {
    this.status.set(id, status);
    if (this.known.has(id)) this.render();
    else this.get(id);
  }

  /** The "People" list: everyone known, those online first. */
  render() {
    /** @param {string} id */
    const rank = (id) => Number((this.status.get(id) ?? 'OFFLINE') === 'OFFLINE');
    const people = [...this.known.values()].sort(
      (a, b) => rank(a.id) - rank(b.id) || a.name.localeCompare(b.name),
    );
    this.list.replaceChildren(
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
