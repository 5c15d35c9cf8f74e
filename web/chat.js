// @ts-check
// A signed-in page: the channel list, the open channel, search, presence
// and the realtime connection, wired together. It owns the chat view's
// frame (the top bar, the side panel's "me" part, the room's heading) and
// hands each other part its own elements.

/** @import { Message, User } from './api.js' */
/** @import { Limits } from './limits.js' */

import { ApiError, post, session } from './api.js';
import { Channels } from './channels.js';
import { Composer } from './composer.js';
import { confirming, find } from './dom.js';
import { report } from './notice.js';
import { Room } from './room.js';
import { Search } from './search.js';
import { Socket } from './socket.js';
import { Users } from './users.js';

const PHONE = matchMedia('(max-width: 40rem)');

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
    this.menuButton = find(view, '#menu', HTMLButtonElement);
    this.side = find(view, '#side', HTMLElement);
    this.line = find(view, '#connection', HTMLElement);
    this.statusMenu = find(view, '#status', HTMLSelectElement);
    this.users = new Users(find(view, '#people', HTMLElement));
    this.users.learn(me);
    this.channels = new Channels(find(view, '#channels', HTMLElement), limits);
    this.room = new Room(find(view, '#log', HTMLElement), this.users, me, limits);
    this.composer = new Composer(
      find(view, '#composer', HTMLFormElement),
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
      (id) => this.channels.find(id)?.name ?? 'a deleted channel',
      (open, title, refocus) => this.showResults(open, title, refocus),
      (link) => this.go(link),
    );
    this.status = 'ONLINE';
    /** @type {Promise<unknown>} */
    this.events = Promise.resolve();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.passing = undefined;
    window.addEventListener('hashchange', () => this.route());
    find(view, '#me-name', HTMLElement).textContent = me.name;
    this.statusMenu.addEventListener('change', () => this.setStatus(this.statusMenu.value));
    find(view, '#logout', HTMLButtonElement).addEventListener('click', () => this.logout());
    this.disarm = confirming(this.deleteButton, () => this.deleteChannel());
    this.menuButton.addEventListener('click', () => this.menu(!this.menuOpen(), true));
    this.side.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.menuOpen()) {
        this.menu(false);
        this.menuButton.focus();
      }
    });
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
    await this.channels.load();
    if (!again) return this.route();
    // Back after a drop: a status the server forgot, statuses and edits
    // missed meanwhile, and the open channel's messages sent meanwhile.
    if (this.status !== 'ONLINE') await this.setStatus(this.status);
    this.users.refresh();
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
        this.channels.added(content);
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
    this.composer.open(channel);
    this.menu(false);
    this.heading.textContent = channel ? channel.name : 'No channels yet: create one';
    this.deleteButton.hidden = !channel || channel.owner !== this.me.id;
    if (!channel) return this.room.close();
    const shown = await this.room.open(channel, messageId);
    // Opened to write in (but a phone's keyboard only pops up when asked
    // for), unless to show a found message.
    if (shown && !messageId && !PHONE.matches && this.room.channel === channel) this.composer.focus();
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
    this.deleteButton.hidden = open || this.room.channel?.owner !== this.me.id;
    this.heading.textContent = open ? title : (this.room.channel?.name ?? '');
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

  /** @param {string} status */
  async setStatus(status) {
    try {
      await post('/user/status/set', { status });
      this.status = status;
    } catch (failure) {
      this.statusMenu.value = this.status;
      if (!(failure instanceof ApiError)) throw failure;
      this.connection(failure.message, true);
    }
  }

  menuOpen() {
    return this.menuButton.getAttribute('aria-expanded') === 'true';
  }

  /**
   * The side panel, over the room on a phone; `focus` moves into it.
   * @param {boolean} open
   */
  menu(open, focus = false) {
    this.menuButton.setAttribute('aria-expanded', String(open));
    this.side.classList.toggle('open', open);
    if (open && focus) /** @type {HTMLElement | null} */ (this.side.querySelector('a, select'))?.focus();
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
    await post('/user/logout', undefined, AbortSignal.timeout(5000)).catch(report);
    this.leave('You are logged out.');
  }
}
