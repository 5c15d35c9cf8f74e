// @ts-check
// A private channel's members, behind the room's "Members" button: who
// they are (`GET /channel/{id}/members`), "Add people" for any member,
// "Remove" for the owner, and "Leave channel" for anyone.

/** @import { Channel, User } from './api.js' */
/** @import { Limits } from './limits.js' */
/** @import { Users } from './users.js' */

import { ApiError, call, get, post } from './api.js';
import { confirming, disclosure, find, h } from './dom.js';
import { Picker } from './picker.js';

export class Members {
  /**
   * @param {HTMLButtonElement} toggle the room's "Members" button
   * @param {HTMLElement} panel the members' part of the room
   * @param {Users} users
   * @param {User} me
   * @param {Limits} limits
   * @param {(channel: Channel) => unknown} left runs once this account has left `channel`
   */
  constructor(toggle, panel, users, me, limits, left) {
    this.toggle = toggle;
    this.panel = panel;
    this.me = me;
    this.left = left;
    /** @type {Channel | null} */
    this.channel = null;
    this.list = find(panel, 'ul', HTMLUListElement);
    this.error = find(panel, '.members-error', HTMLElement);
    const form = find(panel, 'form', HTMLFormElement);
    const members = () => new Set(this.channel?.members ?? []);
    // Added one at a time, as many as the search shows.
    this.picker = new Picker(find(form, '.picker', HTMLElement), 'Find people to add', users, limits.userName, members, Infinity);
    this.showForm = disclosure(find(panel, '#add-members', HTMLButtonElement), form, () => {
      this.picker.focus();
      return this.picker.reset();
    });
    this.showPanel = disclosure(toggle, panel, () => this.load().catch((failure) => this.refused(failure)));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.add(this.picker.ids);
    });
    this.disarm = confirming(find(panel, '#leave-channel', HTMLButtonElement), () => this.leave(), 'Really leave?');
  }

  /**
   * The room now shows `channel` (or nothing): "Members" is offered for a
   * private channel, and the panel starts closed.
   * @param {Channel | null} channel
   */
  open(channel) {
    this.channel = channel;
    this.toggle.hidden = channel?.kind !== 'private';
    this.disarm();
    this.showForm(false);
    this.showPanel(false);
  }

  /** Shown again, if shown: someone joined or left. */
  changed() {
    if (!this.panel.hidden) this.load().catch((failure) => this.refused(failure));
  }

  /** The members afresh, each with what this account may do to them. */
  async load() {
    const channel = this.channel;
    if (!channel) return;
    /** @type {User[]} */
    const members = await get(`/channel/${channel.id}/members`);
    if (this.channel !== channel) return;
    const owner = channel.owner === this.me.id;
    this.list.replaceChildren(
      ...members.map((user) => {
        const li = h('li', {}, h('span', { className: 'who' }, user.name));
        if (user.id === channel.owner) li.append(h('span', { className: 'what' }, 'owner'));
        if (owner && user.id !== this.me.id) {
          const remove = () => this.remove(user.id);
          li.append(h('button', { type: 'button', className: 'link', 'aria-label': `Remove ${user.name}`, onclick: remove }, 'Remove'));
        }
        return li;
      }),
    );
  }

  /** @param {string[]} users */
  async add(users) {
    const channel = this.channel;
    if (!channel || !users.length) return;
    try {
      for (const user of users) await post(`/channel/${channel.id}/members`, { user });
      this.showForm(false);
      await this.load();
    } catch (failure) {
      this.refused(failure);
    }
  }

  /** @param {string} user */
  async remove(user) {
    const channel = this.channel;
    if (!channel) return;
    try {
      await call('DELETE', `/channel/${channel.id}/members/${user}`);
    } catch (failure) {
      this.refused(failure);
    }
  }

  async leave() {
    const channel = this.channel;
    if (!channel) return;
    try {
      await call('DELETE', `/channel/${channel.id}/members/${this.me.id}`);
      this.left(channel);
    } catch (failure) {
      this.refused(failure);
    }
  }

  /** @param {unknown} failure */
  refused(failure) {
    if (!(failure instanceof ApiError)) throw failure;
    this.error.textContent = failure.message;
  }
}
