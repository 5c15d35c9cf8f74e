// Search across every channel: results newest first, more on request, and
// each result a link to its message in its channel.

import { get } from './api.js';
import { byId, clock, h } from './dom.js';

const PAGE = 50;

export class Search {
  /**
   * `channelName(id)` names a channel; `showing(open, title)` swaps the log
   * for the results; `go(link)` opens a result's link.
   */
  constructor(users, channelName, showing, go) {
    this.users = users;
    this.go = go;
    this.query = null;
    this.runs = 0;
    this.channelName = channelName;
    this.showing = showing;
    this.input = byId('search');
    byId('search-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.run(this.input.value.trim());
    });
    byId('close-search').addEventListener('click', () => this.close());
    byId('results').addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close();
    });
  }

  async run(query, before) {
    if (!query) return;
    // Only the newest search (or page of it) draws.
    const run = ++this.runs;
    const summary = byId('results-summary');
    const list = byId('result-list');
    if (!before) {
      this.query = query;
      list.replaceChildren();
      summary.textContent = 'Searching…';
      this.showing(true, `Search: ${query}`);
    }
    byId('more-results')?.remove();
    let found;
    try {
      const cursor = before ? `&before=${before}` : '';
      found = await get(`/message/search?q=${encodeURIComponent(query)}&limit=${PAGE}${cursor}`);
    } catch (failure) {
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
      list.after(
        h('button', { id: 'more-results', type: 'button', className: 'secondary', onclick: () => this.run(query, last) }, 'More results'),
      );
    }
  }

  result(message) {
    return h(
      'li',
      {},
      h(
        'a',
        {
          href: `#/c/${message.channel}/m/${message.id}`,
          className: 'result',
          onclick: (event) => {
            event.preventDefault();
            this.close();
            this.go(event.currentTarget.getAttribute('href'));
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
      ),
    );
  }

  close() {
    if (this.query === null) return;
    const focused = byId('results').contains(document.activeElement) || document.activeElement === byId('close-search');
    this.query = null;
    this.runs += 1;
    byId('more-results')?.remove();
    this.showing(false);
    if (focused) byId('log').focus();
  }
}
