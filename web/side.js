// @ts-check
// The side panel's frame: who is signed in, their status (said again
// after a reconnect, which the server forgets), Log out, and the Menu
// button that opens the panel over the room on a phone.

/** @import { User } from './api.js' */

import { ApiError, post } from './api.js';
import { find } from './dom.js';
import { report } from './notice.js';

export const PHONE = matchMedia('(max-width: 40rem)');

export class Side {
  /**
   * @param {HTMLElement} view the chat view
   * @param {User} me
   * @param {(words: string) => void} tell says a passing problem
   * @param {() => Promise<void>} logout ends the session
   * @param {() => void} away takes the focus, when it was in the panel that closes
   */
  constructor(view, me, tell, logout, away) {
    this.tell = tell;
    this.away = away;
    this.menuButton = find(view, '#menu', HTMLButtonElement);
    this.side = find(view, '#side', HTMLElement);
    this.statusMenu = find(view, '#status', HTMLSelectElement);
    this.status = 'ONLINE';
    find(view, '#me-name', HTMLElement).textContent = me.name;
    this.statusMenu.addEventListener('change', () => this.setStatus(this.statusMenu.value).catch(report));
    find(view, '#logout', HTMLButtonElement).addEventListener('click', logout);
    this.menuButton.addEventListener('click', () => this.menu(!this.menuOpen(), true));
    // Any conversation chosen closes the menu, the one already open too
    // (its link changes no address, so no route closes it).
    this.side.addEventListener('click', (event) => {
      if (event.target instanceof Element && event.target.closest('a[href^="#/c/"]')) this.menu(false);
    });
    this.side.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.menuOpen()) {
        this.menu(false);
        this.menuButton.focus();
      }
    });
  }

  /** After a reconnect: a status other than online, said again. */
  async restore() {
    if (this.status !== 'ONLINE') await this.setStatus(this.status);
  }

  /** @param {string} status */
  async setStatus(status) {
    try {
      await post('/user/status/set', { status });
      this.status = status;
    } catch (failure) {
      this.statusMenu.value = this.status;
      if (!(failure instanceof ApiError)) throw failure;
      this.tell(failure.message);
    }
  }

  menuOpen() {
    return this.menuButton.getAttribute('aria-expanded') === 'true';
  }

  /**
   * The side panel, over the room on a phone; `focus` moves into it.
   * @param {boolean} open
   */
  menu(open, focus = false) {
    const inside = !open && this.menuOpen() && this.side.contains(document.activeElement);
    this.menuButton.setAttribute('aria-expanded', String(open));
    this.side.classList.toggle('open', open);
    if (open && focus) /** @type {HTMLElement | null} */ (this.side.querySelector('a, select'))?.focus();
    if (inside && PHONE.matches) this.away();
  }
}
