// @ts-check
// One message in the log: author, time, text (as text), its files, the
// "edited" mark, and its actions (Edit, Delete, for whoever may use them) behind one "…"
// menu button.

/** @import { Message } from './api.js' */

import { ApiError, call } from './api.js';
import { clock, confirming, find, fullDate, h } from './dom.js';
import { files } from './files.js';
import { marked } from './mentions.js';
import { menu } from './menu.js';

/**
 * What a message's element offers, and where it sends what the server
 * answers.
 * @typedef {object} May
 * @property {boolean} edit whether it offers Edit
 * @property {boolean} delete whether it offers Delete
 * @property {number} maxLength the longest message the server takes
 * @property {(id: string) => string} names names a user
 * @property {string} me this account's id (a message that mentions it stands out)
 * @property {(message: Message) => void} saved takes an edited message
 * @property {(id: string) => void} deleted takes a deleted message's id
 * @property {() => void} stale a link of its files failed to load (expired, perhaps)
 */

/**
 * The element for `message`.
 * @param {Message} message
 * @param {May} may
 */
export function render(message, may) {
  const actions = h('div', { className: 'actions' });
  // Not by colour alone: a mark in words, and said in its name.
  const me = Boolean(message.mentions?.includes(may.me));
  const element = h(
    'article',
    {
      className: `msg${may.edit ? ' mine' : ''}${me ? ' mentioned' : ''}`,
      'data-id': message.id,
      tabindex: '-1',
      'aria-label': `${may.names(message.author)}, ${clock(message.created_at)}${me ? ', mentions you' : ''}`,
    },
    h(
      'p',
      { className: 'meta', 'aria-hidden': 'true' },
      h('span', { className: 'author' }, may.names(message.author)),
      h('time', { datetime: message.created_at, title: fullDate(message.created_at) }, clock(message.created_at)),
      me ? h('span', { className: 'tag' }, 'mentions you') : null,
    ),
    h('p', { className: 'content' }, ...marked(message, may.names, may.me)),
    message.attachments?.length ? files(message.attachments, may.stale) : null,
    message.edited_at ? h('p', { className: 'edited', title: fullDate(message.edited_at) }, 'edited') : null,
    actions,
  );
  // The menu's button (and the files' links and players) are reached
  // through their message (arrow keys in the log, then Tab), not as Tab
  // stops of their own between the log and the message box.
  /** @type {import('./menu.js').Entry[]} */
  const entries = [];
  if (may.edit) {
    entries.push({ item: h('button', { type: 'button', onclick: () => edit(element, message, may) }, 'Edit') });
  }
  if (may.delete) {
    const remove = h('button', { type: 'button' }, 'Delete');
    confirming(remove, () => erase(element, message, may));
    entries.push({ item: remove, keep: true });
  }
  if (entries.length) actions.append(menu('Actions', entries).root);
  element.addEventListener('focusin', () => roving(element, 0));
  element.addEventListener('focusout', (event) => {
    if (!element.contains(/** @type {Node | null} */ (event.relatedTarget))) roving(element, -1);
  });
  return element;
}

/**
 * @param {HTMLElement} element
 * @param {number} tabIndex
 */
function roving(element, tabIndex) {
  for (const control of element.querySelectorAll('.files a, .files audio, .files video, .actions [aria-haspopup]')) {
    if (control instanceof HTMLElement) control.tabIndex = tabIndex;
  }
}

/**
 * @param {HTMLElement} element
 * @param {Message} message
 * @param {May} may
 */
async function erase(element, message, may) {
  try {
    await call('DELETE', `/message/${message.id}`);
    may.deleted(message.id);
  } catch (failure) {
    complain(element, failure);
  }
}

/**
 * Swaps the text for a form: Enter (or Save) saves, Escape cancels.
 * @param {HTMLElement} element
 * @param {Message} message
 * @param {May} may
 */
function edit(element, message, may) {
  const content = find(element, '.content', HTMLElement);
  const actions = find(element, '.actions', HTMLElement);
  const box = h('textarea', { 'aria-label': 'Edit message', maxlength: may.maxLength, rows: '2' });
  box.value = message.content;
  const done = () => {
    form.replaceWith(content);
    actions.hidden = false;
    element.focus();
  };
  const form = h(
    'form',
    {
      className: 'edit',
      onsubmit: async (event) => {
        event.preventDefault();
        const text = box.value;
        if (!text.trim()) return;
        if (text === message.content) return done();
        try {
          may.saved(await call('PATCH', `/message/${message.id}`, { content: text }));
        } catch (failure) {
          complain(element, failure);
        }
      },
    },
    box,
    h('button', { type: 'submit' }, 'Save'),
    h('button', { type: 'button', className: 'secondary', onclick: done }, 'Cancel'),
  );
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') done();
    else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  content.replaceWith(form);
  actions.hidden = true;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}

/**
 * Shows the server's refusal by the message; anything else is no refusal
 * and goes on up, to the notice.
 * @param {HTMLElement} element
 * @param {unknown} failure
 */
function complain(element, failure) {
  if (!(failure instanceof ApiError)) throw failure;
  element.querySelector('.problem')?.remove();
  element.append(h('p', { className: 'problem error', role: 'alert' }, failure.message));
}
