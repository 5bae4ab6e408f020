// socket.js: the browser's Socket.IO v5 client, namespace "/" only (issue 9, item 9).
//
// A dependency-free replacement for the parts of socket.io-client the web UI needs: CONNECT with
// auth, events, acknowledgements, reconnection with back-off, connection state recovery. The
// Engine.IO session underneath lives in socket-engine.js, packet decoding and the back-off in
// socket-parser.js, the emitter in socket-emitter.js. See docs/realtime.md, "The browser
// client", for the API; socket.io-client remains the reference for behaviour.
//
// Transport policy: WebSocket first, directly (one round trip, no polling session). A WebSocket
// that fails before its handshake (blocked, refused, or silent for probeTimeout) hands over to
// long-polling within the same attempt, and the socket remembers it: later attempts start on
// polling and probe an upgrade to WebSocket in the background; a successful upgrade forgets the
// failure. `transports: ["polling"]` never uses WebSocket; `["websocket"]` never polls.
//
// Not supported: binary arguments (emit throws a TypeError; binary packets from the server are
// dropped), namespaces other than "/", volatile emits, multiplexing several sockets on one
// connection.

import { Emitter } from "./socket-emitter.js";
import { Engine } from "./socket-engine.js";
import { backoff, decodePacket, hasBinary } from "./socket-parser.js";

export { backoff, decodePacket };

/** Status values of Socket.state.status. */
export const Status = Object.freeze({
  CONNECTED: "connected",
  CONNECTING: "connecting", // an attempt is under way
  RECONNECTING: "reconnecting", // waiting for the next attempt (state.nextTryAt)
  OFFLINE: "offline", // not trying: never started, disconnect(), refused or told to leave
});

// Socket.IO packet types.
const CONNECT = 0;
const DISCONNECT = 1;
const EVENT = 2;
const ACK = 3;
const CONNECT_ERROR = 4;

/** Events fired locally; emit() refuses them as event names for the server. */
const RESERVED = new Set(["connect", "connect_error", "disconnect", "disconnecting", "reconnect_attempt", "reconnect_failed", "state"]);

const DEFAULTS = {
  path: "/socket.io/",
  transports: ["websocket", "polling"],
  upgrade: true,
  autoConnect: true,
  reconnection: true,
  reconnectionAttempts: Infinity,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
  randomizationFactor: 0.5,
  timeout: 20000,
  probeTimeout: 5000,
  ackTimeout: undefined,
};

/**
 * Socket is a Socket.IO client socket on namespace "/". See docs/realtime.md for the API.
 *
 * new Socket(url, options): url is the server's origin (default the page's); options as
 * socket.io-client's where they exist (path, auth, transports, upgrade, autoConnect, reconnection,
 * reconnectionAttempts, reconnectionDelay, reconnectionDelayMax, randomizationFactor, timeout,
 * ackTimeout, query) plus probeTimeout (ms a WebSocket gets before falling back to polling) and
 * WebSocket / fetch (implementations to use instead of the globals, e.g. the `ws` package in
 * Node 20).
 */
export class Socket extends Emitter {
  constructor(url, options) {
    super();
    if (url && typeof url === "object") {
      options = url;
      url = undefined;
    }
    const o = { ...DEFAULTS, ...(options || {}) };
    this.opts = o;
    const origin = url || (globalThis.location && globalThis.location.origin);
    if (!origin) throw new TypeError("Socket: a URL is needed outside a browser");
    this._url = new URL(o.path, origin).toString();
    this._WebSocket = o.WebSocket || globalThis.WebSocket || null;
    const f = o.fetch || globalThis.fetch;
    this._fetch = f ? (...args) => f(...args) : null; // never called as a method of another object
    /** auth is the CONNECT payload: an object, or a function (cb) => cb(object) or => object / Promise. */
    this.auth = o.auth;
    /** id is the Socket.IO id while connected. */
    this.id = undefined;
    /** recovered is true when the last connect restored the previous session (same pid). */
    this.recovered = false;
    this.engine = null; // the Engine.IO session of the current attempt (internal, for tests)
    this._status = Status.OFFLINE;
    this._active = false;
    this._attempts = 0; // failed attempts since the last connect, for the back-off
    this._nextTryAt = null;
    this._lastError = null;
    this._timer = null;
    this._connectTimer = null;
    this._gen = 0; // generation of the current attempt; callbacks of older ones are ignored
    this._wsFailed = false;
    this._sendBuffer = []; // {id, text} emitted while not connected, sent on connect
    this._acks = new Map(); // id → {fn, timer, withError, sent}
    this._nextAckID = 0;
    this._pid = undefined;
    this._offset = undefined;
    if (o.autoConnect) this.connect();
  }

  /** connected is true between "connect" and "disconnect". */
  get connected() {
    return this._status === Status.CONNECTED;
  }

  /** disconnected is !connected. */
  get disconnected() {
    return !this.connected;
  }

  /** active is true while the socket is connected or will try (again) by itself. */
  get active() {
    return this._active;
  }

  /** transport is the name of the transport in use ("websocket", "polling") or null. */
  get transport() {
    return this.engine && this.engine.readyState === "open" ? this.engine.transportName : null;
  }

  /**
   * state is {status, attempt, nextTryAt, transport, error}: status one of Status; attempt the
   * number of failed attempts since the last connect; nextTryAt (ms since the epoch) when
   * reconnecting; error the last connection error. The "state" event carries the same object on
   * every change.
   */
  get state() {
    return {
      status: this._status,
      attempt: this._attempts,
      nextTryAt: this._status === Status.RECONNECTING ? this._nextTryAt : null,
      transport: this.transport,
      error: this._lastError,
    };
  }

  _setStatus(status) {
    this._status = status;
    this._emitLocal("state", this.state);
  }

  /**
   * connect starts connecting (again). While waiting for a reconnection it tries at once (e.g.
   * when the browser comes back online); connected or connecting, it does nothing.
   */
  connect() {
    if (this._status === Status.CONNECTED || this._status === Status.CONNECTING) return this;
    if (this._status === Status.RECONNECTING) {
      clearTimeout(this._timer);
      this._attempt();
      return this;
    }
    this._active = true;
    this._attempts = 0;
    this._open();
    return this;
  }

  /** open is connect. */
  open() {
    return this.connect();
  }

  /** disconnect leaves for good (no reconnection): "disconnect" with "io client disconnect". */
  disconnect() {
    const wasConnected = this.connected;
    this._active = false;
    clearTimeout(this._timer);
    this._stopAttempt();
    if (this.engine) {
      if (wasConnected) this.engine.send(String(DISCONNECT));
      this.engine.close();
      this.engine = null;
    }
    if (this._status !== Status.OFFLINE) this._setStatus(Status.OFFLINE);
    if (wasConnected) this._onDisconnected("io client disconnect");
    return this;
  }

  /** close is disconnect. */
  close() {
    return this.disconnect();
  }

  /**
   * emit sends an event. A function as the last argument receives the server's acknowledgement
   * (its arguments; with a timeout, an Error or null first). Emitted while not connected, the
   * packet waits in a buffer and goes out on the next connect.
   */
  emit(event, ...args) {
    return this._emit({ timeout: this.opts.ackTimeout }, event, args);
  }

  /** send emits "message". */
  send(...args) {
    return this.emit("message", ...args);
  }

  /**
   * emitWithAck sends an event and resolves with the first argument of its acknowledgement. It
   * rejects after the timeout (timeout(ms) or the ackTimeout option), and when the socket
   * disconnects after sending it (the answer cannot come; a buffered packet waits instead).
   */
  emitWithAck(event, ...args) {
    return this._emitWithAck({ timeout: this.opts.ackTimeout }, event, args);
  }

  /** timeout(ms) returns {emit, emitWithAck} whose acknowledgements fail after ms. */
  timeout(ms) {
    const flags = { timeout: ms };
    return {
      emit: (event, ...args) => this._emit(flags, event, args, true),
      emitWithAck: (event, ...args) => this._emitWithAck(flags, event, args),
    };
  }

  _emitWithAck(flags, event, args) {
    return new Promise((resolve, reject) => {
      const cb = (err, value) => (err ? reject(err) : resolve(value));
      cb.withError = true;
      this._emit(flags, event, [...args, cb], true);
    });
  }

  _emit(flags, event, args, withError = flags.timeout !== undefined) {
    if (typeof event !== "string") throw new TypeError("emit: the event name must be a string");
    if (RESERVED.has(event)) throw new Error(`emit: "${event}" is a reserved event name`);
    let ack = null;
    if (args.length > 0 && typeof args[args.length - 1] === "function") ack = args.pop();
    if (args.some((a) => hasBinary(a))) throw new TypeError("emit: binary arguments are not supported");
    let id;
    if (ack) {
      id = this._nextAckID++;
      const entry = { fn: ack, withError: withError || ack.withError === true, timer: null, sent: false };
      if (flags.timeout !== undefined && flags.timeout !== null) {
        entry.timer = setTimeout(() => {
          this._acks.delete(id);
          const i = this._sendBuffer.findIndex((p) => p.id === id);
          if (i >= 0) this._sendBuffer.splice(i, 1);
          ack(new Error("operation has timed out"));
        }, flags.timeout);
      }
      this._acks.set(id, entry);
    }
    const text = `${EVENT}${id ?? ""}${JSON.stringify([event, ...args])}`;
    if (this.connected) this._write(id, text);
    else this._sendBuffer.push({ id, text });
    return this;
  }

  _write(id, text) {
    if (id !== undefined) {
      const entry = this._acks.get(id);
      if (entry) entry.sent = true;
    }
    this.engine.send(text);
  }

  // _open starts an attempt: a new Engine.IO session, then CONNECT with the auth of the moment.
  _open() {
    const gen = ++this._gen;
    this._setStatus(Status.CONNECTING);
    let transports = this.opts.transports.filter((t) => t === "polling" || (t === "websocket" && this._WebSocket));
    if (!this._fetch) transports = transports.filter((t) => t !== "polling");
    if (this._wsFailed && transports.includes("polling")) transports = ["polling"];
    const engine = new Engine({
      url: this._url,
      query: this.opts.query,
      transports,
      upgrade: this.opts.upgrade && this.opts.transports.includes("websocket"),
      probeTimeout: this.opts.probeTimeout,
      WebSocket: this._WebSocket,
      fetch: this._fetch,
    });
    this.engine = engine;
    // WebSocket is remembered as failing only when polling then works: with the server down,
    // both fail and nothing is learnt.
    let wsFellBack = false;
    engine.on("fallback", (name) => {
      if (name === "websocket") wsFellBack = true;
    });
    engine.on("upgrade", () => {
      this._wsFailed = false;
      if (gen === this._gen && this.connected) this._setStatus(Status.CONNECTED); // transport changed
    });
    engine.on("open", () => {
      if (wsFellBack) this._wsFailed = true;
      this._sendConnect(gen);
    });
    engine.on("message", (text) => gen === this._gen && this._onPacket(text));
    engine.on("close", (reason, err) => gen === this._gen && this._onEngineClose(reason, err));
    this._connectTimer = setTimeout(() => {
      if (gen !== this._gen || this._status !== Status.CONNECTING) return;
      this._fail(new Error("timeout"));
    }, this.opts.timeout);
    engine.open();
  }

  async _sendConnect(gen) {
    let auth;
    try {
      auth = await this._evalAuth();
    } catch (err) {
      if (gen === this._gen) this._fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (gen !== this._gen || !this.engine || this.engine.readyState !== "open") return;
    let payload = auth;
    if (this._pid) {
      payload = { ...(auth && typeof auth === "object" ? auth : {}), pid: this._pid };
      if (this._offset !== undefined) payload.offset = this._offset;
    }
    this.engine.send(payload === undefined || payload === null ? `${CONNECT}` : `${CONNECT}${JSON.stringify(payload)}`);
  }

  // _evalAuth returns the auth of this attempt: the object, or what the function gives (through
  // its callback, its return value or a Promise of it).
  _evalAuth() {
    const a = this.auth;
    if (typeof a !== "function") return Promise.resolve(a);
    return new Promise((resolve, reject) => {
      const r = a(resolve);
      if (r !== undefined) Promise.resolve(r).then(resolve, reject);
    });
  }

  _onPacket(text) {
    let p;
    try {
      p = decodePacket(text);
    } catch (err) {
      const engine = this.engine;
      this._stopAttempt();
      engine.close();
      this._onEngineClose("parse error", err);
      return;
    }
    if (!p) return; // another namespace
    switch (p.type) {
      case CONNECT:
        this._onConnect(p.data || {});
        break;
      case CONNECT_ERROR: {
        const d = p.data && typeof p.data === "object" ? p.data : { message: String(p.data) };
        const err = new Error(d.message);
        if (d.data !== undefined) err.data = d.data;
        this._active = false;
        this._lastError = err;
        this._stopAttempt();
        this.engine.close();
        this.engine = null;
        this._setStatus(Status.OFFLINE);
        this._emitLocal("connect_error", err);
        break;
      }
      case DISCONNECT:
        this._active = false;
        this._stopAttempt();
        this.engine.close();
        this.engine = null;
        this._setStatus(Status.OFFLINE);
        this._onDisconnected("io server disconnect");
        break;
      case EVENT:
        if (this.connected) this._onEvent(p);
        break;
      case ACK:
        this._onAck(p);
        break;
      default: // BINARY_EVENT, BINARY_ACK: unsupported, dropped
    }
  }

  _onConnect(data) {
    if (this._status !== Status.CONNECTING) return;
    clearTimeout(this._connectTimer);
    this.id = data.sid;
    this.recovered = Boolean(this._pid && data.pid === this._pid);
    if (!this.recovered) this._offset = undefined;
    this._pid = typeof data.pid === "string" ? data.pid : undefined;
    this._attempts = 0;
    this._lastError = null;
    this._setStatus(Status.CONNECTED);
    for (const p of this._sendBuffer.splice(0)) this._write(p.id, p.text);
    this._emitLocal("connect");
  }

  _onEvent(p) {
    const args = Array.isArray(p.data) ? p.data.slice() : [];
    const event = args.shift();
    if (typeof event !== "string") return;
    // The offset of connection state recovery is the last argument; listeners still get it.
    if (this._pid && args.length > 0 && typeof args[args.length - 1] === "string") this._offset = args[args.length - 1];
    if (p.id !== undefined) {
      let answered = false;
      const engine = this.engine;
      args.push((...res) => {
        if (answered || engine !== this.engine || !this.connected) return;
        answered = true;
        if (res.some((a) => hasBinary(a))) throw new TypeError("ack: binary arguments are not supported");
        this.engine.send(`${ACK}${p.id}${JSON.stringify(res)}`);
      });
    }
    this._emitLocal(event, ...args);
  }

  _onAck(p) {
    const entry = this._acks.get(p.id);
    if (!entry) return;
    this._acks.delete(p.id);
    clearTimeout(entry.timer);
    const args = Array.isArray(p.data) ? p.data : [];
    if (entry.withError) entry.fn(null, ...args);
    else entry.fn(...args);
  }

  _onEngineClose(reason, err) {
    const wasConnected = this.connected;
    this._stopAttempt();
    this.engine = null;
    if (wasConnected) {
      this._onDisconnected(reason, err);
    } else {
      const e = err instanceof Error ? err : new Error(reason);
      this._lastError = e;
      this._emitLocal("connect_error", e);
    }
    this._reconnectOrStop();
  }

  // _fail ends the attempt under way (timeout, auth function failed) and goes on as after a
  // transport failure.
  _fail(err) {
    this._stopAttempt();
    if (this.engine) this.engine.close();
    this.engine = null;
    this._lastError = err;
    this._emitLocal("connect_error", err);
    this._reconnectOrStop();
  }

  _stopAttempt() {
    this._gen++;
    clearTimeout(this._connectTimer);
  }

  _onDisconnected(reason, err) {
    this.id = undefined;
    // Acknowledgements of sent packets can no longer come.
    for (const [id, entry] of this._acks) {
      if (!entry.sent) continue;
      this._acks.delete(id);
      clearTimeout(entry.timer);
      if (entry.withError) entry.fn(new Error("socket has been disconnected"));
    }
    if (this._status === Status.CONNECTED) {
      this._nextTryAt = null; // set once the next attempt is scheduled, right after
      this._status = this._active ? Status.RECONNECTING : Status.OFFLINE;
    }
    this._emitLocal("disconnect", reason, err ? { description: err.message } : undefined);
  }

  _reconnectOrStop() {
    if (!this._active || !this.opts.reconnection) {
      this._active = false;
      this._setStatus(Status.OFFLINE);
      return;
    }
    if (this._attempts >= this.opts.reconnectionAttempts) {
      this._active = false;
      this._setStatus(Status.OFFLINE);
      this._emitLocal("reconnect_failed");
      return;
    }
    const delay = backoff(this._attempts, this.opts);
    this._attempts++;
    this._nextTryAt = Date.now() + delay;
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._attempt(), delay);
    this._setStatus(Status.RECONNECTING);
  }

  _attempt() {
    this._timer = null;
    if (!this._active) return;
    this._emitLocal("reconnect_attempt", this._attempts);
    this._open();
  }
}

/** io(url, options) returns a new Socket, as socket.io-client's io() with forceNew. */
export function io(url, options) {
  return new Socket(url, options);
}
