// One message in the log: author, time, text (as text), the "edited" mark,
// and Edit and Delete for whoever may use them.

import { call } from './api.js';
import { clock, confirming, fullDate, h } from './dom.js';

/**
 * The element for `message`. `may.edit` and `may.delete` say which actions
 * it offers, `may.names(id)` names a user, and `may.saved(message)` and
 * `may.deleted(id)` take the server's answers.
 */
export function render(message, may) {
  const actions = h('div', { className: 'actions' });
  const element = h(
    'article',
    {
      className: may.edit ? 'msg mine' : 'msg',
      'data-id': message.id,
      tabindex: '-1',
      'aria-label': `${may.names(message.author)}, ${clock(message.created_at)}`,
    },
    h(
      'p',
      { className: 'meta', 'aria-hidden': 'true' },
      h('span', { className: 'author' }, may.names(message.author)),
      h('time', { datetime: message.created_at, title: fullDate(message.created_at) }, clock(message.created_at)),
    ),
    h('p', { className: 'content' }, message.content),
    message.edited_at ? h('p', { className: 'edited', title: fullDate(message.edited_at) }, 'edited') : null,
    actions,
  );
  // The buttons are reached through their message (arrow keys in the log,
  // then Tab), not one by one between the log and the message box.
  const button = (text, onclick) => h('button', { type: 'button', className: 'link', tabindex: '-1', onclick }, text);
  if (may.edit) actions.append(button('Edit', () => edit(element, message, may)));
  if (may.delete) {
    const remove = button('Delete');
    confirming(remove, () => erase(element, message, may));
    actions.append(remove);
  }
  element.addEventListener('focusin', () => roving(element, '0'));
  element.addEventListener('focusout', (event) => {
    if (!element.contains(event.relatedTarget)) roving(element, '-1');
  });
  return element;
}

function roving(element, tabindex) {
  for (const button of element.querySelectorAll('.actions button')) button.tabIndex = Number(tabindex);
}

async function erase(element, message, may) {
  try {
    await call('DELETE', `/message/${message.id}`);
    may.deleted(message.id);
  } catch (failure) {
    complain(element, failure);
  }
}

/** Swaps the text for a form: Enter (or Save) saves, Escape cancels. */
function edit(element, message, may) {
  const content = element.querySelector('.content');
  const actions = element.querySelector('.actions');
  const box = h('textarea', { 'aria-label': 'Edit message', maxlength: '4000', rows: '2' });
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
      onkeydown: (event) => {
        if (event.key === 'Escape') done();
        else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          form.requestSubmit();
        }
      },
    },
    box,
    h('button', { type: 'submit' }, 'Save'),
    h('button', { type: 'button', className: 'secondary', onclick: done }, 'Cancel'),
  );
  content.replaceWith(form);
  actions.hidden = true;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}

function complain(element, failure) {
  element.querySelector('.problem')?.remove();
  element.append(h('p', { className: 'problem error', role: 'alert' }, failure.message));
}
