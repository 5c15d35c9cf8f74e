// @ts-check
// Search across every channel: results newest first, more on request, and
// each result a link to its message in its channel.

/** @import { Message } from './api.js' */
/** @import { Limits } from './limits.js' */
/** @import { Users } from './users.js' */

import { ApiError, get } from './api.js';
import { clock, find, h } from './dom.js';

const PAGE = 50;

/**
 * The search's elements: the search box's form, the results' section and
 * the button that closes them.
 * @typedef {{ form: HTMLFormElement, results: HTMLElement, close: HTMLButtonElement }} Parts
 */

export class Search {
  /**
   * @param {Parts} parts
   * @param {Limits} limits
   * @param {Users} users
   * @param {(id: string) => string} channelName names a channel
   * @param {(open: boolean, title: string, refocus: boolean) => void} showing
   *   swaps the room for the results (`open`) or back (`refocus`: the
   *   focus was in the results, and goes back to the room)
   * @param {(link: string) => void} go opens a result's link
   */
  constructor(parts, limits, users, channelName, showing, go) {
    this.users = users;
    this.go = go;
    /** @type {string | null} */
    this.query = null;
    this.runs = 0;
    this.channelName = channelName;
    this.showing = showing;
    this.results = parts.results;
    this.closeButton = parts.close;
    this.input = find(parts.form, 'input', HTMLInputElement);
    this.input.maxLength = limits.query;
    this.summary = find(parts.results, '[role=status]', HTMLElement);
    this.list = find(parts.results, 'ul', HTMLUListElement);
    /** @type {HTMLButtonElement | null} */
    this.more = null;
    parts.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.run(this.input.value.trim());
    });
    this.closeButton.addEventListener('click', () => this.close());
    this.results.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close();
    });
  }

  /**
   * Shows the results for `query` (the next page after message `before`).
   * @param {string} query
   * @param {string} [before]
   */
  async run(query, before) {
    if (!query) return;
    // Only the newest search (or page of it) draws.
    const run = ++this.runs;
    const summary = this.summary;
    const list = this.list;
    if (!before) {
      this.query = query;
      list.replaceChildren();
      summary.textContent = 'Searching…';
      this.open(true);
      this.showing(true, `Search: ${query}`, false);
    }
    this.more?.remove();
    /** @type {Message[]} */
    let found;
    try {
      const cursor = before ? `&before=${before}` : '';
      found = await get(`/message/search?q=${encodeURIComponent(query)}&limit=${PAGE}${cursor}`);
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      if (run === this.runs) summary.textContent = failure.message;
      return;
    }
    if (run !== this.runs) return;
    await this.users.load(found.map((message) => message.author));
    if (run !== this.runs) return;
    list.append(...found.map((message) => this.result(message)));
    const count = list.children.length;
    summary.textContent =
      count === 0 ? 'Nothing found.' : `${count}${found.length === PAGE ? '+' : ''} found.`;
    if (found.length === PAGE) {
      const last = found[found.length - 1].id;
      this.more = h('button', { type: 'button', className: 'secondary', onclick: () => this.run(query, last) }, 'More results');
      list.after(this.more);
    }
  }

  /** @param {Message} message */
  result(message) {
    const link = `#/c/${message.channel}/m/${message.id}`;
    return h(
      'li',
      {},
      h(
        'a',
        {
          href: link,
          className: 'result',
          onclick: (event) => {
            event.preventDefault();
            this.close();
            this.go(link);
          },
        },
        h(
          'span',
          { className: 'meta' },
          h('span', { className: 'where' }, this.channelName(message.channel)),
          ' · ',
          h('span', { className: 'author' }, this.users.name(message.author)),
          ' · ',
          h('time', { datetime: message.created_at }, clock(message.created_at)),
        ),
        h('span', { className: 'content' }, message.content),
        message.attachments?.length
          ? h('span', { className: 'result-files' }, message.attachments.map((file) => file.name).join(', '))
          : null,
      ),
    );
  }

  /** @param {boolean} open */
  open(open) {
    this.results.hidden = !open;
    this.closeButton.hidden = !open;
  }

  close() {
    if (this.query === null) return;
    const focused = this.results.contains(document.activeElement) || document.activeElement === this.closeButton;
    this.query = null;
    this.runs += 1;
    this.more?.remove();
    this.more = null;
    this.open(false);
    this.showing(false, '', focused);
  }
}
