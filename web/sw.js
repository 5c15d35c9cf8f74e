// @ts-check
// The service worker (scope /app/): a notification for each push (the
// channel and its author as the title, the text as the body, one per
// channel at a time), the app's badge set to the unread count the push
// brings, and a click on a notification opens that channel, in a window
// of the app already open if there is one.
//
// It caches nothing and has no fetch handler: every load of the page
// goes to the server, so a new server's client is used as soon as it
// runs, never an old copy kept here. (A classic script, not a module:
// nothing imports it, and it imports nothing.)

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

/**
 * What the server pushes (docs/API.md, "Web Push").
 * @typedef {object} Push
 * @property {string} channel
 * @property {string} channel_name
 * @property {string} message
 * @property {string} author the author's name
 * @property {string} text
 * @property {number} unread the sum of the account's unread counts
 */

/**
 * What a notification carries, for its click.
 * @typedef {{ channel: string, message: string }} Target
 */

// A new version takes over at once, and the open pages with it.
sw.addEventListener('install', () => sw.skipWaiting());
sw.addEventListener('activate', (event) => event.waitUntil(sw.clients.claim()));

sw.addEventListener('push', (event) => {
  /** @type {Push | null} */
  let push = null;
  try {
    push = event.data?.json() ?? null;
  } catch (error) {
    // Not the server's JSON: a notification all the same (the browser
    // counts a push that shows none against the site).
    console.error(error);
  }
  event.waitUntil(notify(push));
});

/**
 * Shows the push's notification and sets the badge.
 * @param {Push | null} push
 */
async function notify(push) {
  if (!push) {
    await sw.registration.showNotification('azuma', { body: 'New messages', icon: '/app/icon-192.png' });
    return;
  }
  /** @type {Target} */
  const data = { channel: push.channel, message: push.message };
  await Promise.all([
    sw.registration.showNotification(`${push.channel_name} · ${push.author}`, {
      body: push.text,
      tag: `channel-${push.channel}`,
      data,
      icon: '/app/icon-192.png',
    }),
    badge(push.unread),
  ]);
}

/**
 * The app's badge: `count`, or none at 0 (where the browser shows badges).
 * @param {number} count
 */
async function badge(count) {
  if (!('setAppBadge' in navigator)) return;
  if (count > 0) await navigator.setAppBadge(count);
  else await navigator.clearAppBadge();
}

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification.data));
});

/**
 * Opens the notification's channel: a window of the app already open is
 * told to show it (and brought forward), or a new one opens on it. A
 * top-level function, so that a test can call it in the worker.
 * @param {Target | null} data
 */
async function openFromNotification(data) {
  const channel = typeof data?.channel === 'string' ? data.channel : '';
  const link = channel ? `#/c/${channel}` : '';
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const scope = sw.registration.scope;
  const open = windows.find((client) => client.url.startsWith(scope));
  if (!open) {
    await sw.clients.openWindow(`${scope}${link}`);
    return;
  }
  if (link) open.postMessage({ type: 'open', link });
  // Focusing takes the click's permission; without one (a click that is
  // not the person's), the window still shows the channel.
  await open.focus().catch((/** @type {unknown} */ error) => console.error(error));
}
