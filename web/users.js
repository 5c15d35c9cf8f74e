// @ts-check
// People: names fetched once and cached, and the online status of each
// person this page has met (the server announces changes as they happen).

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
  /** @param {HTMLElement} list the "People" list */
  constructor(list) {
    this.list = list;
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

  /** Statuses afresh (after a reconnect: changes made meanwhile were missed). */
  refresh() {
    for (const id of [...this.known.keys()].slice(0, 100)) {
      get(`/user/${id}`)
        .then((/** @type {User} */ user) => this.learn(user))
        .catch(report);
    }
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
    const known = { id: user.id, name: user.name };
    this.known.set(user.id, known);
    if (user.onlinestatus) this.status.set(user.id, user.onlinestatus);
    this.render();
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

  /** The "People" list: everyone met so far, those online first. */
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
