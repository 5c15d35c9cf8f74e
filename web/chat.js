// @ts-check
// A signed-in page: the conversations, the open one, search, people,
// invitations and the realtime connection, wired together. It owns the
// room's heading and the connection's line, and hands each other part
// its own elements.

/** @import { Channel, Message, User } from './api.js' */
/** @import { Limits } from './limits.js' */

import { ApiError, post, session } from './api.js';
import { Channels } from './channels.js';
import { Composer } from './composer.js';
import { confirming, find } from './dom.js';
import { invitations } from './invite.js';
import { Members } from './members.js';
import { newChannel, newDirect } from './newchannel.js';
import { report } from './notice.js';
import { Levels, Notifier, onOpen } from './notify.js';
import { Room } from './room.js';
import { Search } from './search.js';
import { PHONE, Side } from './side.js';
import { Socket } from './socket.js';
import { Users } from './users.js';

export class Chat {
  /**
   * `leave(why)` ends the session's page; `ended` is why, when the server ends it.
   * @param {HTMLElement} view the chat view, which this shows
   * @param {User} me
   * @param {Limits} limits
   * @param {(why: string) => void} leave
   * @param {string} ended
   */
  constructor(view, me, limits, leave, ended) {
    this.me = me;
    this.leave = leave;
    this.heading = find(view, '#room-name', HTMLElement);
    this.deleteButton = find(view, '#delete-channel', HTMLButtonElement);
    this.line = find(view, '#connection', HTMLElement);
    this.users = new Users(find(view, '#people', HTMLElement), limits.people);
    this.users.learn(me);
    const lists = [find(view, '#channel-list', HTMLElement), find(view, '#direct-list', HTMLElement)];
    this.channels = new Channels(lists[0], lists[1], this.users, me, limits);
    /** @param {string} link */
    const go = (link) => this.go(link);
    const context = { channels: this.channels, users: this.users, me, limits, go };
    newChannel(find(view, '#channels', HTMLElement), context);
    newDirect(find(view, '#directs', HTMLElement), context);
    invitations(find(view, '#invite', HTMLButtonElement), find(view, '#invite-panel', HTMLElement));
    this.members = new Members(
      find(view, '#members-toggle', HTMLButtonElement),
      find(view, '#members', HTMLElement),
      this.users,
      me,
      limits,
      (channel) => this.gone(channel, ''),
    );
    this.room = new Room(find(view, '#log', HTMLElement), this.users, me, limits);
    this.composer = new Composer(
      find(view, '#composer', HTMLFormElement),
      find(view, '#room', HTMLElement),
      find(view, '#typing', HTMLElement),
      limits,
      () => this.socket,
      this.users,
      (message) => this.queue(() => this.sent(message)),
    );
    this.search = new Search(
      {
        form: find(view, '#search-form', HTMLFormElement),
        results: find(view, '#results', HTMLElement),
        close: find(view, '#close-search', HTMLButtonElement),
      },
      limits,
      this.users,
      (id) => this.channels.title(this.channels.find(id)) || 'a deleted channel',
      (open, title, refocus) => this.showResults(open, title, refocus),
      go,
    );
    this.levels = new Levels(find(view, '#notify-level', HTMLSelectElement), this.channels, (words) =>
      this.connection(words, true),
    );
    this.notifier = new Notifier(
      find(view, '#notify', HTMLButtonElement),
      find(view, '#notify-note', HTMLElement),
      this.channels,
      this.users,
      me,
    );
    this.notifier.start().catch(report);
    // A click on a notification opens its channel here.
    onOpen(go);
    this.side = new Side(
      view,
      me,
      (words) => this.connection(words, true),
      () => this.logout(),
      () => this.room.focus(),
    );
    /** @type {Promise<unknown>} */
    this.events = Promise.resolve();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.passing = undefined;
    window.addEventListener('hashchange', () => this.route());
    this.disarm = confirming(this.deleteButton, () => this.deleteChannel());
    this.heading.textContent = 'Connecting…';
    view.hidden = false;
    this.connection('Connecting…');
    this.socket = new Socket(session.token ?? '', {
      event: (type, content) => this.queue(() => this.event(type, content)),
      welcome: (again) => this.queue(() => this.welcome(again)),
      state: (open) => this.connection(open ? '' : 'Reconnecting…'),
      rejected: () => leave(ended),
    });
  }

  /**
   * Runs `work` after everything before it: events apply in the server's
   * order. One that fails is reported, and the next ones still apply.
   * @param {() => unknown} work
   */
  queue(work) {
    this.events = this.events.then(work).catch(report);
  }

  /** @param {boolean} again */
  async welcome(again) {
    // Everyone, statuses and names afresh (after a drop: changes missed
    // meanwhile), before the lists that show names.
    await this.users.loadAll();
    await this.channels.load();
    if (!again) return this.route();
    // Back after a drop: a status the server forgot, channels gone or
    // left meanwhile, and the open channel's messages sent meanwhile.
    await this.side.restore();
    // The open channel's owner may have changed (search results aside).
    if (!this.room.log.hidden) this.head();
    this.members.changed();
    if (this.room.channel && !this.channels.find(this.room.channel.id)) return this.route();
    await this.room.catchUp();
  }

  /**
   * The answer to our own send: shown now if connected (else catch-up brings it).
   * @param {Message} message
   */
  async sent(message) {
    if (!this.socket.open) return;
    if (!this.room.atNewest && this.room.channel?.id === message.channel) {
      await this.room.open(this.room.channel);
    }
    await this.event('Message', message);
  }

  /**
   * One event of the websocket (docs/API.md); its `content` is as the server sends it.
   * @param {string} type
   * @param {any} content
   */
  async event(type, content) {
    switch (type) {
      case 'Message':
        this.composer.stopped(content.author);
        if (!(await this.room.add(content)) && content.author !== this.me.id) this.channels.bump(content.channel);
        this.notifier.message(content).catch(report);
        break;
      case 'MessageUpdated':
        this.room.update(content);
        break;
      case 'MessageDeleted':
        this.room.removed(content.id);
        this.channels.refreshSoon();
        break;
      case 'ReadMarker':
        this.channels.refreshSoon();
        break;
      case 'ChannelCreated':
        await this.channels.added(content);
        break;
      case 'MemberAdded':
      case 'MemberRemoved':
        await this.membership(content.channel, content.user, type === 'MemberAdded');
        break;
      case 'ChannelDeleted':
        this.channels.removed(content.id);
        if (this.room.channel?.id === content.id) this.go('#');
        break;
      case 'Typing':
        await this.composer.someoneTyping(content.user, content.channel);
        break;
      case 'Status':
        this.users.setStatus(content.user, content.onlinestatus);
        break;
    }
  }

  /**
   * Someone joined or left a channel. This account leaving (or being
   * removed) takes the channel away, and closes it if it is open.
   * @param {string} id
   * @param {string} user
   * @param {boolean} joined
   */
  async membership(id, user, joined) {
    const channel = this.channels.find(id);
    if (!channel) return;
    if (user === this.me.id && !joined) return this.gone(channel, `You are no longer a member of ${channel.name}.`);
    await this.users.get(user);
    this.channels.membership(id, user, joined);
    if (this.room.channel?.id === id) {
      this.head();
      this.members.changed();
    }
  }

  /**
   * A channel this account no longer sees: off the list, and closed (with
   * `why`, if any) if it is open.
   * @param {Channel} channel
   * @param {string} why
   */
  async gone(channel, why) {
    this.channels.removed(channel.id);
    if (this.room.channel?.id !== channel.id) return;
    if (why) this.connection(why, true);
    await this.go('#');
  }

  /**
   * Opens what the address names: `#/c/<channel>` or `#/c/<channel>/m/<message>`.
   * @returns {Promise<void>}
   */
  async route() {
    const [, channelId, messageId] = location.hash.match(/^#\/c\/([0-9a-f-]{36})(?:\/m\/([0-9a-f-]{36}))?$/) ?? [];
    const channel = this.channels.find(channelId) ?? null;
    if (!channel && this.channels.list.length) return this.go(`#/c/${this.channels.list[0].id}`);
    this.search.close();
    this.disarm();
    this.channels.select(channel?.id ?? null);
    this.composer.open(channel, this.channels.title(channel));
    this.members.open(channel);
    this.side.menu(false);
    this.head(channel);
    if (!channel) return this.room.close();
    const shown = await this.room.open(channel, messageId);
    // Opened to write in (but a phone's keyboard only pops up when asked
    // for), unless to show a found message.
    if (shown && !messageId && !PHONE.matches && this.room.channel === channel) this.composer.focus();
  }

  /**
   * The room's heading: `title` (search results), or the open channel's
   * title and "Delete channel" for its owner (never for a direct one).
   */
  head(channel = this.room.channel, title = '') {
    this.heading.textContent = title || this.channels.title(channel) || 'No channels yet: create one';
    this.levels.open(title ? null : channel);
    this.deleteButton.hidden = Boolean(title) || channel?.owner !== this.me.id || channel.kind === 'direct';
  }

  /**
   * @param {string} link
   * @returns {Promise<void> | undefined}
   */
  go(link) {
    if (location.hash === link) return this.route();
    location.hash = link;
  }

  /**
   * Search results in place of the room (or the room back, the focus in
   * its log if `refocus`).
   * @param {boolean} open
   * @param {string} title
   * @param {boolean} refocus
   */
  showResults(open, title, refocus) {
    this.room.show(!open);
    this.composer.show(!open);
    this.members.open(open ? null : this.room.channel);
    this.head(this.room.channel, open ? title : '');
    if (refocus) this.room.focus();
  }

  /** The open channel, deleted ("Delete channel", confirmed). */
  async deleteChannel() {
    const channel = this.room.channel;
    try {
      if (channel) await this.channels.delete(channel.id);
      await this.go('#');
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      this.connection(failure.message, true);
    }
  }

  /**
   * The line at the top: the connection's state, or a passing problem.
   * @param {string} words
   */
  connection(words, passing = false) {
    this.line.textContent = words;
    clearTimeout(this.passing);
    if (passing) this.passing = setTimeout(() => this.connection(this.socket.open ? '' : 'Reconnecting…'), 5000);
  }

  /**
   * Stops listening first (the server closes the revoked token's socket).
   * The page leaves even if the server cannot be told (that is reported).
   */
  async logout() {
    this.socket.stop();
    // This session's push subscription first, while its token still counts.
    await this.notifier.stop().catch(report);
    await post('/user/logout', undefined, AbortSignal.timeout(5000)).catch(report);
    this.leave('You are logged out.');
  }
}
