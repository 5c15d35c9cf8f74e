// @ts-check
// The realtime connection: authenticates, hands every event on in order,
// and reconnects with backoff after a drop or a server restart.

import { report } from './notice.js';

const MAX_DELAY_MS = 10_000;

/**
 * @typedef {object} Handlers
 * @property {(type: string, content: any) => void} event each event after `Welcome`
 * @property {(again: boolean) => void} welcome each authentication (`again` after a reconnect)
 * @property {(open: boolean) => void} state the connection's ups and downs
 * @property {() => void} rejected a token the server no longer takes
 */

export class Socket {
  /**
   * @param {string} token
   * @param {Handlers} handlers
   */
  constructor(token, handlers) {
    this.token = token;
    this.handlers = handlers;
    this.failures = 0;
    this.welcomed = false;
    this.stopped = false;
    this.ready = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.ws = this.connect();
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/init_ws`);
    this.ws = ws;
    this.ready = false;
    ws.onopen = () => this.send('Authenticate', { token: this.token }, true);
    ws.onmessage = (frame) => this.receive(frame.data);
    ws.onclose = (close) => this.closed(close);
    return ws;
  }

  /** @param {string} data */
  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (error) {
      // The server sends JSON only: a frame that is not is reported, and skipped.
      report(error);
      return;
    }
    if (frame.type === 'Welcome') {
      this.ready = true;
      this.failures = 0;
      this.handlers.state(true);
      this.handlers.welcome(this.welcomed);
      this.welcomed = true;
    } else if (frame.type === 'Error' && !this.ready) {
      if (frame.content?.message === 'UNAUTHORIZED') this.reject();
      // Refused for now (signing in too often, the server busy): try
      // again after the usual backoff.
      else this.ws.close();
    } else if (this.ready) {
      this.handlers.event(frame.type, frame.content);
    }
  }

  /** @param {CloseEvent} close */
  closed(close) {
    if (this.stopped) return;
    if (close.code === 1008 && /revoked|expired/.test(close.reason)) return this.reject();
    this.ready = false;
    this.handlers.state(false);
    // 0.5 s, 1 s, 2 s ... up to 10 s, each with up to half again at random
    // so that a restarted server is not met by every client at once.
    const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** this.failures);
    this.failures += 1;
    this.timer = setTimeout(() => this.connect(), delay * (1 + Math.random() / 2));
  }

  reject() {
    this.stop();
    this.handlers.rejected();
  }

  /**
   * Sends a frame if the connection is up; returns whether it was sent.
   * @param {string} type
   * @param {unknown} content
   */
  send(type, content, always = false) {
    if (!always && !this.ready) return false;
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ type, content }));
    return true;
  }

  get open() {
    return this.ready;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws.close(1000);
  }
}
