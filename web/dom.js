// @ts-check
// Building the page: every text goes in as text (a text node), never as
// HTML, so what people type can never become markup or script.

/** @typedef {string | number | boolean | null | undefined | ((event: Event) => unknown)} Attribute */

/**
 * An element with attributes (`on*` functions become listeners) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, Attribute>} [attributes]
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'className') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

/**
 * The element that `selector` finds in `root`, which must be a `type`:
 * each part of the page finds its own elements in the root it is given.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {{ new (): T, name: string }} type
 * @returns {T}
 */
export function find(root, selector, type) {
  const found = root.querySelector(selector);
  if (!(found instanceof type)) throw new Error(`The page has no ${type.name} ${selector}`);
  return found;
}

// Formatters are costly to make: one of each, made once.
const TIME = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
const DAY_TIME = new Intl.DateTimeFormat([], { dateStyle: 'short', timeStyle: 'short' });
const FULL = new Intl.DateTimeFormat([], { dateStyle: 'full', timeStyle: 'medium' });

/**
 * A clock time for a timestamp (with the date, if not today's).
 * @param {string} timestamp
 */
export function clock(timestamp) {
  const date = new Date(timestamp);
  const today = new Date().toDateString() === date.toDateString();
  return (today ? TIME : DAY_TIME).format(date);
}

/**
 * A timestamp in full, for a tooltip.
 * @param {string} timestamp
 */
export const fullDate = (timestamp) => FULL.format(new Date(timestamp));

/**
 * Makes `button` ask once more before `action`: the first click turns it
 * into "Really delete?" (or `question`) for 5 s, a second one within them acts. Returns
 * what takes the question back (when what it would delete changes).
 * @param {HTMLButtonElement} button
 * @param {() => unknown} action
 * @param {string} [question] what the button asks
 * @returns {() => void}
 */
export function confirming(button, action, question = 'Really delete?') {
  const label = button.textContent;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  const disarm = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    button.classList.remove('armed');
    button.textContent = label;
  };
  button.addEventListener('click', () => {
    if (timer !== null) {
      disarm();
      return action();
    }
    button.classList.add('armed');
    button.textContent = question;
    timer = setTimeout(disarm, 5000);
  });
  return disarm;
}

/**
 * Makes `toggle` show and hide `panel` (its `aria-expanded` saying which);
 * Escape in the panel hides it and gives the focus back to the toggle.
 * `opened` runs each time it opens. Returns what shows (or hides) it.
 * @param {HTMLButtonElement} toggle
 * @param {HTMLElement} panel
 * @param {() => unknown} opened
 * @returns {(open: boolean) => void}
 */
export function disclosure(toggle, panel, opened) {
  /** @param {boolean} open */
  const show = (open) => {
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    for (const error of panel.querySelectorAll('.error')) error.textContent = '';
    if (open) opened();
  };
  toggle.addEventListener('click', () => show(panel.hidden !== false));
  panel.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    // Handled here: the side panel does not close too.
    event.stopPropagation();
    show(false);
    toggle.focus();
  });
  return show;
}

/**
 * A size in bytes as people read it: "512 bytes", "12.3 KB", "4.5 MB"
 * (of 1024, as browsers' download lists count).
 * @param {number} bytes
 */
export function bytes(bytes) {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = value < 10 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
  return `${shown} ${units[unit]}`;
}
