// @ts-check
// A message's files in the log: an image as its thumbnail, its box
// reserved from its size so that the log does not jump as it loads, which
// opens the full image in a viewer; audio and video playable; anything
// else a download link with its name and size. Every address is a signed
// link (no token in a URL); one that fails to load (expired: 403) asks for
// the message again, for fresh links.

/** @import { Attachment } from './api.js' */

import { bytes, h } from './dom.js';

/** The box a thumbnail shows in, at most, in CSS pixels. */
const BOX = 320;

/**
 * The list of `attachments`; `stale` is called when a link fails to load.
 * Its links and players are no Tab stops of their own until the message
 * has the focus (as its actions button).
 * @param {Attachment[]} attachments
 * @param {() => void} stale
 */
export function files(attachments, stale) {
  return h(
    'ul',
    { className: 'files', 'aria-label': 'Attachments' },
    ...attachments.map((attachment) => h('li', {}, file(attachment, stale))),
  );
}

/**
 * @param {Attachment} attachment
 * @param {() => void} stale
 * @returns {HTMLElement}
 */
function file(attachment, stale) {
  const { name, type, url, width, height, thumbnail_url: thumbnail } = attachment;
  if (thumbnail && width && height) {
    // The thumbnail's box: the image's shape, at most BOX on its longest side.
    const scale = Math.min(1, BOX / Math.max(width, height));
    const link = h(
      'a',
      {
        href: url,
        className: 'thumb',
        target: '_blank',
        rel: 'noopener noreferrer',
        tabindex: '-1',
        title: `${name}, ${bytes(attachment.size)}`,
        onclick: (event) => {
          // A new tab, or a download, when asked for with a modifier key.
          if (!(event instanceof MouseEvent) || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
          event.preventDefault();
          view(attachment, link, stale);
        },
      },
      h('img', {
        src: thumbnail,
        alt: name,
        width: Math.max(1, Math.round(width * scale)),
        height: Math.max(1, Math.round(height * scale)),
        loading: 'lazy',
        decoding: 'async',
        onerror: stale,
      }),
    );
    return link;
  }
  const kind = type.split('/')[0];
  if (kind === 'audio' || kind === 'video') {
    const player = h(kind, { src: url, controls: true, preload: 'metadata', tabindex: '-1', 'aria-label': name, onerror: stale });
    return h('figure', { className: `player ${kind}` }, player, h('figcaption', {}, download(attachment)));
  }
  return download(attachment);
}

/**
 * A link that downloads the file, with its name and size.
 * @param {Attachment} attachment
 */
function download(attachment) {
  return h(
    'a',
    { href: attachment.url, download: attachment.name, className: 'file', tabindex: '-1' },
    h('span', { className: 'file-name' }, attachment.name),
    ' ',
    h('span', { className: 'size' }, bytes(attachment.size)),
  );
}

/**
 * The full image, in a modal dialog over the page: Escape, Close or a
 * click beside the image closes it, and the focus goes back to `opener`.
 * @param {Attachment} attachment
 * @param {HTMLElement} opener
 * @param {() => void} stale
 */
function view(attachment, opener, stale) {
  const dialog = h('dialog', { className: 'viewer', 'aria-label': attachment.name });
  const close = h('button', { type: 'button', className: 'secondary', onclick: () => dialog.close() }, 'Close');
  const image = h('img', {
    src: attachment.url,
    alt: attachment.name,
    width: attachment.width,
    height: attachment.height,
    onerror: () => {
      dialog.close();
      stale();
    },
  });
  dialog.append(
    h(
      'div',
      { className: 'viewer-bar' },
      h('p', {}, h('span', { className: 'file-name' }, attachment.name), ' ', h('span', { className: 'size' }, bytes(attachment.size))),
      h('a', { href: attachment.url, download: attachment.name }, 'Download'),
      close,
    ),
    image,
  );
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}
