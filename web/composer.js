// @ts-check
// Writing: the message box (Enter sends, Shift+Enter breaks the line), the
// Typing frames it sends while someone writes, and the line that says who
// else is typing in the open channel.

/** @import { Channel, Message } from './api.js' */
/** @import { Limits } from './limits.js' */
/** @import { Socket } from './socket.js' */
/** @import { Users } from './users.js' */

import { ApiError, post } from './api.js';
import { find } from './dom.js';

/** How long an indicator stays without a new Typing frame. */
const TYPING_SHOWN_MS = 5000;

export class Composer {
  /**
   * @param {HTMLFormElement} form the message box's form
   * @param {HTMLElement} line where others' typing shows
   * @param {Limits} limits
   * @param {() => Socket | undefined} socket the live connection
   * @param {Users} users
   * @param {(message: Message) => void} sent gets each sent message
   */
  constructor(form, line, limits, socket, users, sent) {
    this.socket = socket;
    this.users = users;
    this.sent = sent;
    /** @type {Channel | null} */
    this.channel = null;
    this.lastTyping = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.typingLater = null;
    /** @type {Map<string, ReturnType<typeof setTimeout>>} */
    this.typists = new Map();
    /** @type {Map<string, string>} */
    this.drafts = new Map();
    // The server relays one Typing per user and channel every interval,
    // timed by arrival: a little more here, so that a frame delayed on
    // its way cannot make the next one arrive early and be dropped.
    this.typingEvery = limits.typingMs * 1.1;
    this.form = form;
    this.line = line;
    this.box = find(form, 'textarea', HTMLTextAreaElement);
    this.box.maxLength = limits.content;
    this.button = find(form, 'button', HTMLButtonElement);
    this.error = find(form, '.error', HTMLElement);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    this.box.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.box.addEventListener('input', () => this.typing());
  }

  /**
   * Writing now goes to `channel` (or nowhere, when null), called `title`;
   * each channel keeps its draft.
   * @param {Channel | null} channel
   * @param {string} title
   */
  open(channel, title) {
    if (this.channel) this.drafts.set(this.channel.id, this.box.value);
    this.box.value = (channel && this.drafts.get(channel.id)) ?? '';
    this.channel = channel;
    this.lastTyping = 0;
    if (this.typingLater) clearTimeout(this.typingLater);
    this.typingLater = null;
    this.error.textContent = '';
    this.box.disabled = !channel;
    this.button.disabled = !channel;
    this.box.placeholder = channel ? `Message ${title}` : 'Message';
    for (const timer of this.typists.values()) clearTimeout(timer);
    this.typists.clear();
    this.showTypists();
  }

  /**
   * The box and the typing line shown, or not (search results in their place).
   * @param {boolean} shown
   */
  show(shown) {
    this.form.hidden = !shown;
    this.line.hidden = !shown;
  }

  focus() {
    this.box.focus();
  }

  async send() {
    const content = this.box.value;
    const channel = this.channel;
    if (!channel || !content.trim()) return;
    this.box.value = '';
    this.error.textContent = '';
    try {
      this.sent(await post('/message/send', { channel: channel.id, content }));
    } catch (failure) {
      // Nothing is lost: the text goes back in the box.
      if (!this.box.value) this.box.value = content;
      if (!(failure instanceof ApiError)) throw failure;
      this.error.textContent = failure.message;
    }
  }

  /**
   * Says "typing" at most every interval; typing within it says it once
   * it ends, if there is still text in the box.
   */
  typing() {
    const wait = this.lastTyping + this.typingEvery - Date.now();
    if (!this.channel || !this.box.value || this.typingLater) return;
    if (wait > 0) {
      this.typingLater = setTimeout(() => {
        this.typingLater = null;
        this.typing();
      }, wait);
      return;
    }
    if (this.socket()?.send('Typing', { channel: this.channel.id })) this.lastTyping = Date.now();
  }

  /**
   * Someone else is typing in `channel`.
   * @param {string} user
   * @param {string} channel
   */
  async someoneTyping(user, channel) {
    if (channel !== this.channel?.id) return;
    await this.users.get(user);
    clearTimeout(this.typists.get(user));
    this.typists.set(user, setTimeout(() => this.stopped(user), TYPING_SHOWN_MS));
    this.showTypists();
  }

  /**
   * `user` stopped typing (or sent their message).
   * @param {string} user
   */
  stopped(user) {
    clearTimeout(this.typists.get(user));
    if (this.typists.delete(user)) this.showTypists();
  }

  showTypists() {
    const names = [...this.typists.keys()].map((id) => this.users.name(id));
    this.line.textContent =
      names.length === 0
        ? ''
        : names.length === 1
          ? `${names[0]} is typing`
          : names.length === 2
            ? `${names[0]} and ${names[1]} are typing`
            : 'Several people are typing';
  }
}
