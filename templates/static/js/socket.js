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
  #opts;
  #WebSocket; #acks; #active; #attempts; #connectTimer; #fetch; #gen; #lastError; #nextAckID; #nextTryAt; #offset; #pid; #sendBuffer; #status; #timer; #url;

  constructor(url, options) {
    super();
    if (url && typeof url === "object") {
      options = url;
      url = undefined;
    }
    const o = { ...DEFAULTS, ...(options || {}) };
    this.#opts = o;
    const origin = url || globalThis.location?.origin;
    if (!origin) throw new TypeError("Socket: a URL is needed outside a browser");
    this.#url = new URL(o.path, origin).toString();
    this.#WebSocket = o.WebSocket || globalThis.WebSocket || null;
    const f = o.fetch || globalThis.fetch;
    this.#fetch = f ? (...args) => f(...args) : null; // never called as a method of another object
    /** auth is the CONNECT payload: an object, or a function (cb) => cb(object) or => object / Promise. */
    this.auth = o.auth;
    /** id is the Socket.IO id while connected. */
    this.id = undefined;
    /** recovered is true when the last connect restored the previous session (same pid). */
    this.recovered = false;
    this.engine = null; // the Engine.IO session of the current attempt (internal, for tests)
    this.#status = Status.OFFLINE;
    this.#active = false;
    this.#attempts = 0; // failed attempts since the last connect, for the back-off
    this.#nextTryAt = null;
    this.#lastError = null;
    this.#timer = null;
    this.#connectTimer = null;
    this.#gen = 0; // generation of the current attempt; callbacks of older ones are ignored
    this._wsFailed = false;
    this.#sendBuffer = []; // {id, text} emitted while not connected, sent on connect
    this.#acks = new Map(); // id → {fn, timer, withError, sent}
    this.#nextAckID = 0;
    this.#pid = undefined;
    this.#offset = undefined;
    if (o.autoConnect) this.connect();
  }

  /** connected is true between "connect" and "disconnect". */
  get connected() {
    return this.#status === Status.CONNECTED;
  }

  /** disconnected is !connected. */
  get disconnected() {
    return !this.connected;
  }

  /** active is true while the socket is connected or will try (again) by itself. */
  get active() {
    return this.#active;
  }

  /** transport is the name of the transport in use ("websocket", "polling") or null. */
  get transport() {
    return this.engine?.readyState === "open" ? this.engine.transportName : null;
  }

  /**
   * state is {status, attempt, nextTryAt, transport, error}: status one of Status; attempt the
   * number of failed attempts since the last connect; nextTryAt (ms since the epoch) when
   * reconnecting; error the last connection error. The "state" event carries the same object on
   * every change.
   */
  get state() {
    return {
      status: this.#status,
      attempt: this.#attempts,
      nextTryAt: this.#status === Status.RECONNECTING ? this.#nextTryAt : null,
      transport: this.transport,
      error: this.#lastError,
    };
  }

  #setStatus(status) {
    this.#status = status;
    this._emitLocal("state", this.state);
  }

  /**
   * connect starts connecting (again). While waiting for a reconnection it tries at once (e.g.
   * when the browser comes back online); connected or connecting, it does nothing.
   */
  connect() {
    if (this.#status === Status.CONNECTED || this.#status === Status.CONNECTING) return this;
    if (this.#status === Status.RECONNECTING) {
      clearTimeout(this.#timer);
      this.#attempt();
      return this;
    }
    this.#active = true;
    this.#attempts = 0;
    this.#open();
    return this;
  }

  /** open is connect. */
  open() {
    return this.connect();
  }

  /** disconnect leaves for good (no reconnection): "disconnect" with "io client disconnect". */
  disconnect() {
    const wasConnected = this.connected;
    this.#active = false;
    clearTimeout(this.#timer);
    this.#stopAttempt();
    if (this.engine) {
      if (wasConnected) this.engine.send(String(DISCONNECT));
      this.engine.close();
      this.engine = null;
    }
    if (this.#status !== Status.OFFLINE) this.#setStatus(Status.OFFLINE);
    if (wasConnected) this.#onDisconnected("io client disconnect");
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
    return this.#emit({ timeout: this.#opts.ackTimeout }, event, args);
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
    return this.#emitWithAck({ timeout: this.#opts.ackTimeout }, event, args);
  }

  /** timeout(ms) returns {emit, emitWithAck} whose acknowledgements fail after ms. */
  timeout(ms) {
    const flags = { timeout: ms };
    return {
      emit: (event, ...args) => this.#emit(flags, event, args, true),
      emitWithAck: (event, ...args) => this.#emitWithAck(flags, event, args),
    };
  }

  #emitWithAck(flags, event, args) {
    return new Promise((resolve, reject) => {
      const cb = (err, value) => (err ? reject(err) : resolve(value));
      cb.withError = true;
      this.#emit(flags, event, [...args, cb], true);
    });
  }

  #emit(flags, event, args, withError = flags.timeout !== undefined) {
    if (typeof event !== "string") throw new TypeError("emit: the event name must be a string");
    if (RESERVED.has(event)) throw new Error(`emit: "${event}" is a reserved event name`);
    let ack = null;
    if (args.length > 0 && typeof args[args.length - 1] === "function") ack = args.pop();
    if (args.some((a) => hasBinary(a))) throw new TypeError("emit: binary arguments are not supported");
    let id;
    if (ack) {
      id = this.#nextAckID++;
      const entry = { fn: ack, withError: withError || ack.withError === true, timer: null, sent: false };
      if (flags.timeout !== undefined && flags.timeout !== null) {
        entry.timer = setTimeout(() => {
          this.#acks.delete(id);
          const i = this.#sendBuffer.findIndex((p) => p.id === id);
          if (i >= 0) this.#sendBuffer.splice(i, 1);
          ack(new Error("operation has timed out"));
        }, flags.timeout);
      }
      this.#acks.set(id, entry);
    }
    const text = `${EVENT}${id ?? ""}${JSON.stringify([event, ...args])}`;
    if (this.connected) this.#write(id, text);
    else this.#sendBuffer.push({ id, text });
    return this;
  }

  #write(id, text) {
    if (id !== undefined) {
      const entry = this.#acks.get(id);
      if (entry) entry.sent = true;
    }
    this.engine.send(text);
  }

  // #open starts an attempt: a new Engine.IO session, then CONNECT with the auth of the moment.
  #open() {
    const gen = ++this.#gen;
    this.#setStatus(Status.CONNECTING);
    let transports = this.#opts.transports.filter((t) => t === "polling" || (t === "websocket" && this.#WebSocket));
    if (!this.#fetch) transports = transports.filter((t) => t !== "polling");
    if (this._wsFailed && transports.includes("polling")) transports = ["polling"];
    const engine = new Engine({
      url: this.#url,
      query: this.#opts.query,
      transports,
      upgrade: this.#opts.upgrade && this.#opts.transports.includes("websocket"),
      probeTimeout: this.#opts.probeTimeout,
      WebSocket: this.#WebSocket,
      fetch: this.#fetch,
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
      if (gen === this.#gen && this.connected) this.#setStatus(Status.CONNECTED); // transport changed
    });
    engine.on("open", () => {
      if (wsFellBack) this._wsFailed = true;
      this.#sendConnect(gen);
    });
    engine.on("message", (text) => gen === this.#gen && this.#onPacket(text));
    engine.on("close", (reason, err) => gen === this.#gen && this.#onEngineClose(reason, err));
    this.#connectTimer = setTimeout(() => {
      if (gen !== this.#gen || this.#status !== Status.CONNECTING) return;
      this.#fail(new Error("timeout"));
    }, this.#opts.timeout);
    engine.open();
  }

  async #sendConnect(gen) {
    let auth;
    try {
      auth = await this.#evalAuth();
    } catch (err) {
      if (gen === this.#gen) this.#fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (gen !== this.#gen || !this.engine || this.engine.readyState !== "open") return;
    let payload = auth;
    if (this.#pid) {
      payload = { ...(auth && typeof auth === "object" ? auth : {}), pid: this.#pid };
      if (this.#offset !== undefined) payload.offset = this.#offset;
    }
    this.engine.send(payload === undefined || payload === null ? `${CONNECT}` : `${CONNECT}${JSON.stringify(payload)}`);
  }

  // #evalAuth returns the auth of this attempt: the object, or what the function gives (through
  // its callback, its return value or a Promise of it).
  #evalAuth() {
    const a = this.auth;
    if (typeof a !== "function") return Promise.resolve(a);
    return new Promise((resolve, reject) => {
      const r = a(resolve);
      if (r !== undefined) Promise.resolve(r).then(resolve, reject);
    });
  }

  #onPacket(text) {
    let p;
    try {
      p = decodePacket(text);
    } catch (err) {
      const engine = this.engine;
      this.#stopAttempt();
      engine.close();
      this.#onEngineClose("parse error", err);
      return;
    }
    if (!p) return; // another namespace
    switch (p.type) {
      case CONNECT:
        this.#onConnect(p.data || {});
        break;
      case CONNECT_ERROR: {
        const d = p.data && typeof p.data === "object" ? p.data : { message: String(p.data) };
        const err = new Error(d.message);
        if (d.data !== undefined) err.data = d.data;
        this.#active = false;
        this.#lastError = err;
        this.#stopAttempt();
        this.engine.close();
        this.engine = null;
        this.#setStatus(Status.OFFLINE);
        this._emitLocal("connect_error", err);
        break;
      }
      case DISCONNECT:
        this.#active = false;
        this.#stopAttempt();
        this.engine.close();
        this.engine = null;
        this.#setStatus(Status.OFFLINE);
        this.#onDisconnected("io server disconnect");
        break;
      case EVENT:
        if (this.connected) this.#onEvent(p);
        break;
      case ACK:
        this.#onAck(p);
        break;
      default: // BINARY_EVENT, BINARY_ACK: unsupported, dropped
    }
  }

  #onConnect(data) {
    if (this.#status !== Status.CONNECTING) return;
    clearTimeout(this.#connectTimer);
    this.id = data.sid;
    this.recovered = Boolean(this.#pid && data.pid === this.#pid);
    if (!this.recovered) this.#offset = undefined;
    this.#pid = typeof data.pid === "string" ? data.pid : undefined;
    this.#attempts = 0;
    this.#lastError = null;
    this.#setStatus(Status.CONNECTED);
    for (const p of this.#sendBuffer.splice(0)) this.#write(p.id, p.text);
    this._emitLocal("connect");
  }

  #onEvent(p) {
    const args = Array.isArray(p.data) ? p.data.slice() : [];
    const event = args.shift();
    if (typeof event !== "string") return;
    // The offset of connection state recovery is the last argument; listeners still get it.
    if (this.#pid && args.length > 0 && typeof args[args.length - 1] === "string") this.#offset = args[args.length - 1];
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

  #onAck(p) {
    const entry = this.#acks.get(p.id);
    if (!entry) return;
    this.#acks.delete(p.id);
    clearTimeout(entry.timer);
    const args = Array.isArray(p.data) ? p.data : [];
    if (entry.withError) entry.fn(null, ...args);
    else entry.fn(...args);
  }

  #onEngineClose(reason, err) {
    const wasConnected = this.connected;
    this.#stopAttempt();
    this.engine = null;
    if (wasConnected) {
      this.#onDisconnected(reason, err);
    } else {
      const e = err instanceof Error ? err : new Error(reason);
      this.#lastError = e;
      this._emitLocal("connect_error", e);
    }
    this.#reconnectOrStop();
  }

  // #fail ends the attempt under way (timeout, auth function failed) and goes on as after a
  // transport failure.
  #fail(err) {
    this.#stopAttempt();
    if (this.engine) this.engine.close();
    this.engine = null;
    this.#lastError = err;
    this._emitLocal("connect_error", err);
    this.#reconnectOrStop();
  }

  #stopAttempt() {
    this.#gen++;
    clearTimeout(this.#connectTimer);
  }

  #onDisconnected(reason, err) {
    this.id = undefined;
    // Acknowledgements of sent packets can no longer come.
    for (const [id, entry] of this.#acks) {
      if (!entry.sent) continue;
      this.#acks.delete(id);
      clearTimeout(entry.timer);
      if (entry.withError) entry.fn(new Error("socket has been disconnected"));
    }
    if (this.#status === Status.CONNECTED) {
      this.#nextTryAt = null; // set once the next attempt is scheduled, right after
      this.#status = this.#active ? Status.RECONNECTING : Status.OFFLINE;
    }
    this._emitLocal("disconnect", reason, err ? { description: err.message } : undefined);
  }

  #reconnectOrStop() {
    if (!this.#active || !this.#opts.reconnection) {
      this.#active = false;
      this.#setStatus(Status.OFFLINE);
      return;
    }
    if (this.#attempts >= this.#opts.reconnectionAttempts) {
      this.#active = false;
      this.#setStatus(Status.OFFLINE);
      this._emitLocal("reconnect_failed");
      return;
    }
    const delay = backoff(this.#attempts, this.#opts);
    this.#attempts++;
    this.#nextTryAt = Date.now() + delay;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#attempt(), delay);
    this.#setStatus(Status.RECONNECTING);
  }

  #attempt() {
    this.#timer = null;
    if (!this.#active) return;
    this._emitLocal("reconnect_attempt", this.#attempts);
    this.#open();
  }
}

/** io(url, options) returns a new Socket, as socket.io-client's io() with forceNew. */
export function io(url, options) {
  return new Socket(url, options);
}
