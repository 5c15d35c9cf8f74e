// @ts-check
// A menu button (WAI-ARIA's pattern): one small button that opens a list
// of actions, so that a message carries one control instead of a row of
// buttons. Enter, Space or Down opens it at its first item (Up at its
// last); Up and Down (Home, End) move; Escape closes it and gives the
// focus back to the button; Tab or a click elsewhere closes it.

import { h } from './dom.js';

/**
 * An action of the menu: its name, and what it does when chosen. `keep`
 * makes it stay open when chosen (an item that asks once more first).
 * @typedef {{ item: HTMLButtonElement, keep?: boolean }} Entry
 */

/**
 * The menu: a wrapper holding the button (`label`, shown as "…") and the
 * items, hidden until opened.
 * @param {string} label the button's accessible name
 * @param {Entry[]} entries
 * @returns {{ root: HTMLElement, button: HTMLButtonElement }}
 */
export function menu(label, entries) {
  const list = h('div', { role: 'menu', className: 'popup', 'aria-label': label });
  list.hidden = true;
  const button = h('button', {
    type: 'button',
    className: 'link more',
    'aria-label': label,
    'aria-haspopup': 'menu',
    'aria-expanded': 'false',
    tabindex: '-1',
  });
  button.append(h('span', { 'aria-hidden': 'true' }, '…'));
  const root = h('div', { className: 'menu-root' }, button, list);
  /** @type {HTMLButtonElement[]} */
  const items = [];
  for (const { item, keep } of entries) {
    item.setAttribute('role', 'menuitem');
    item.tabIndex = -1;
    item.classList.add('link');
    if (!keep) item.addEventListener('click', () => close(false));
    list.append(item);
    items.push(item);
  }

  /** @param {PointerEvent} event */
  const outside = (event) => {
    if (!root.contains(/** @type {Node | null} */ (event.target))) close(false);
  };

  /** @param {number} at which item gets the focus (-1: the last) */
  const open = (at) => {
    list.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    // Opens upwards where there is no room below (the end of the log).
    list.classList.remove('up');
    const box = root.closest('.log')?.getBoundingClientRect();
    if (box && list.getBoundingClientRect().bottom > box.bottom) list.classList.add('up');
    document.addEventListener('pointerdown', outside, true);
    items.at(at)?.focus();
  };

  /** @param {boolean} refocus */
  const close = (refocus) => {
    if (list.hidden) return;
    list.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (refocus) button.focus();
  };

  button.addEventListener('click', () => (list.hidden ? open(0) : close(true)));
  button.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    event.stopPropagation();
    open(event.key === 'ArrowDown' ? 0 : -1);
  });
  list.addEventListener('keydown', (event) => {
    const here = items.findIndex((item) => item === document.activeElement);
    /** @type {Record<string, number>} */
    const moves = { ArrowUp: here - 1, ArrowDown: here + 1, Home: 0, End: items.length - 1 };
    if (event.key in moves) {
      items[(moves[event.key] + items.length) % items.length]?.focus();
    } else if (event.key === 'Escape') {
      close(true);
    } else if (event.key === 'Tab') {
      close(false);
      return;
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  });
  root.addEventListener('focusout', (event) => {
    if (!root.contains(/** @type {Node | null} */ (event.relatedTarget))) close(false);
  });
  return { root, button };
}
