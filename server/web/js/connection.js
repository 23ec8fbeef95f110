// The participant socket (meetwarden.protocol, in policies/protocol/, is the reference for every
// message). One request -> one answer with the same `ref`: a `result` (the
// engine's decision), an `error` (the server could not take it), for media
// a `publish_answer` / `subscribe_offer`, for files a `file_token`. Everything
// else is an event.

import { t } from './i18n.js';

const REQUEST_TIMEOUT_MS = 15_000;
const ANSWERS = new Set(['result', 'error', 'publish_answer', 'subscribe_offer', 'file_token']);

export class RequestError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class Connection extends EventTarget {
  constructor(meetingId) {
    super();
    this.meetingId = meetingId;
    this.socket = null;
    this.nextId = 1;
    this.pending = new Map();
  }

  get open() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket and sends `join`; every server message then arrives as a 'message' event. */
  connect(join) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/ws/meetings/${encodeURIComponent(this.meetingId)}`);
    this.socket = socket;
    socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'join', ...join })));
    socket.addEventListener('message', (event) => this.receive(event.data));
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      for (const { reject, timer } of this.pending.values()) {
        clearTimeout(timer);
        reject(new RequestError('closed', t('The connection to the meeting closed.')));
      }
      this.pending.clear();
      this.dispatchEvent(new CustomEvent('close', { detail: { code: event.code, reason: event.reason } }));
    });
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (ANSWERS.has(message.type) && message.ref !== null && message.ref !== undefined) {
      const waiting = this.pending.get(message.ref);
      if (waiting) {
        this.pending.delete(message.ref);
        clearTimeout(waiting.timer);
        if (message.type === 'error') waiting.reject(new RequestError(message.code, message.message));
        else waiting.resolve(message);
        return;
      }
    }
    this.dispatchEvent(new CustomEvent('message', { detail: message }));
  }

  /** Sends a request; resolves with its answer (a refused `result` resolves too: read `allowed`). */
  request(message, timeoutMs = REQUEST_TIMEOUT_MS) {
    if (!this.open) {
      return Promise.reject(new RequestError('closed', t('You are not connected to the meeting.')));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError('timeout', t('The server did not answer in time.')));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ ...message, id }));
    });
  }

  /** Sends a message that gets no answer when it succeeds (subscribe_answer). */
  send(message) {
    if (this.open) this.socket.send(JSON.stringify(message));
  }

  close() {
    const socket = this.socket;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'bye');
  }
}
