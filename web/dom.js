// Building the page: every text goes in as text (a text node), never as
// HTML, so what people type can never become markup or script.

/** An element with attributes (`on*` functions become listeners) and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'className') element.className = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

/** The element with this id. */
export const byId = (id) => document.getElementById(id);

/** A clock time for a timestamp, and its full date for a tooltip. */
export function clock(timestamp) {
  const date = new Date(timestamp);
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const today = new Date().toDateString() === date.toDateString();
  return today ? time : `${date.toLocaleDateString()} ${time}`;
}

let scope = new AbortController();

/** Listens until `forgetListeners()`: a signed-in page's wiring ends with its session. */
export function on(target, type, handler, options = {}) {
  target.addEventListener(type, handler, { ...options, signal: scope.signal });
}

export function forgetListeners() {
  scope.abort();
  scope = new AbortController();
}
