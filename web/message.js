// One message in the log: author, time, text (as text), the "edited" mark,
// and Edit and Delete for whoever may use them.

import { call } from './api.js';
import { clock, fullDate, h } from './dom.js';

/**
 * The element for `message`; `may.edit` and `may.delete` say which actions
 * it offers, `names` turns a user id into a name.
 */
export function render(message, may, names) {
  const actions = h('div', { className: 'actions' });
  const element = h(
    'article',
    { className: may.edit ? 'msg mine' : 'msg', 'data-id': message.id, tabindex: '-1' },
    h(
      'p',
      { className: 'meta' },
      h('span', { className: 'author' }, names(message.author)),
      ' ',
      h('time', { datetime: message.created_at, title: fullDate(message.created_at) }, clock(message.created_at)),
      message.edited_at ? h('span', { className: 'edited', title: fullDate(message.edited_at) }, 'edited') : null,
    ),
    h('p', { className: 'content' }, message.content),
    actions,
  );
  if (may.edit) {
    actions.append(h('button', { type: 'button', className: 'link', onclick: () => edit(element, message) }, 'Edit'));
  }
  if (may.delete) {
    actions.append(h('button', { type: 'button', className: 'link', onclick: () => remove(element, message) }, 'Delete'));
  }
  return element;
}

async function remove(element, message) {
  try {
    await call('DELETE', `/message/${message.id}`);
    element.remove();
  } catch (failure) {
    complain(element, failure);
  }
}

/** Swaps the text for a form: Enter (or Save) saves, Escape cancels. */
function edit(element, message) {
  const content = element.querySelector('.content');
  const actions = element.querySelector('.actions');
  const box = h('textarea', { 'aria-label': 'Edit message', maxlength: '4000', rows: '2' });
  box.value = message.content;
  const done = () => {
    form.replaceWith(content);
    actions.hidden = false;
    element.querySelector('.actions button')?.focus();
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
          // The server's MessageUpdated event redraws the message.
          await call('PATCH', `/message/${message.id}`, { content: text });
        } catch (failure) {
          complain(element, failure);
        }
      },
      onkeydown: (event) => {
        if (event.key === 'Escape') done();
        else if (event.key === 'Enter' && !event.shiftKey) {
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
