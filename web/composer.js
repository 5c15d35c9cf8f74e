// Writing: the message box (Enter sends, Shift+Enter breaks the line), the
// Typing frames it sends while someone writes, and the line that says who
// else is typing in the open channel.

import { post } from './api.js';
import { byId } from './dom.js';

/**
 * The server relays one Typing per user and channel every 3 s, timed by
 * arrival: a little more here, so that a frame delayed on its way cannot
 * make the next one arrive early and be dropped.
 */
const TYPING_EVERY_MS = 3300;
/** How long an indicator stays without a new Typing frame. */
const TYPING_SHOWN_MS = 5000;

export class Composer {
  /** `socket()` is the live connection; `sent(message)` gets each sent message. */
  constructor(socket, users, sent) {
    this.socket = socket;
    this.users = users;
    this.sent = sent;
    this.channel = null;
    this.lastTyping = 0;
    this.typists = new Map();
    this.drafts = new Map();
    this.box = byId('message');
    this.form = byId('composer');
    this.error = byId('composer-error');
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

  /** Writing now goes to `channel` (or nowhere, when null); each channel keeps its draft. */
  open(channel) {
    if (this.channel) this.drafts.set(this.channel.id, this.box.value);
    this.box.value = (channel && this.drafts.get(channel.id)) ?? '';
    this.channel = channel;
    this.lastTyping = 0;
    clearTimeout(this.typingLater);
    this.typingLater = null;
    this.error.textContent = '';
    this.box.disabled = !channel;
    this.form.querySelector('button').disabled = !channel;
    this.box.placeholder = channel ? `Message ${channel.name}` : 'Message';
    for (const timer of this.typists.values()) clearTimeout(timer);
    this.typists.clear();
    this.showTypists();
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
      this.error.textContent = failure.message;
    }
  }

  /**
   * Says "typing" at most every 3 s; typing within that window says it
   * once the window ends, if there is still text in the box.
   */
  typing() {
    const wait = this.lastTyping + TYPING_EVERY_MS - Date.now();
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

  /** Someone else is typing in `channel`. */
  async someoneTyping(user, channel) {
    if (channel !== this.channel?.id) return;
    await this.users.get(user);
    clearTimeout(this.typists.get(user));
    this.typists.set(user, setTimeout(() => this.stopped(user), TYPING_SHOWN_MS));
    this.showTypists();
  }

  /** `user` stopped typing (or sent their message). */
  stopped(user) {
    clearTimeout(this.typists.get(user));
    if (this.typists.delete(user)) this.showTypists();
  }

  showTypists() {
    const names = [...this.typists.keys()].map((id) => this.users.name(id));
    byId('typing').textContent =
      names.length === 0
        ? ''
        : names.length === 1
          ? `${names[0]} is typing`
          : names.length === 2
            ? `${names[0]} and ${names[1]} are typing`
            : 'Several people are typing';
  }
}
