// @ts-check
// Writing: the message box (Enter sends, Shift+Enter breaks the line), the
// files that go with a message (Attach, a paste, or a drop on the room;
// uploaded at once, each conversation its own), the Typing frames it sends
// while someone writes, and the line that says who else is typing in the
// open channel.

/** @import { Channel, Message } from './api.js' */
/** @import { Limits } from './limits.js' */
/** @import { Socket } from './socket.js' */
/** @import { Users } from './users.js' */

import { ApiError, post } from './api.js';
import { bytes, find } from './dom.js';
import { Mentions } from './mentions.js';
import { report } from './notice.js';
import { Tray } from './uploads.js';

/** How long an indicator stays without a new Typing frame. */
const TYPING_SHOWN_MS = 5000;
/** A Typing that reaches us this soon after its sender's message was sent
 * before it (typing goes by websocket, the message by the writer). */
const LATE_TYPING_MS = 1000;

export class Composer {
  /**
   * @param {HTMLFormElement} form the message box's form
   * @param {HTMLElement} zone where files may be dropped (the room)
   * @param {HTMLElement} line where others' typing shows
   * @param {Limits} limits
   * @param {() => Socket | undefined} socket the live connection
   * @param {Users} users
   * @param {(message: Message) => void} sent gets each sent message
   */
  constructor(form, zone, line, limits, socket, users, sent) {
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
    /** When each person's last message came (ms): a Typing heard just
     * after it is the one before it, late. @type {Map<string, number>} */
    this.spoke = new Map();
    /** @type {Map<string, string>} */
    this.drafts = new Map();
    /**
     * Each conversation's files for its next message.
     * @type {Map<string, Tray>}
     */
    this.trays = new Map();
    /** @type {Tray | null} */
    this.tray = null;
    this.limits = limits;
    // The server relays one Typing per user and channel every interval,
    // timed by arrival: a little more here, so that a frame delayed on
    // its way cannot make the next one arrive early and be dropped.
    this.typingEvery = limits.typingMs * 1.1;
    this.form = form;
    this.line = line;
    this.box = find(form, 'textarea', HTMLTextAreaElement);
    this.box.maxLength = limits.content;
    this.button = find(form, 'button[type=submit]', HTMLButtonElement);
    this.attachButton = find(form, '#attach', HTMLButtonElement);
    this.picker = find(form, 'input[type=file]', HTMLInputElement);
    this.error = find(form, '.error', HTMLElement);
    this.attachButton.addEventListener('click', () => this.picker.click());
    this.picker.addEventListener('change', () => {
      this.attach([...(this.picker.files ?? [])]);
      // The same file may be chosen again.
      this.picker.value = '';
    });
    this.box.addEventListener('paste', (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (!files.length) return;
      event.preventDefault();
      this.attach(files);
    });
    this.dropping(zone);
    // Before the box's own keys: Enter in its list inserts a name.
    this.mentions = new Mentions(this.box, users, limits.userName);
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
    this.tray?.list.remove();
    this.tray = channel ? this.trayOf(channel.id) : null;
    if (this.tray) this.form.prepend(this.tray.list);
    this.mentions.close();
    this.lastTyping = 0;
    if (this.typingLater) clearTimeout(this.typingLater);
    this.typingLater = null;
    this.error.textContent = '';
    this.box.disabled = !channel;
    this.button.disabled = !channel;
    this.attachButton.disabled = !channel;
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
    const tray = this.tray;
    if (!channel || !tray) return;
    if (tray.busy) {
      this.error.textContent = 'Wait for the files to finish uploading (or cancel them), then send.';
      return;
    }
    const files = tray.ready();
    if (!content.trim() && !files.length) return;
    /** @type {{ channel: string, content: string, attachments?: string[] }} */
    const body = { channel: channel.id, content: content.trim() ? content : '' };
    if (files.length) body.attachments = files.map((pending) => pending.attachment?.id ?? '');
    for (const pending of files) pending.sending = true;
    this.box.value = '';
    this.error.textContent = '';
    try {
      this.sent(await post('/message/send', body));
      tray.settle(files, true);
    } catch (failure) {
      // Nothing is lost: the text goes back in the box, the files stay.
      tray.settle(files, false);
      if (!this.box.value) this.box.value = content;
      if (!(failure instanceof ApiError)) throw failure;
      this.error.textContent = failure.message;
    }
  }

  /**
   * The files of conversation `id`'s next message.
   * @param {string} id
   */
  trayOf(id) {
    let tray = this.trays.get(id);
    if (!tray) {
      tray = new Tray(
        (failure, file) => this.failed(failure, file),
        () => this.box.focus(),
      );
      this.trays.set(id, tray);
    }
    return tray;
  }

  /**
   * Files to go with the next message: uploaded now, unless over the
   * server's limits, which are said at once, before anything is sent.
   * @param {File[]} files
   */
  attach(files) {
    const tray = this.tray;
    if (!tray || !files.length) return;
    /** @type {string[]} */
    const refused = [];
    for (const file of files) {
      if (tray.count >= this.limits.attachments) {
        refused.push(`At most ${this.limits.attachments} files go with one message.`);
        break;
      }
      if (file.size > this.limits.upload) {
        refused.push(`${file.name} is ${bytes(file.size)}: files are limited to ${bytes(this.limits.upload)}.`);
        continue;
      }
      tray.add(file);
    }
    this.error.textContent = refused.join(' ');
  }

  /**
   * An upload failed: the server's words by the message box; anything
   * else is no refusal, and goes to the notice.
   * @param {unknown} failure
   * @param {File} file
   */
  failed(failure, file) {
    if (!(failure instanceof ApiError)) return report(failure);
    this.error.textContent = `${file.name} was not uploaded: ${failure.message}`;
  }

  /**
   * Files dropped on `zone` go with the next message; dropped anywhere
   * else on the page, they do nothing (the browser would leave the page
   * to show them).
   * @param {HTMLElement} zone
   */
  dropping(zone) {
    /** @param {DragEvent} event */
    const files = (event) => event.dataTransfer?.types.includes('Files') ?? false;
    /** @param {DragEvent} event */
    const here = (event) => Boolean(this.tray) && !this.form.hidden && event.target instanceof Node && zone.contains(event.target);
    document.addEventListener('dragover', (event) => {
      if (!files(event) || !event.dataTransfer) return;
      event.preventDefault();
      const over = here(event);
      event.dataTransfer.dropEffect = over ? 'copy' : 'none';
      zone.classList.toggle('dropping', over);
    });
    document.addEventListener('dragleave', (event) => {
      // Out of the window.
      if (event.relatedTarget === null) zone.classList.remove('dropping');
    });
    document.addEventListener('drop', (event) => {
      if (!files(event)) return;
      event.preventDefault();
      zone.classList.remove('dropping');
      if (here(event)) this.attach([...(event.dataTransfer?.files ?? [])]);
    });
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
    const heard = Date.now();
    await this.users.get(user);
    if (heard - (this.spoke.get(user) ?? -Infinity) < LATE_TYPING_MS) return;
    clearTimeout(this.typists.get(user));
    this.typists.set(user, setTimeout(() => this.stopped(user), TYPING_SHOWN_MS));
    this.showTypists();
  }

  /**
   * `user` stopped typing (or sent their message).
   * @param {string} user
   */
  stopped(user) {
    this.spoke.set(user, Date.now());
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
