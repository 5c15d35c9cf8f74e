// @ts-check
// "Invite someone": a new invitation (`POST /invite`, one use, for a
// while) as a link to this page, `<origin>/app/#invite=<code>`, which
// opens registration with the code filled in; and a Copy button.

import { ApiError, post } from './api.js';
import { disclosure, find, fullDate } from './dom.js';

/**
 * Wires the button and the panel it opens.
 * @param {HTMLButtonElement} toggle
 * @param {HTMLElement} panel with the link's field, Copy, a status line and an error line
 */
export function invitations(toggle, panel) {
  const link = find(panel, 'input', HTMLInputElement);
  const copy = find(panel, 'button', HTMLButtonElement);
  const note = find(panel, '[role=status]', HTMLElement);
  const error = find(panel, '.error', HTMLElement);

  const make = async () => {
    link.value = '';
    note.textContent = 'Making an invitation…';
    copy.disabled = true;
    try {
      /** @type {{ code: string, expires_at: string }} */
      const invite = await post('/invite');
      link.value = `${location.origin}/app/#invite=${encodeURIComponent(invite.code)}`;
      note.textContent = `For one person, until ${fullDate(invite.expires_at)}.`;
      copy.disabled = false;
      link.select();
    } catch (failure) {
      note.textContent = '';
      if (!(failure instanceof ApiError)) throw failure;
      error.textContent = failure.message;
    }
  };

  disclosure(toggle, panel, make);
  copy.addEventListener('click', async () => {
    link.select();
    try {
      // Not offered (an address other than https or localhost) or not
      // allowed: the link is selected, for the person to copy.
      if (!navigator.clipboard) throw new Error('no clipboard here');
      await navigator.clipboard.writeText(link.value);
      note.textContent = 'Copied.';
    } catch (failure) {
      console.error(failure);
      note.textContent = 'The link is selected: copy it with the keyboard or the menu.';
    }
  });
}
