// socket-engine.js: the Engine.IO v4 client under socket.js (issue 9, item 9).
//
// An Engine is one Engine.IO session: it opens a transport, reads the handshake, answers the
// server's pings and watches for missing ones, frames packets, and closes once. It never
// reconnects: socket.js makes a new Engine for every attempt.
//
// Transports (the policy, chosen by socket.js through `transports` and `upgrade`):
//   - "websocket": a WebSocket opened directly (`transport=websocket`, no sid), one packet a frame;
//   - "polling": long-polling with fetch, packets of one body joined by the record separator \x1e;
//     once open, when `upgrade` is set and the server lists "websocket", the standard upgrade runs
//     in the background (2probe / 3probe, pause the poller, 5) and a failed probe leaves the
//     session on polling.
// The candidates are tried in order within one attempt: a transport that fails before the
// handshake arrives (WebSocket blocked by a proxy, refused, or silent for `probeTimeout`) hands
// over to the next one, and the Engine emits "fallback".
//
// Text only: binary frames and base64 ("b…") polling packets are ignored.
//
// Events: open(handshake), message(text), ping(), upgrade(name), fallback(name, err),
// close(reason, err). Reasons: "transport close", "transport error", "ping timeout",
// "forced close" (close() was called).

import { Emitter } from "./socket-emitter.js";

/** SEP joins the packets of one long-polling body. */
const SEP = "\x1e";

/** transportURL is base (an http(s) URL of the endpoint path) with the Engine.IO query. */
function transportURL(base, name, sid, query) {
  const u = new URL(base);
  for (const [k, v] of Object.entries(query || {})) u.searchParams.set(k, String(v));
  u.searchParams.set("EIO", "4");
  u.searchParams.set("transport", name);
  if (sid) u.searchParams.set("sid", sid);
  if (name === "websocket") u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u;
}

// WebSocketTransport carries one Engine.IO packet per text frame.
class WebSocketTransport {
  constructor(url, WebSocketImpl, handlers) {
    this.name = "websocket";
    this.writable = false;
    this._h = handlers; // {onOpen, onPacket, onClose(reason, err)}
    this._done = false;
    let ws;
    try {
      ws = new WebSocketImpl(url.toString());
    } catch (err) {
      queueMicrotask(() => this._finish("transport error", err));
      return;
    }
    this._ws = ws;
    ws.onopen = () => {
      this.writable = true;
      if (this._h.onOpen) this._h.onOpen();
    };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") this._h.onPacket(e.data); // binary frames: unsupported
    };
    ws.onerror = (e) => this._finish("transport error", (e && e.error) || new Error("websocket error"));
    ws.onclose = (e) => {
      const err = new Error("websocket closed" + (e && e.code ? ` (${e.code})` : ""));
      this._finish("transport close", err);
    };
  }

  send(packets) {
    if (!this.writable) return;
    for (const p of packets) this._ws.send(p);
  }

  /** isOpen reports whether the WebSocket can still carry frames (not closing, not closed). */
  isOpen() {
    return this.writable && this._ws.readyState === 1;
  }

  close() {
    this._done = true;
    this.writable = false;
    if (!this._ws) return;
    this._ws.onopen = this._ws.onmessage = this._ws.onclose = null;
    this._ws.onerror = () => {}; // Node's ws reports closing a connecting socket as an error
    try {
      this._ws.close();
    } catch {
      // closing a socket that never opened may throw in some implementations
    }
  }

  _finish(reason, err) {
    if (this._done) return;
    this.close();
    this._h.onClose(reason, err);
  }
}

// PollingTransport is long-polling with fetch: one GET waiting for packets at a time, one POST
// carrying packets at a time (more are queued meanwhile).
class PollingTransport {
  constructor(base, query, fetchImpl, handlers) {
    this.name = "polling";
    this.writable = false;
    this._base = base;
    this._query = query;
    this._fetch = fetchImpl;
    this._h = handlers; // {onPacket, onClose(reason, err)}
    this._sid = null;
    this._done = false;
    this._paused = false;
    this._polling = false;
    this._posting = false;
    this._queue = [];
    this._abort = new AbortController();
    this._maxPayload = 1e6;
    this._seq = 0;
    queueMicrotask(() => this._poll());
  }

  /** opened is called by the Engine once the handshake named the session. */
  opened(sid, maxPayload) {
    this._sid = sid;
    if (maxPayload > 0) this._maxPayload = maxPayload;
    this.writable = true;
  }

  _url() {
    const u = transportURL(this._base, "polling", this._sid, this._query);
    u.searchParams.set("t", `${Date.now().toString(36)}${(this._seq++).toString(36)}`); // no caches
    return u.toString();
  }

  async _poll() {
    if (this._done || this._paused) return;
    this._polling = true;
    let body;
    try {
      const res = await this._fetch(this._url(), {
        method: "GET",
        cache: "no-store",
        credentials: "same-origin",
        signal: this._abort.signal,
      });
      if (!res.ok) throw new Error(`polling GET: HTTP ${res.status}`);
      body = await res.text();
    } catch (err) {
      this._polling = false;
      this._fail(err);
      return;
    }
    this._polling = false;
    if (this._done) return;
    for (const p of body.split(SEP)) {
      if (this._done) return;
      if (p !== "") this._h.onPacket(p);
    }
    if (this._paused) this._checkPaused();
    else this._poll();
  }

  send(packets) {
    this._queue.push(...packets);
    this._flush();
  }

  async _flush() {
    if (this._done || this._posting || !this.writable || this._queue.length === 0) return;
    // One body stays under the server's maxPayload (a single larger packet goes alone).
    let size = 0;
    let n = 0;
    for (; n < this._queue.length; n++) {
      const bytes = utf8Length(this._queue[n]) + (n > 0 ? 1 : 0);
      if (n > 0 && size + bytes > this._maxPayload) break;
      size += bytes;
    }
    const batch = this._queue.splice(0, n);
    this._posting = true;
    const posted = this._post(batch.join(SEP));
    this._posted = posted;
    try {
      await posted;
    } catch (err) {
      this._posting = false;
      this._fail(err);
      return;
    }
    this._posting = false;
    if (this._paused) this._checkPaused();
    else this._flush();
  }

  // _post sends one body. POSTs are not aborted by close(), so that a last DISCONNECT gets out.
  async _post(body) {
    const res = await this._fetch(this._url(), {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body,
      cache: "no-store",
      credentials: "same-origin",
    });
    await res.text();
    if (!res.ok) throw new Error(`polling POST: HTTP ${res.status}`);
  }

  /** pause stops polling once the GET and POST in flight are done, then calls fn (upgrade). */
  pause(fn) {
    this._paused = true;
    this._onPaused = fn;
    this._checkPaused();
  }

  /** resume polls again after a pause whose upgrade failed. */
  resume() {
    if (this._done || !this._paused) return;
    this._paused = false;
    this._onPaused = null;
    if (!this._polling) this._poll();
    this._flush();
  }

  _checkPaused() {
    if (this._done || this._polling || this._posting || !this._onPaused) return;
    const fn = this._onPaused;
    this._onPaused = null;
    fn();
  }

  /** takeQueue returns the packets not yet posted (handed to the new transport on upgrade). */
  takeQueue() {
    return this._queue.splice(0);
  }

  /** close stops the transport; with sendClose the server is told first (best effort). */
  close(sendClose) {
    if (this._done) return;
    this._done = true;
    this.writable = false;
    this._abort.abort();
    if (sendClose && this._sid) {
      // What is queued (e.g. a DISCONNECT) and the close packet, after the POST in flight.
      const body = [...this._queue.splice(0), "1"].join(SEP);
      const after = this._posting && this._posted ? this._posted.catch(() => {}) : Promise.resolve();
      after.then(() => this._post(body)).catch(() => {});
    }
  }

  _fail(err) {
    if (this._done) return;
    this.close(false);
    this._h.onClose("transport error", err);
  }
}

function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Engine is one Engine.IO v4 session.
 *
 * Options: url (the endpoint, e.g. "https://host/socket.io/"), query (extra query parameters),
 * transports (candidates in order, e.g. ["websocket", "polling"]), upgrade (probe WebSocket from
 * polling), probeTimeout (ms a WebSocket may take to deliver the handshake or answer the probe
 * before it is given up, default 5000), WebSocket and fetch (implementations; default the
 * globals).
 */
export class Engine extends Emitter {
  constructor(opts) {
    super();
    this.opts = opts;
    this.readyState = "opening";
    this.sid = null;
    this.transport = null;
    this.handshake = null;
    this._candidates = opts.transports.slice();
    this._buffer = [];
    this._upgrading = false;
    this._pingTimer = null;
  }

  /** transportName is the name of the transport carrying the session. */
  get transportName() {
    return this.transport ? this.transport.name : null;
  }

  /** open starts the handshake with the first candidate. */
  open() {
    this._next(null);
    return this;
  }

  _next(err) {
    const name = this._candidates.shift();
    if (!name) {
      this._onClose("transport error", err || new Error("no transport"));
      return;
    }
    if (name === "websocket") {
      const t = new WebSocketTransport(
        transportURL(this.opts.url, "websocket", null, this.opts.query),
        this.opts.WebSocket,
        {
          onPacket: (p) => this._onPacket(t, p),
          onClose: (reason, e) => this._onTransportClose(t, reason, e),
        },
      );
      this.transport = t;
      // A WebSocket that neither fails nor speaks (a proxy holding it) is given up too.
      this._probeTimer = setTimeout(() => {
        if (this.readyState === "opening" && this.transport === t) {
          t.close();
          this._onTransportClose(t, "transport error", new Error("websocket timeout"));
        }
      }, this.opts.probeTimeout ?? 5000);
    } else {
      const t = new PollingTransport(this.opts.url, this.opts.query, this.opts.fetch, {
        onPacket: (p) => this._onPacket(t, p),
        onClose: (reason, e) => this._onTransportClose(t, reason, e),
      });
      this.transport = t;
    }
  }

  _onTransportClose(t, reason, err) {
    if (t !== this.transport || this.readyState === "closed") return;
    if (this.readyState === "opening" && this._candidates.length > 0) {
      clearTimeout(this._probeTimer);
      this._emitLocal("fallback", t.name, err);
      this._next(err);
      return;
    }
    this._onClose(reason, err);
  }

  _onPacket(t, packet) {
    if (t !== this.transport || this.readyState === "closed") return;
    const type = packet[0];
    if (this.readyState === "opening") {
      if (type !== "0") {
        this._onClose("parse error", new Error("expected the open packet"));
        return;
      }
      let hs;
      try {
        hs = JSON.parse(packet.slice(1));
      } catch (err) {
        this._onClose("parse error", err);
        return;
      }
      this._onHandshake(t, hs);
      return;
    }
    switch (type) {
      case "2": // ping
        this._resetPingTimer();
        this._write(["3"]);
        this._emitLocal("ping");
        break;
      case "4":
        this._emitLocal("message", packet.slice(1));
        break;
      case "1":
        this._onClose("transport close", new Error("closed by the server"));
        break;
      default: // "6" noop, "3" pong, binary ("b…"): nothing to do
    }
  }

  _onHandshake(t, hs) {
    clearTimeout(this._probeTimer);
    this.handshake = hs;
    this.sid = hs.sid;
    this.readyState = "open";
    if (t.opened) t.opened(hs.sid, hs.maxPayload);
    this._resetPingTimer();
    this._emitLocal("open", hs);
    this._flush();
    const upgrades = Array.isArray(hs.upgrades) ? hs.upgrades : [];
    if (t.name === "polling" && this.opts.upgrade && this.opts.WebSocket && upgrades.includes("websocket")) {
      this._probe();
    }
  }

  // _probe upgrades a polling session to WebSocket. Any failure leaves it on polling.
  _probe() {
    let done = false;
    let ws = null;
    const polling = this.transport;
    const fail = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ws) ws.close();
      this._upgrading = false;
      if (this.readyState !== "open") return;
      polling.resume(); // when the probe failed after pausing it
      this._flush();
    };
    const timer = setTimeout(fail, this.opts.probeTimeout ?? 5000);
    this._cancelProbe = fail;
    ws = new WebSocketTransport(transportURL(this.opts.url, "websocket", this.sid, this.opts.query), this.opts.WebSocket, {
      onOpen: () => ws.send(["2probe"]),
      onPacket: (p) => {
        if (done) {
          if (ws === this.transport) this._onPacket(ws, p);
          return;
        }
        if (p !== "3probe" || this.readyState !== "open") return fail();
        clearTimeout(timer);
        this._upgrading = true;
        polling.pause(() => {
          // The probe may have died while the poller drained: then stay on polling.
          if (done || this.readyState !== "open" || !ws.isOpen()) return fail();
          done = true;
          const left = polling.takeQueue();
          polling.close(false);
          ws.send(["5", ...left]);
          this.transport = ws;
          this._upgrading = false;
          this._emitLocal("upgrade", "websocket");
          this._flush();
        });
      },
      onClose: (reason, err) => {
        if (!done) return fail();
        this._onTransportClose(ws, reason, err);
      },
    });
  }

  _resetPingTimer() {
    clearTimeout(this._pingTimer);
    const hs = this.handshake;
    const ms = (hs.pingInterval ?? 25000) + (hs.pingTimeout ?? 20000);
    this._pingTimer = setTimeout(() => this._onClose("ping timeout", new Error("ping timeout")), ms);
  }

  /** send queues a message packet (Socket.IO text). */
  send(text) {
    this._write(["4" + text]);
  }

  _write(packets) {
    this._buffer.push(...packets);
    this._flush();
  }

  _flush() {
    if (this.readyState !== "open" || this._upgrading || this._buffer.length === 0) return;
    const t = this.transport;
    if (!t.writable) return;
    t.send(this._buffer.splice(0));
  }

  /** close ends the session from our side; the "close" event follows with "forced close". */
  close() {
    if (this.readyState === "closed") return;
    const t = this.transport;
    if (t) {
      if (t.name === "polling") {
        // What is still buffered (e.g. a DISCONNECT) goes first, then the close packet.
        this._flush();
        t.close(this.readyState === "open");
      } else {
        this._flush();
        t.close();
      }
    }
    this._onClose("forced close", null);
  }

  _onClose(reason, err) {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    clearTimeout(this._pingTimer);
    clearTimeout(this._probeTimer);
    if (this._cancelProbe) this._cancelProbe();
    if (this.transport) this.transport.close(false);
    this._buffer = [];
    this._emitLocal("close", reason, err);
  }
}
