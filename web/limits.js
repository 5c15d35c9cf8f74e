// @ts-check
// The server's limits, as its OpenAPI document (`GET /openapi.json`)
// states them from the constants it checks: fetched once, when the chat
// starts, so that the page never holds a copy that could drift.

import { get } from './api.js';

/**
 * @typedef {object} Limits
 * @property {number} content most characters in a message
 * @property {number} channelName most characters in a channel's name
 * @property {number} query most characters in a search
 * @property {number} page most messages in one page of history
 * @property {number} unread most unread messages counted in a channel
 * @property {number} typingMs at most one `Typing` is relayed per user and channel this often
 * @property {number} people most people in one answer of `GET /user`
 * @property {number} userName most characters in a user's name (and so in a search for people)
 * @property {number} direct most other people in one direct conversation
 * @property {number} members most members named when a private channel is made
 * @property {number} upload most bytes in one uploaded file (the server's `--max-upload-mib`)
 * @property {number} attachments most files in one message
 */

/** @type {Promise<Limits> | null} */
let fetched = null;

/**
 * The limits, from the document fetched on the first call (again after a
 * failure).
 * @returns {Promise<Limits>}
 */
export function limits() {
  fetched ??= get('/openapi.json').then(read, (failure) => {
    fetched = null;
    throw failure;
  });
  return fetched;
}

/**
 * Reads the limits out of the document; one it does not state is an error.
 * @param {any} doc
 * @returns {Limits}
 */
function read(doc) {
  const schemas = doc?.components?.schemas;
  /** @param {string} path @param {string} name */
  const parameter = (path, name) =>
    doc?.paths?.[path]?.get?.parameters?.find((/** @type {any} */ p) => p.name === name)?.schema;
  const typing = schemas?.ClientFrame?.oneOf?.find(
    (/** @type {any} */ frame) => frame?.properties?.type?.enum?.[0] === 'Typing',
  );
  return {
    content: stated(schemas?.MessageContent?.maxLength, 'MessageContent maxLength'),
    channelName: stated(schemas?.ChannelName?.maxLength, 'ChannelName maxLength'),
    query: stated(parameter('/message/search', 'q')?.maxLength, 'the maxLength of search q'),
    page: stated(parameter('/channel/{id}/messages', 'limit')?.maximum, 'the maximum of history limit'),
    unread: stated(schemas?.Unread?.properties?.unread?.maximum, 'the maximum of unread'),
    typingMs: stated(typing?.['x-azuma-interval-ms'], 'x-azuma-interval-ms of Typing'),
    people: stated(parameter('/user', 'limit')?.maximum, 'the maximum of GET /user limit'),
    userName: stated(parameter('/user', 'q')?.maxLength, 'the maxLength of GET /user q'),
    direct: stated(schemas?.NewDirect?.properties?.users?.maxItems, 'NewDirect users maxItems'),
    members: stated(schemas?.NewChannel?.properties?.members?.maxItems, 'NewChannel members maxItems'),
    upload: stated(
      doc?.paths?.['/attachment']?.post?.requestBody?.['x-azuma-max-bytes'],
      'x-azuma-max-bytes of POST /attachment',
    ),
    attachments: stated(schemas?.NewMessage?.properties?.attachments?.maxItems, 'NewMessage attachments maxItems'),
  };
}

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {number}
 */
function stated(value, what) {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new Error(`GET /openapi.json does not state ${what}`);
}
