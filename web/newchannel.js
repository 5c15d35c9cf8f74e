// @ts-check
// Starting a conversation: "New channel" (public, or private with the
// members picked) and "New message" (a direct conversation with the
// people picked, started or, if it exists, reopened).

/** @import { Channel, User } from './api.js' */
/** @import { Channels } from './channels.js' */
/** @import { Limits } from './limits.js' */
/** @import { Users } from './users.js' */

import { ApiError, post } from './api.js';
import { disclosure, find } from './dom.js';
import { Picker } from './picker.js';

/**
 * What both forms need.
 * @typedef {object} Context
 * @property {Channels} channels
 * @property {Users} users
 * @property {User} me
 * @property {Limits} limits
 * @property {(link: string) => unknown} go opens a link of the page
 */

/**
 * "New channel": a name, public or private, and a private one's members.
 * @param {HTMLElement} nav the channels' part of the page
 * @param {Context} context
 */
export function newChannel(nav, context) {
  const toggle = find(nav, 'button[aria-controls]', HTMLButtonElement);
  const form = find(nav, 'form', HTMLFormElement);
  const input = find(form, '#channel-name', HTMLInputElement);
  const error = find(form, '.error', HTMLElement);
  const pickerRoot = find(form, '.picker', HTMLElement);
  const picker = new Picker(
    pickerRoot,
    'Find members',
    context.users,
    context.limits.userName,
    () => new Set([context.me.id]),
    context.limits.members,
  );
  input.maxLength = context.limits.channelName;
  const private_ = () => find(form, 'input[name=kind]:checked', HTMLInputElement).value === 'private';
  const show = disclosure(toggle, form, () => {
    form.reset();
    pickerRoot.hidden = true;
    input.focus();
  });
  form.addEventListener('change', (event) => {
    if (!(event.target instanceof HTMLInputElement) || event.target.name !== 'kind') return;
    pickerRoot.hidden = !private_();
    if (!pickerRoot.hidden) picker.reset();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) return;
    // A public channel is asked for as before this server knew of kinds.
    const body = private_() ? { name, kind: 'private', members: picker.ids } : { name };
    try {
      await opened(context, await post('/channel', body));
      show(false);
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      error.textContent = failure.message;
    }
  });
}

/**
 * "New message": the people to write to, then the conversation with them.
 * @param {HTMLElement} nav the direct conversations' part of the page
 * @param {Context} context
 */
export function newDirect(nav, context) {
  const toggle = find(nav, 'button[aria-controls]', HTMLButtonElement);
  const form = find(nav, 'form', HTMLFormElement);
  const error = find(form, '.error', HTMLElement);
  const picker = new Picker(
    find(form, '.picker', HTMLElement),
    'Find people',
    context.users,
    context.limits.userName,
    () => new Set([context.me.id]),
    context.limits.direct,
  );
  const show = disclosure(toggle, form, () => {
    picker.focus();
    return picker.reset();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!picker.ids.length) {
      error.textContent = 'Choose someone to write to.';
      return;
    }
    try {
      await opened(context, await post('/direct', { users: picker.ids }));
      show(false);
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      error.textContent = failure.message;
    }
  });
}

/**
 * A channel made (or found): listed, and opened.
 * @param {Context} context
 * @param {Channel} channel
 */
async function opened(context, channel) {
  await context.channels.added(channel);
  await context.go(`#/c/${channel.id}`);
}
