// @ts-check
// Notifications: the service worker (sw.js, registered on every load),
// each channel's level (All, Mentions, Nothing), the button that turns
// notifications on (the only thing that asks the browser's permission)
// and subscribes this session to push messages, the notifications the
// page shows itself while its tab is hidden (the server pushes nothing
// to someone whose websocket is open), and the app's badge.

/** @import { Channel, Message, User } from './api.js' */
/** @import { Channels } from './channels.js' */
/** @import { Users } from './users.js' */

import { ApiError, call, get, post } from './api.js';
import { report } from './notice.js';

/** Whether this session asked for notifications (cleared when it ends). */
const ASKED = 'azuma.notify';

/**
 * The service worker's registration, or null where there is none (no
 * support, or the browser refuses it: a private window, say).
 * @type {Promise<ServiceWorkerRegistration | null>}
 */
export const worker =
  'serviceWorker' in navigator
    ? navigator.serviceWorker.register('/app/sw.js', { scope: '/app/', updateViaCache: 'none' }).catch((failure) => {
        // The app works without it; only push messages need it.
        console.error(failure);
        return null;
      })
    : Promise.resolve(null);

/** The session ended: the next one asks for notifications afresh. */
export function forget() {
  localStorage.removeItem(ASKED);
}

/** What a click on a notification opens, until the chat takes it over. */
let opening = (/** @type {string} */ link) => {
  location.hash = link;
};

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.addEventListener('message', (event) => {
    const data = event.data;
    if (data?.type === 'open' && typeof data.link === 'string' && data.link.startsWith('#/c/')) opening(data.link);
  });
  navigator.serviceWorker.startMessages();
}

/**
 * A click on a notification (in sw.js) opens its channel by `open(link)`.
 * @param {(link: string) => unknown} open
 */
export function onOpen(open) {
  opening = open;
}

let badged = -1;

/**
 * The app's badge (on an installed app's icon, where the system shows
 * one): `count`, none at 0.
 * @param {number} count
 */
export function badge(count) {
  if (count === badged || !('setAppBadge' in navigator)) return;
  badged = count;
  (count ? navigator.setAppBadge(count) : navigator.clearAppBadge()).catch(report);
}

/** @typedef {'all' | 'mentions' | 'none'} Level */

/**
 * The room's "Notifications" menu: the open channel's level, changed on
 * the server as it is chosen.
 */
export class Levels {
  /**
   * @param {HTMLSelectElement} menu
   * @param {Channels} channels
   * @param {(words: string) => void} tell says a passing problem
   */
  constructor(menu, channels, tell) {
    this.menu = menu;
    this.field = /** @type {HTMLElement} */ (menu.parentElement);
    this.channels = channels;
    this.tell = tell;
    /** @type {Channel | null} */
    this.channel = null;
    menu.addEventListener('change', () => this.choose(/** @type {Level} */ (menu.value)).catch(report));
  }

  /**
   * The menu for `channel`, or none (no channel, or search results).
   * @param {Channel | null} channel
   */
  open(channel) {
    this.channel = channel;
    this.field.hidden = !channel;
    if (channel) this.menu.value = this.channels.level(channel);
  }

  /** @param {Level} level */
  async choose(level) {
    const channel = this.channel;
    if (!channel) return;
    try {
      await call('PUT', `/channel/${channel.id}/notifications`, { level });
      this.channels.levels.set(channel.id, level);
    } catch (failure) {
      if (this.channel === channel) this.menu.value = this.channels.level(channel);
      if (!(failure instanceof ApiError)) throw failure;
      this.tell(failure.message);
    }
  }
}

/**
 * "Turn on notifications" (and off), this session's push subscription,
 * and the page's own notifications while its tab is hidden.
 */
export class Notifier {
  /**
   * @param {HTMLButtonElement} button
   * @param {HTMLElement} note says how notifications stand
   * @param {Channels} channels
   * @param {Users} users
   * @param {User} me
   */
  constructor(button, note, channels, users, me) {
    this.button = button;
    this.note = note;
    this.channels = channels;
    this.users = users;
    this.me = me;
    this.supported = 'Notification' in window;
    button.hidden = !this.supported;
    button.addEventListener('click', () => this.toggle().catch(report));
    this.render();
  }

  /** Whether notifications are on for this session. */
  get on() {
    return this.supported && Notification.permission === 'granted' && localStorage.getItem(ASKED) === '1';
  }

  render() {
    this.button.textContent = this.on ? 'Turn off notifications' : 'Turn on notifications';
    this.button.setAttribute('aria-pressed', String(this.on));
  }

  /** At the start: a session that asked is subscribed again (its subscription may have gone). */
  async start() {
    if (this.on) await this.subscribe();
  }

  async toggle() {
    if (this.on) {
      localStorage.removeItem(ASKED);
      this.render();
      this.note.textContent = 'Notifications are off.';
      await this.unsubscribe();
      return;
    }
    this.note.textContent = '';
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') {
      this.note.textContent =
        permission === 'denied'
          ? "This browser blocks azuma's notifications: allow them in its site settings."
          : 'Notifications stay off.';
      return;
    }
    localStorage.setItem(ASKED, '1');
    this.render();
    this.note.textContent = 'Notifications are on.';
    await this.subscribe();
  }

  /**
   * This session's push subscription, made (with the server's key) if
   * there is none, and given to the server. Where the browser has no
   * push service, the page still notifies while it is open, and says so.
   */
  async subscribe() {
    const registration = await worker;
    try {
      if (!registration) throw new DOMException('No service worker', 'NotSupportedError');
      /** @type {{ key: string }} */
      const { key } = await get('/push/key');
      const server = bytesOf(key);
      let subscription = await registration.pushManager.getSubscription();
      const held = subscription?.options.applicationServerKey;
      // A subscription for another key (another server, once, here) is no use.
      if (subscription && !(held && same(new Uint8Array(held), server))) {
        await subscription.unsubscribe();
        subscription = null;
      }
      subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: server });
      await post('/push/subscribe', subscription.toJSON());
    } catch (failure) {
      if (failure instanceof ApiError) this.note.textContent = `Push messages are off: ${failure.message}`;
      else if (failure instanceof DOMException) {
        console.error(failure);
        this.note.textContent = 'Notifications show while azuma is open; this browser cannot receive push messages.';
      } else throw failure;
    }
  }

  /** This session's push subscription, ended (at logout, or turned off). */
  async unsubscribe() {
    const registration = await worker;
    const subscription = await registration?.pushManager.getSubscription();
    if (!subscription) return;
    try {
      await call('DELETE', '/push/subscribe', { endpoint: subscription.endpoint }, AbortSignal.timeout(5000));
    } finally {
      // Ended here in any case: the server ends it with the session.
      await subscription.unsubscribe();
    }
  }

  /** Logging out: no more notifications here for this session. */
  async stop() {
    forget();
    badge(0);
    await this.unsubscribe();
  }

  /**
   * A message that came over the websocket: a notification, if the tab
   * is hidden and the channel's level asks for it (and not one's own).
   * @param {Message} message
   */
  async message(message) {
    if (!document.hidden || !this.on || message.author === this.me.id) return;
    const channel = this.channels.find(message.channel);
    if (!channel) return;
    const level = this.channels.level(channel);
    if (level === 'none' || (level === 'mentions' && !message.mentions?.includes(this.me.id))) return;
    const author = await this.users.get(message.author);
    const title = `${this.channels.title(channel)} · ${author.name}`;
    const body = [...message.content].slice(0, 200).join('') || message.attachments?.[0]?.name || '';
    const options = {
      body,
      tag: `channel-${channel.id}`,
      data: { channel: channel.id, message: message.id },
      icon: '/app/icon-192.png',
    };
    const registration = await worker;
    if (registration) return registration.showNotification(title, options);
    // No worker: the page's own, which opens the channel here.
    const shown = new Notification(title, options);
    shown.addEventListener('click', () => {
      window.focus();
      opening(`#/c/${channel.id}`);
    });
  }
}

/**
 * The bytes of a base64url text (the server's key).
 * @param {string} text
 */
function bytesOf(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
function same(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
