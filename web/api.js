// The Azuma API over fetch: JSON in and out, failures as `ApiError` with
// the server's code (`message`) and its explanation (`detail`).

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code);
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
  set(value) {
    token = value;
    if (value) localStorage.setItem('azuma.token', value);
    else localStorage.removeItem('azuma.token');
  },
  /** Called once when the server no longer takes the token (401). */
  onExpired(callback) {
    onExpired = callback;
  },
};

/**
 * One request; resolves to the JSON body, or null for an empty answer.
 * `signal` may abort it (a timeout).
 */
export async function call(method, path, body, signal) {
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
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached.');
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return data;
  if (response.status === 401 && sent && sent === token) onExpired();
  throw new ApiError(response.status, data?.message ?? 'ERROR', explain(response, data));
}

/** Words for a person, from the server's answer. */
function explain(response, data) {
  if (response.status === 429) {
    const wait = response.headers.get('Retry-After');
    return `Too many tries; wait ${wait ?? 'a few'} seconds.`;
  }
  if (response.status >= 500) return 'The server could not do that just now; try again.';
  return data?.detail ?? data?.message ?? response.statusText;
}

export const get = (path) => call('GET', path);
export const post = (path, body, signal) => call('POST', path, body, signal);
