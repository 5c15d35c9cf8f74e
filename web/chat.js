// A signed-in page: the channel list, the open channel, search, presence
// and the realtime connection, wired together.

import { post, session } from './api.js';
import { Channels } from './channels.js';
import { Composer } from './composer.js';
import { byId, confirming } from './dom.js';
import { Room } from './room.js';
import { Search } from './search.js';
import { Socket } from './socket.js';
import { Users } from './users.js';

const PHONE = matchMedia('(max-width: 40rem)');

export class Chat {
  /** `leave(why)` ends the session's page; `ended` is why, when the server ends it. */
  constructor(me, leave, ended) {
    this.me = me;
    this.leave = leave;
    this.users = new Users();
    this.users.learn(me);
    this.channels = new Channels();
    this.room = new Room(this.users, me);
    this.composer = new Composer(
      () => this.socket,
      this.users,
      (message) => this.queue(() => this.sent(message)),
    );
    this.search = new Search(
      this.users,
      (id) => this.channels.find(id)?.name ?? 'a deleted channel',
      (open, title) => this.showResults(open, title),
      (link) => this.go(link),
    );
    this.status = 'ONLINE';
    this.events = Promise.resolve();
    window.addEventListener('hashchange', () => this.route());
    byId('me-name').textContent = me.name;
    byId('status').addEventListener('change', (event) => this.setStatus(event.target.value));
    byId('logout').addEventListener('click', () => this.logout());
    this.disarm = confirming(byId('delete-channel'), () => this.deleteChannel());
    byId('menu').addEventListener('click', () => this.menu(!this.menuOpen(), true));
    byId('side').addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.menuOpen()) {
        this.menu(false);
        byId('menu').focus();
      }
    });
    byId('room-name').textContent = 'Connecting…';
    this.connection('Connecting…');
    this.socket = new Socket(session.token, {
      event: (type, content) => this.queue(() => this.event(type, content)),
      welcome: (again) => this.queue(() => this.welcome(again)),
      state: (open) => this.connection(open ? '' : 'Reconnecting…'),
      rejected: () => leave(ended),
    });
  }

  /** Runs `work` after everything before it: events apply in the server's order. */
  queue(work) {
    this.events = this.events.then(work).catch(() => {});
  }

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

  /** The answer to our own send: shown now if connected (else catch-up brings it). */
  async sent(message) {
    if (!this.socket.open) return;
    if (!this.room.atNewest && this.room.channel?.id === message.channel) {
      await this.room.open(this.room.channel);
    }
    await this.event('Message', message);
  }

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

  /** Opens what the address names: `#/c/<channel>` or `#/c/<channel>/m/<message>`. */
  async route() {
    const [, channelId, messageId] = location.hash.match(/^#\/c\/([0-9a-f-]{36})(?:\/m\/([0-9a-f-]{36}))?$/) ?? [];
    const channel = this.channels.find(channelId) ?? null;
    if (!channel && this.channels.list.length) return this.go(`#/c/${this.channels.list[0].id}`);
    this.search.close();
    this.disarm();
    this.channels.select(channel?.id ?? null);
    this.composer.open(channel);
    this.menu(false);
    byId('room-name').textContent = channel ? channel.name : 'No channels yet: create one';
    byId('delete-channel').hidden = !channel || channel.owner !== this.me.id;
    if (!channel) return this.room.close();
    const shown = await this.room.open(channel, messageId);
    // Opened to write in (but a phone's keyboard only pops up when asked
    // for), unless to show a found message.
    if (shown && !messageId && !PHONE.matches && this.room.channel === channel) byId('message').focus();
  }

  go(link) {
    if (location.hash === link) this.route();
    else location.hash = link;
  }

  showResults(open, title) {
    byId('results').hidden = !open;
    byId('log').hidden = open;
    byId('composer').hidden = open;
    byId('typing').hidden = open;
    byId('close-search').hidden = !open;
    byId('delete-channel').hidden = open || this.room.channel?.owner !== this.me.id;
    byId('room-name').textContent = open ? title : (this.room.channel?.name ?? '');
    if (!open) this.room.seen();
  }

  /** The open channel, deleted ("Delete channel", confirmed). */
  async deleteChannel() {
    const channel = this.room.channel;
    try {
      if (channel) await this.channels.delete(channel.id);
      this.go('#');
    } catch (failure) {
      this.connection(failure.message, true);
    }
  }

  async setStatus(status) {
    const menu = byId('status');
    try {
      await post('/user/status/set', { status });
      this.status = status;
    } catch (failure) {
      menu.value = this.status;
      this.connection(failure.message, true);
    }
  }

  menuOpen() {
    return byId('menu').getAttribute('aria-expanded') === 'true';
  }

  /** The side panel, over the room on a phone; `focus` moves into it. */
  menu(open, focus = false) {
    byId('menu').setAttribute('aria-expanded', String(open));
    byId('side').classList.toggle('open', open);
    if (open && focus) byId('side').querySelector('a, select')?.focus();
  }

  /** The line at the top: the connection's state, or a passing problem. */
  connection(words, passing = false) {
    byId('connection').textContent = words;
    clearTimeout(this.passing);
    if (passing) this.passing = setTimeout(() => this.connection(this.socket.open ? '' : 'Reconnecting…'), 5000);
  }

  /** Stops listening first (the server closes the revoked token's socket). */
  async logout() {
    this.socket.stop();
    await post('/user/logout', undefined, AbortSignal.timeout(5000)).catch(() => {});
    this.leave('You are logged out.');
  }
}
