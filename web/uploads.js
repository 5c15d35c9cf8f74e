// @ts-check
// The files that go with the next message of one conversation, in the list
// above its message box: each one uploading (its progress bar, and Cancel)
// or uploaded (Remove). A file is uploaded as soon as it is chosen, so that
// Send only has to name it.

/** @import { Attachment } from './api.js' */

import { upload } from './api.js';
import { bytes, h } from './dom.js';

/**
 * @typedef {object} Pending
 * @property {File} file
 * @property {HTMLLIElement} item its line in the list
 * @property {Attachment | null} attachment what the server stored, once uploaded
 * @property {boolean} sending whether a message on its way names it
 * @property {() => void} abort cancels the upload
 */

export class Tray {
  /**
   * @param {(failure: unknown, file: File) => void} failed gets an upload's failure
   * @param {() => void} left the focus was on a line that went away
   */
  constructor(failed, left) {
    this.failed = failed;
    this.left = left;
    this.list = h('ul', { className: 'uploads', 'aria-label': 'Files to send' });
    this.list.hidden = true;
    /** @type {Set<Pending>} */
    this.pending = new Set();
  }

  /** How many files it holds. */
  get count() {
    return this.pending.size;
  }

  /** Whether a file is still uploading. */
  get busy() {
    return [...this.pending].some((pending) => !pending.attachment);
  }

  /** The uploaded files that no message on its way names yet. */
  ready() {
    return [...this.pending].filter((pending) => pending.attachment && !pending.sending);
  }

  /**
   * Starts uploading `file`.
   * @param {File} file
   */
  add(file) {
    const progress = h('progress', { max: '1', value: '0', 'aria-label': `Uploading ${file.name}` });
    const state = h('span', { className: 'state', role: 'status' });
    const button = h('button', { type: 'button', className: 'link', 'aria-label': `Cancel ${file.name}` }, 'Cancel');
    const item = h(
      'li',
      {},
      h('span', { className: 'file-name' }, file.name),
      h('span', { className: 'size' }, bytes(file.size)),
      progress,
      state,
      button,
    );
    const { done, abort } = upload(file, (sent, total) => {
      progress.value = total ? sent / total : 0;
    });
    /** @type {Pending} */
    const pending = { file, item, attachment: null, sending: false, abort };
    this.pending.add(pending);
    button.addEventListener('click', () => this.remove(pending));
    this.list.append(item);
    this.list.hidden = false;
    done.then(
      (attachment) => {
        if (!this.pending.has(pending)) return;
        pending.attachment = attachment;
        progress.remove();
        state.textContent = 'Ready';
        button.textContent = 'Remove';
        button.setAttribute('aria-label', `Remove ${file.name}`);
        item.classList.add('done');
      },
      (failure) => {
        // Cancelled: nothing to say.
        if (!this.pending.has(pending)) return;
        this.remove(pending);
        this.failed(failure, file);
      },
    );
  }

  /**
   * Takes a file off the list, cancelling its upload if it runs (an
   * upload no message names is deleted by the server within a day).
   * @param {Pending} pending
   */
  remove(pending) {
    const focused = pending.item.contains(document.activeElement);
    this.pending.delete(pending);
    pending.abort();
    pending.item.remove();
    this.list.hidden = this.pending.size === 0;
    if (focused) this.left();
  }

  /**
   * `sent` go (or, after a failure, come back to be sent again).
   * @param {Pending[]} sent
   * @param {boolean} gone whether the message went
   */
  settle(sent, gone) {
    for (const pending of sent) {
      pending.sending = false;
      if (gone) this.remove(pending);
    }
  }
}
