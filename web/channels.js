// @ts-check
// The conversations this account may see: channels (public and private)
// in one list, direct conversations in another, live as they come and go
// and as members join and leave, each with its unread count. A direct
// conversation is called by its other members' current names.

/** @import { Channel, User } from './api.js' */
/** @import { Limits } from './limits.js' */
/** @import { Users } from './users.js' */
/** @import { Level } from './notify.js' */

import { call, get } from './api.js';
import { find, h } from './dom.js';
import { report } from './notice.js';
import { badge } from './notify.js';

export class Channels {
  /**
   * @param {HTMLElement} channels the channels' list
   * @param {HTMLElement} directs the direct conversations' list
   * @param {Users} users
   * @param {User} me
   * @param {Limits} limits
   */
  constructor(channels, directs, users, me, limits) {
    this.users = users;
    this.me = me;
    /** @type {Channel[]} */
    this.list = [];
    /** @type {Map<string, number>} */
    this.unread = new Map();
    /**
     * This account's notification level in each channel, as the server has it.
     * @type {Map<string, Level>}
     */
    this.levels = new Map();
    /** @type {string | null} */
    this.current = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.refreshTimer = undefined;
    this.cap = limits.unread;
    this.element = channels;
    this.directs = directs;
  }

  /** @param {string | undefined} id */
  find(id) {
    return this.list.find((channel) => channel.id === id);
  }

  /** The list and the unread counts, afresh (at start and after a reconnect). */
  async load() {
    /** @type {Channel[]} */
    const list = await get('/channel');
    await this.users.load(list.flatMap((channel) => (channel.kind === 'direct' ? (channel.members ?? []) : [])));
    // A channel listed before stays the same object, brought up to date
    // (its members, its owner): the open room holds it.
    const before = new Map(this.list.map((channel) => [channel.id, channel]));
    this.list = list.map((channel) => Object.assign(before.get(channel.id) ?? channel, channel));
    await this.refreshUnread();
  }

  /**
   * What a channel is called: its name, or for a direct conversation its
   * other members' names as they are now ('' for none).
   * @param {Channel | null | undefined} channel
   */
  title(channel) {
    if (!channel) return '';
    if (channel.kind !== 'direct') return channel.name;
    const others = (channel.members ?? []).filter((id) => id !== this.me.id);
    if (!others.length) return channel.name;
    return others.map((id) => this.users.name(id)).join(', ');
  }

  async refreshUnread() {
    /** @type {{ channel: string, unread: number, notifications?: Level }[]} */
    const entries = await get('/user/self/unread');
    this.unread = new Map(entries.map((entry) => [entry.channel, entry.unread]));
    for (const entry of entries) if (entry.notifications) this.levels.set(entry.channel, entry.notifications);
    this.render();
  }

  /**
   * What this account is notified of in `channel`: the server's word, or
   * its default (everything in direct and private ones, mentions in public
   * ones) for a channel it has not counted yet.
   * @param {Channel} channel
   * @returns {Level}
   */
  level(channel) {
    return this.levels.get(channel.id) ?? ((channel.kind ?? 'public') === 'public' ? 'mentions' : 'all');
  }

  /** Counts again shortly: markers move in bursts as messages are read. */
  refreshSoon() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refreshUnread().catch(report), 250);
  }

  /**
   * A channel newly seen (created, or this account added to it).
   * @param {Channel} channel
   */
  async added(channel) {
    if (channel.kind === 'direct') await this.users.load(channel.members ?? []);
    if (this.find(channel.id)) return;
    this.list.push(channel);
    this.render();
  }

  /**
   * Someone joined or left a channel: its member list (and owner) as the
   * server now has them. The owner leaving makes the oldest member owner.
   * @param {string} id
   * @param {string} user
   * @param {boolean} joined
   */
  membership(id, user, joined) {
    const channel = this.find(id);
    if (!channel?.members) return;
    const members = channel.members.filter((member) => member !== user);
    if (joined) members.push(user);
    channel.members = members;
    if (!joined && channel.owner === user && members.length) channel.owner = members[0];
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
    if (!this.find(id)) return;
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
    const direct = (/** @type {Channel} */ channel) => channel.kind === 'direct';
    this.renderList(this.element, this.list.filter((channel) => !direct(channel)));
    this.renderList(this.directs, this.list.filter(direct));
    // The tab's title counts what waits elsewhere.
    let waiting = 0;
    for (const [id, count] of this.unread) if (id !== this.current) waiting += count;
    document.title = waiting ? `(${waiting}) azuma` : 'azuma';
    badge(waiting);
  }

  /**
   * @param {HTMLElement} list
   * @param {Channel[]} channels
   */
  renderList(list, channels) {
    const items = new Map([...list.children].map((li) => [li instanceof HTMLElement ? li.dataset.id : '', li]));
    channels.forEach((channel, index) => {
      const li = items.get(channel.id) ?? this.item(channel);
      items.delete(channel.id);
      const here = channel.id === this.current;
      const link = find(li, 'a', HTMLAnchorElement);
      const title = this.title(channel);
      if (link.textContent !== title) link.textContent = title;
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
  }

  /** @param {Channel} channel */
  item(channel) {
    return h(
      'li',
      { 'data-id': channel.id, className: channel.kind ?? 'public' },
      h('a', { href: `#/c/${channel.id}`, title: channel.kind === 'private' ? 'Private channel' : null }, ''),
      h('span', { className: 'badge' }, '', h('span', { className: 'sr' }, ' unread')),
    );
  }
}
