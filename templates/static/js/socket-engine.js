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
  #done; #h; #ws;

  constructor(url, WebSocketImpl, handlers) {
    this.name = "websocket";
    this.writable = false;
    this.#h = handlers; // {onOpen, onPacket, onClose(reason, err)}
    this.#done = false;
    let ws;
    try {
      ws = new WebSocketImpl(url.toString());
    } catch (err) {
      queueMicrotask(() => this.#finish("transport error", err));
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      this.writable = true;
      if (this.#h.onOpen) this.#h.onOpen();
    };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") this.#h.onPacket(e.data); // binary frames: unsupported
    };
    ws.onerror = (e) => this.#finish("transport error", e?.error || new Error("websocket error"));
    ws.onclose = (e) => {
      const err = new Error("websocket closed" + (e?.code ? ` (${e.code})` : ""));
      this.#finish("transport close", err);
    };
  }

  send(packets) {
    if (!this.writable) return;
    for (const p of packets) this.#ws.send(p);
  }

  /** isOpen reports whether the WebSocket can still carry frames (not closing, not closed). */
  isOpen() {
    return this.writable && this.#ws.readyState === 1;
  }

  close() {
    this.#done = true;
    this.writable = false;
    if (!this.#ws) return;
    this.#ws.onopen = this.#ws.onmessage = this.#ws.onclose = null;
    this.#ws.onerror = () => {}; // Node's ws reports closing a connecting socket as an error
    try {
      this.#ws.close();
    } catch {
      // closing a socket that never opened may throw in some implementations
    }
  }

  #finish(reason, err) {
    if (this.#done) return;
    this.close();
    this.#h.onClose(reason, err);
  }
}

// PollingTransport is long-polling with fetch: one GET waiting for packets at a time, one POST
// carrying packets at a time (more are queued meanwhile).
class PollingTransport {
  #abort; #base; #done; #fetch; #h; #maxPayload; #onPaused; #paused; #polling; #posted; #posting; #query; #queue; #seq; #sid;

  constructor(base, query, fetchImpl, handlers) {
    this.name = "polling";
    this.writable = false;
    this.#base = base;
    this.#query = query;
    this.#fetch = fetchImpl;
    this.#h = handlers; // {onPacket, onClose(reason, err)}
    this.#sid = null;
    this.#done = false;
    this.#paused = false;
    this.#polling = false;
    this.#posting = false;
    this.#queue = [];
    this.#abort = new AbortController();
    this.#maxPayload = 1e6;
    this.#seq = 0;
    queueMicrotask(() => this.#poll());
  }

  /** opened is called by the Engine once the handshake named the session. */
  opened(sid, maxPayload) {
    this.#sid = sid;
    if (maxPayload > 0) this.#maxPayload = maxPayload;
    this.writable = true;
  }

  #url() {
    const u = transportURL(this.#base, "polling", this.#sid, this.#query);
    u.searchParams.set("t", `${Date.now().toString(36)}${(this.#seq++).toString(36)}`); // no caches
    return u.toString();
  }

  async #poll() {
    if (this.#done || this.#paused) return;
    this.#polling = true;
    let body;
    try {
      const res = await this.#fetch(this.#url(), {
        method: "GET",
        cache: "no-store",
        credentials: "same-origin",
        signal: this.#abort.signal,
      });
      if (!res.ok) throw new Error(`polling GET: HTTP ${res.status}`);
      body = await res.text();
    } catch (err) {
      this.#polling = false;
      this.#fail(err);
      return;
    }
    this.#polling = false;
    if (this.#done) return;
    for (const p of body.split(SEP)) {
      if (this.#done) return;
      if (p !== "") this.#h.onPacket(p);
    }
    if (this.#paused) this.#checkPaused();
    else this.#poll();
  }

  send(packets) {
    this.#queue.push(...packets);
    this.#flush();
  }

  async #flush() {
    if (this.#done || this.#posting || !this.writable || this.#queue.length === 0) return;
    // One body stays under the server's maxPayload (a single larger packet goes alone).
    let size = 0;
    let n = 0;
    for (; n < this.#queue.length; n++) {
      const bytes = utf8Length(this.#queue[n]) + (n > 0 ? 1 : 0);
      if (n > 0 && size + bytes > this.#maxPayload) break;
      size += bytes;
    }
    const batch = this.#queue.splice(0, n);
    this.#posting = true;
    const posted = this.#post(batch.join(SEP));
    this.#posted = posted;
    try {
      await posted;
    } catch (err) {
      this.#posting = false;
      this.#fail(err);
      return;
    }
    this.#posting = false;
    if (this.#paused) this.#checkPaused();
    else this.#flush();
  }

  // #post sends one body. POSTs are not aborted by close(), so that a last DISCONNECT gets out.
  async #post(body) {
    const res = await this.#fetch(this.#url(), {
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
    this.#paused = true;
    this.#onPaused = fn;
    this.#checkPaused();
  }

  /** resume polls again after a pause whose upgrade failed. */
  resume() {
    if (this.#done || !this.#paused) return;
    this.#paused = false;
    this.#onPaused = null;
    if (!this.#polling) this.#poll();
    this.#flush();
  }

  #checkPaused() {
    if (this.#done || this.#polling || this.#posting || !this.#onPaused) return;
    const fn = this.#onPaused;
    this.#onPaused = null;
    fn();
  }

  /** takeQueue returns the packets not yet posted (handed to the new transport on upgrade). */
  takeQueue() {
    return this.#queue.splice(0);
  }

  /** close stops the transport; with sendClose the server is told first (best effort). */
  close(sendClose) {
    if (this.#done) return;
    this.#done = true;
    this.writable = false;
    this.#abort.abort();
    if (sendClose && this.#sid) {
      // What is queued (e.g. a DISCONNECT) and the close packet, after the POST in flight.
      const body = [...this.#queue.splice(0), "1"].join(SEP);
      const after = this.#posting && this.#posted ? this.#posted.catch(() => {}) : Promise.resolve();
      after.then(() => this.#post(body)).catch(() => {});
    }
  }

  #fail(err) {
    if (this.#done) return;
    this.close(false);
    this.#h.onClose("transport error", err);
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
  #opts;
  #buffer; #cancelProbe; #candidates; #pingTimer; #probeTimer; #upgrading;

  constructor(opts) {
    super();
    this.#opts = opts;
    this.readyState = "opening";
    this.sid = null;
    this.transport = null;
    this.handshake = null;
    this.#candidates = opts.transports.slice();
    this.#buffer = [];
    this.#upgrading = false;
    this.#pingTimer = null;
  }

  /** transportName is the name of the transport carrying the session. */
  get transportName() {
    return this.transport ? this.transport.name : null;
  }

  /** open starts the handshake with the first candidate. */
  open() {
    this.#next(null);
    return this;
  }

  #next(err) {
    const name = this.#candidates.shift();
    if (!name) {
      this.#onClose("transport error", err || new Error("no transport"));
      return;
    }
    if (name === "websocket") {
      const t = new WebSocketTransport(
        transportURL(this.#opts.url, "websocket", null, this.#opts.query),
        this.#opts.WebSocket,
        {
          onPacket: (p) => this.#onPacket(t, p),
          onClose: (reason, e) => this.#onTransportClose(t, reason, e),
        },
      );
      this.transport = t;
      // A WebSocket that neither fails nor speaks (a proxy holding it) is given up too.
      this.#probeTimer = setTimeout(() => {
        if (this.readyState === "opening" && this.transport === t) {
          t.close();
          this.#onTransportClose(t, "transport error", new Error("websocket timeout"));
        }
      }, this.#opts.probeTimeout ?? 5000);
    } else {
      const t = new PollingTransport(this.#opts.url, this.#opts.query, this.#opts.fetch, {
        onPacket: (p) => this.#onPacket(t, p),
        onClose: (reason, e) => this.#onTransportClose(t, reason, e),
      });
      this.transport = t;
    }
  }

  #onTransportClose(t, reason, err) {
    if (t !== this.transport || this.readyState === "closed") return;
    if (this.readyState === "opening" && this.#candidates.length > 0) {
      clearTimeout(this.#probeTimer);
      this._emitLocal("fallback", t.name, err);
      this.#next(err);
      return;
    }
    this.#onClose(reason, err);
  }

  #onPacket(t, packet) {
    if (t !== this.transport || this.readyState === "closed") return;
    const type = packet[0];
    if (this.readyState === "opening") {
      if (type !== "0") {
        this.#onClose("parse error", new Error("expected the open packet"));
        return;
      }
      let hs;
      try {
        hs = JSON.parse(packet.slice(1));
      } catch (err) {
        this.#onClose("parse error", err);
        return;
      }
      this.#onHandshake(t, hs);
      return;
    }
    switch (type) {
      case "2": // ping
        this.#resetPingTimer();
        this.#write(["3"]);
        this._emitLocal("ping");
        break;
      case "4":
        this._emitLocal("message", packet.slice(1));
        break;
      case "1":
        this.#onClose("transport close", new Error("closed by the server"));
        break;
      default: // "6" noop, "3" pong, binary ("b…"): nothing to do
    }
  }

  #onHandshake(t, hs) {
    clearTimeout(this.#probeTimer);
    this.handshake = hs;
    this.sid = hs.sid;
    this.readyState = "open";
    if (t.opened) t.opened(hs.sid, hs.maxPayload);
    this.#resetPingTimer();
    this._emitLocal("open", hs);
    this.#flush();
    const upgrades = Array.isArray(hs.upgrades) ? hs.upgrades : [];
    if (t.name === "polling" && this.#opts.upgrade && this.#opts.WebSocket && upgrades.includes("websocket")) {
      this.#probe();
    }
  }

  // #probe upgrades a polling session to WebSocket. Any failure leaves it on polling.
  #probe() {
    let done = false;
    let ws = null;
    const polling = this.transport;
    const fail = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ws) ws.close();
      this.#upgrading = false;
      if (this.readyState !== "open") return;
      polling.resume(); // when the probe failed after pausing it
      this.#flush();
    };
    const timer = setTimeout(fail, this.#opts.probeTimeout ?? 5000);
    this.#cancelProbe = fail;
    ws = new WebSocketTransport(transportURL(this.#opts.url, "websocket", this.sid, this.#opts.query), this.#opts.WebSocket, {
      onOpen: () => ws.send(["2probe"]),
      onPacket: (p) => {
        if (done) {
          if (ws === this.transport) this.#onPacket(ws, p);
          return;
        }
        if (p !== "3probe" || this.readyState !== "open") return fail();
        clearTimeout(timer);
        this.#upgrading = true;
        polling.pause(() => {
          // The probe may have died while the poller drained: then stay on polling.
          if (done || this.readyState !== "open" || !ws.isOpen()) return fail();
          done = true;
          const left = polling.takeQueue();
          polling.close(false);
          ws.send(["5", ...left]);
          this.transport = ws;
          this.#upgrading = false;
          this._emitLocal("upgrade", "websocket");
          this.#flush();
        });
      },
      onClose: (reason, err) => {
        if (!done) return fail();
        this.#onTransportClose(ws, reason, err);
      },
    });
  }

  #resetPingTimer() {
    clearTimeout(this.#pingTimer);
    const hs = this.handshake;
    const ms = (hs.pingInterval ?? 25000) + (hs.pingTimeout ?? 20000);
    this.#pingTimer = setTimeout(() => this.#onClose("ping timeout", new Error("ping timeout")), ms);
  }

  /** send queues a message packet (Socket.IO text). */
  send(text) {
    this.#write(["4" + text]);
  }

  #write(packets) {
    this.#buffer.push(...packets);
    this.#flush();
  }

  #flush() {
    if (this.readyState !== "open" || this.#upgrading || this.#buffer.length === 0) return;
    const t = this.transport;
    if (!t.writable) return;
    t.send(this.#buffer.splice(0));
  }

  /** close ends the session from our side; the "close" event follows with "forced close". */
  close() {
    if (this.readyState === "closed") return;
    const t = this.transport;
    if (t) {
      if (t.name === "polling") {
        // What is still buffered (e.g. a DISCONNECT) goes first, then the close packet.
        this.#flush();
        t.close(this.readyState === "open");
      } else {
        this.#flush();
        t.close();
      }
    }
    this.#onClose("forced close", null);
  }

  #onClose(reason, err) {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    clearTimeout(this.#pingTimer);
    clearTimeout(this.#probeTimer);
    if (this.#cancelProbe) this.#cancelProbe();
    if (this.transport) this.transport.close(false);
    this.#buffer = [];
    this._emitLocal("close", reason, err);
  }
}
