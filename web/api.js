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
  throw new ApiError(response.status, data?.message ?? 'ERROR', explain(response, data));
}

/**
 * Words for a person, from the server's answer.
 * @param {Response} response
 * @param {{ message?: string, detail?: string } | null} data
 */
function explain(response, data) {
  if (response.status === 429) {
    const wait = response.headers.get('Retry-After');
    return `Too many tries; wait ${wait ?? 'a few'} seconds.`;
  }
  if (response.status >= 500) return 'The server could not do that just now; try again.';
  return data?.detail ?? data?.message ?? response.statusText;
}

/** @param {string} path */
export const get = (path) => call('GET', path);
/**
 * @param {string} path
 * @param {unknown} [body]
 * @param {AbortSignal} [signal]
 */
export const post = (path, body, signal) => call('POST', path, body, signal);
