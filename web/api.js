// @ts-check
// The Azuma API over fetch: JSON in and out, failures as `ApiError` with
// the server's code (`message`) and its explanation (`detail`).

/**
 * @typedef {object} User
 * @property {string} id
 * @property {string} name
 * @property {string} [onlinestatus] `ONLINE`, `AFK`, `DND` or `OFFLINE` (from `GET /user/...`)
 *
 * @typedef {object} Channel
 * @property {string} id
 * @property {string} name
 * @property {string} owner the owner's user id
 * @property {'public' | 'private' | 'direct'} [kind] `public` if absent
 * @property {string[]} [members] a private or direct channel's members' ids, oldest first
 *
 * @typedef {object} Message
 * @property {string} id
 * @property {string} author the author's user id
 * @property {string} channel the channel's id
 * @property {string} content
 * @property {string} created_at
 * @property {string | null} edited_at
 * @property {Attachment[]} [attachments] its files (none if absent)
 * @property {string[]} [mentions] the ids of the accounts it mentions (`@name`)
 *
 * @typedef {object} Attachment
 * @property {string} id
 * @property {string} name the file's name
 * @property {string} type its media type
 * @property {number} size in bytes
 * @property {number | null} [width] an image's width as it shows
 * @property {number | null} [height] an image's height as it shows
 * @property {string} created_at
 * @property {string} url the file, by a signed link (no token), good for a day or more
 * @property {string | null} [thumbnail_url] an image's thumbnail (at most 800 px), by a signed link
 */

/** A request the server refused (or never answered: `status` 0). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code the server's `message`, such as `NOT_FOUND`
   * @param {string} detail words for a person
   * @param {ErrorOptions} [options]
   */
  constructor(status, code, detail, options) {
    super(detail || code, options);
    this.status = status;
    this.code = code;
  }
}

let token = localStorage.getItem('azuma.token');
let onExpired = () => {};

/** The session's token, kept across reloads. */
export const session = {
  get token() {
    return token;
  },
  /** @param {string | null} value */
  set(value) {
    token = value;
    if (value) localStorage.setItem('azuma.token', value);
    else localStorage.removeItem('azuma.token');
  },
  /**
   * Called once when the server no longer takes the token (401).
   * @param {() => void} callback
   */
  onExpired(callback) {
    onExpired = callback;
  },
};

/**
 * One request; resolves to the JSON body, or null for an empty answer.
 * `signal` may abort it (a timeout).
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {AbortSignal} [signal]
 * @returns {Promise<any>} what the route answers (docs/API.md)
 */
export async function call(method, path, body, signal) {
  /** @type {Record<string, string>} */
  const headers = {};
  const sent = token;
  if (sent) headers.Authorization = `Bearer ${sent}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (cause) {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached.', { cause });
  }
  // Every answer of the server is JSON (or empty); a proxy's error page
  // is not, and its status explains it.
  const json = response.status !== 204 && response.headers.get('Content-Type')?.startsWith('application/json');
  const data = json ? await response.json() : null;
  if (response.ok) return data;
  if (response.status === 401 && sent && sent === token) onExpired();
  throw refusal(response.status, response.statusText, (name) => response.headers.get(name), data);
}

/**
 * A file uploaded (`POST /attachment`), its progress told to `progress`
 * as it is sent: XMLHttpRequest, because fetch does not tell how much of
 * a body has gone. `abort` cancels it; `done` then rejects with an
 * `AbortError`.
 * @param {File} file
 * @param {(sent: number, total: number) => void} progress
 * @returns {{ done: Promise<Attachment>, abort: () => void }}
 */
export function upload(file, progress) {
  const request = new XMLHttpRequest();
  const sent = token;
  /** @type {Promise<Attachment>} */
  const done = new Promise((resolve, reject) => {
    request.open('POST', `/attachment?name=${encodeURIComponent(file.name)}`);
    if (sent) request.setRequestHeader('Authorization', `Bearer ${sent}`);
    request.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    // Every answer of the server is JSON; anything else reads as null.
    request.responseType = 'json';
    request.upload.addEventListener('progress', (event) => progress(event.loaded, event.total || file.size));
    request.addEventListener('load', () => {
      const data = request.response;
      if (request.status >= 200 && request.status < 300 && data) return resolve(data);
      if (request.status === 401 && sent && sent === token) onExpired();
      reject(refusal(request.status, request.statusText, (name) => request.getResponseHeader(name), data));
    });
    request.addEventListener('error', () => reject(new ApiError(0, 'NETWORK', 'The server cannot be reached.')));
    request.addEventListener('abort', () => reject(new DOMException('The upload was cancelled.', 'AbortError')));
    request.send(file);
  });
  return { done, abort: () => request.abort() };
}

/**
 * The server's refusal, with words for a person.
 * @param {number} status
 * @param {string} statusText
 * @param {(name: string) => string | null} header
 * @param {{ message?: string, detail?: string } | null} data
 */
function refusal(status, statusText, header, data) {
  return new ApiError(status, data?.message ?? 'ERROR', explain(status, statusText, header, data));
}

/**
 * Words for a person, from the server's answer.
 * @param {number} status
 * @param {string} statusText
 * @param {(name: string) => string | null} header
 * @param {{ message?: string, detail?: string } | null} data
 */
function explain(status, statusText, header, data) {
  if (status === 429) {
    const wait = header('Retry-After');
    return `Too many tries; wait ${wait ?? 'a few'} seconds.`;
  }
  if (status >= 500) return 'The server could not do that just now; try again.';
  return data?.detail ?? data?.message ?? statusText;
}

/** @param {string} path */
export const get = (path) => call('GET', path);
/**
 * @param {string} path
 * @param {unknown} [body]
 * @param {AbortSignal} [signal]
 */
export const post = (path, body, signal) => call('POST', path, body, signal);
