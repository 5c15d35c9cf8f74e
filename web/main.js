// The web client: signs in, then wires the channel list, the open channel,
// search, presence and the realtime connection together.

import { get, post, session } from './api.js';
import { Channels } from './channels.js';
import { Composer } from './composer.js';
import { byId, forgetListeners, on } from './dom.js';
import { Room } from './room.js';
import { Search } from './search.js';
import { signIn } from './signin.js';
import { Socket } from './socket.js';
import { Users } from './users.js';

const ENDED = 'Your session has ended; please log in again.';

let chat = null;

session.onExpired(() => leave(ENDED));

/** Back to the sign-in view, with a word on why. */
function leave(why) {
  session.set(null);
  chat?.stop();
  chat = null;
  byId('chat').hidden = true;
  signIn(why, start);
}

async function start() {
  if (!session.token) return signIn('', start);
  let me;
  try {
    me = await get('/user/self');
  } catch (failure) {
    if (failure.status !== 401) signIn(failure.message, start);
    return;
  }
  byId('signin').hidden = true;
  byId('chat').hidden = false;
  chat = new Chat(me);
}

class Chat {
  constructor(me) {
    this.me = me;
    this.users = new Users();
    this.users.learn(me);
    this.channels = new Channels();
    this.room = new Room(this.users, me);
    this.composer = new Composer(() => this.socket, this.users, (message) => this.event('Message', message));
    this.search = new Search(this.users, (id) => this.channels.find(id)?.name ?? 'a deleted channel', (open, title) => this.showResults(open, title), (link) => this.go(link));
    this.events = Promise.resolve();
    on(window, 'hashchange', () => this.route());
    byId('me-name').textContent = me.name;
    on(byId('status'), 'change', (event) => this.setStatus(event.target.value));
    on(byId('logout'), 'click', () => this.logout());
    on(byId('delete-channel'), 'click', () => this.deleteChannel());
    on(byId('menu'), 'click', () => this.menu(byId('menu').getAttribute('aria-expanded') !== 'true'));
    on(byId('side'), 'keydown', (event) => event.key === 'Escape' && this.menu(false));
    this.connection('Connecting…');
    this.socket = new Socket(session.token, {
      // One event at a time, in the order the server sent them.
      event: (type, content) => (this.events = this.events.then(() => this.event(type, content)).catch(() => {})),
      welcome: (again) => (this.events = this.events.then(() => this.welcome(again)).catch(() => {})),
      state: (open) => this.connection(open ? '' : 'Reconnecting…'),
      rejected: () => leave(ENDED),
    });
  }

  async welcome(again) {
    await this.channels.load();
    if (again) await this.room.catchUp();
    else await this.route();
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
        if (content.user === this.me.id && content.onlinestatus !== 'OFFLINE') byId('status').value = content.onlinestatus;
        break;
    }
  }

  /** Opens what the address names: `#/c/<channel>` or `#/c/<channel>/m/<message>`. */
  async route() {
    const [, channelId, messageId] = location.hash.match(/^#\/c\/([0-9a-f-]{36})(?:\/m\/([0-9a-f-]{36}))?$/) ?? [];
    const channel = this.channels.find(channelId) ?? null;
    if (!channel && this.channels.list.length) return this.go(`#/c/${this.channels.list[0].id}`);
    this.channels.select(channel?.id ?? null);
    this.composer.open(channel);
    this.menu(false);
    byId('room-name').textContent = channel ? channel.name : 'No channels yet: create one';
    byId('delete-channel').hidden = !channel || channel.owner !== this.me.id;
    if (!channel) return this.room.close();
    await this.room.open(channel, messageId);
    // Opened to write in, unless to show a found message.
    if (!messageId) byId('message').focus();
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
  }

  /** Deleting takes a second click within 5 s. */
  async deleteChannel() {
    const button = byId('delete-channel');
    if (!button.classList.contains('armed')) {
      button.classList.add('armed');
      button.textContent = 'Really delete?';
      setTimeout(() => {
        button.classList.remove('armed');
        button.textContent = 'Delete channel';
      }, 5000);
      return;
    }
    const channel = this.room.channel;
    try {
      if (channel) await this.channels.delete(channel.id);
      this.go('#');
    } catch (failure) {
      this.connection(failure.message);
    }
  }

  async setStatus(status) {
    try {
      await post('/user/status/set', { status });
    } catch (failure) {
      this.connection(failure.message);
    }
  }

  menu(open) {
    byId('menu').setAttribute('aria-expanded', String(open));
    byId('side').classList.toggle('open', open);
  }

  connection(words) {
    const line = byId('connection');
    line.textContent = words;
    line.classList.toggle('shown', Boolean(words));
  }

  async logout() {
    await post('/user/logout').catch(() => {});
    leave('You are logged out.');
  }

  stop() {
    this.socket.stop();
    forgetListeners();
  }
}

start();
performance.mark('azuma-interactive');
