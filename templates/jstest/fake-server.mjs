// An in-memory server speaking the doc_* protocol of docs/realtime.md, and a network that delivers
// its messages one step at a time, in an order the protocol allows: each direction of each socket
// is first in, first out (as over one WebSocket), sockets interleave at random. Nothing here
// waits on real time: tests call step() and settle().

import * as ot from "../static/js/ot.js";

/** settle lets every promise continuation that is ready run (no timers involved). */
export function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** FakeClock provides now, setTimer and clearTimer that only move when advance() is called. */
export class FakeClock {
  constructor() {
    this.t = 0;
    this.timers = new Map();
    this.nextID = 1;
    this.now = () => this.t;
    this.setTimer = (fn, ms) => {
      const id = this.nextID++;
      this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
      return id;
    };
    this.clearTimer = (id) => this.timers.delete(id);
  }
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      let first = null;
      for (const [id, tm] of this.timers) if (tm.at <= end && (!first || tm.at < first[1].at)) first = [id, tm];
      if (!first) break;
      this.timers.delete(first[0]);
      this.t = first[1].at;
      first[1].fn();
    }
    this.t = end;
  }
}

/** FakeServer holds one document per pageId and its op log. */
export class FakeServer {
  constructor(pages = { p1: "" }) {
    this.docs = new Map();
    for (const [id, content] of Object.entries(pages)) {
      this.docs.set(id, { content, version: 0, ops: [], minKept: 0, seen: new Map() });
    }
    this.sockets = new Set();
    this.failNext = []; // error codes to answer the next doc_op with, e.g. "rate_limited"
  }

  doc(pageId) {
    return this.docs.get(pageId);
  }

  /** forget drops the ops of pageId up to now: doc_ops and doc_op before now answer too_old. */
  forget(pageId) {
    const d = this.docs.get(pageId);
    d.minKept = d.version;
    d.ops = [];
  }

  handle(sock, event, payload) {
    const d = this.docs.get(payload && payload.pageId);
    if (!d) return { ok: false, error: { code: "not_found", message: "no such page" } };
    switch (event) {
      case "doc_open":
        sock.rooms.add(payload.pageId);
        return { ok: true, pageId: payload.pageId, version: d.version, content: d.content };
      case "doc_ops":
        if (payload.since < d.minKept) return { ok: false, error: { code: "too_old", message: "gone" } };
        return { ok: true, version: d.version, ops: d.ops.filter((o) => o.version > payload.since) };
      case "doc_op":
        return this.submit(sock, d, payload);
      case "doc_selection":
        this.broadcast(sock, payload.pageId, "doc_selection", {
          pageId: payload.pageId, userId: sock.userId, name: sock.name,
          version: payload.version, ranges: payload.ranges,
        });
        return { ok: true };
      default:
        return { ok: false, error: { code: "bad_request", message: event } };
    }
  }

  submit(sock, d, p) {
    const key = `${p.clientId}:${p.seq}`;
    if (d.seen.has(key)) return { ok: true, version: d.seen.get(key) };
    if (this.failNext.length) {
      const code = this.failNext.shift();
      return { ok: false, error: { code, message: code } };
    }
    if (!Number.isInteger(p.version) || p.version < d.minKept) {
      return { ok: false, error: { code: "too_old", message: "gone" } };
    }
    if (p.version > d.version || !ot.isOp(p.op)) {
      return { ok: false, error: { code: "invalid_op", message: "bad version or op" } };
    }
    let op = p.op;
    for (const o of d.ops) if (o.version > p.version) op = ot.transform(op, o.op)[0]; // one by one
    if (ot.baseLength(op) !== ot.cpLength(d.content)) {
      return { ok: false, error: { code: "invalid_op", message: "op does not fit" } };
    }
    d.content = ot.apply(d.content, op);
    d.version++;
    const rec = { version: d.version, op, userId: sock.userId, clientId: p.clientId, seq: p.seq };
    d.ops.push(rec);
    d.seen.set(key, d.version);
    this.broadcast(sock, p.pageId, "doc_op", { pageId: p.pageId, ...rec });
    return { ok: true, version: d.version };
  }

  broadcast(from, pageId, event, payload) {
    for (const s of this.sockets) {
      if (s !== from && s.rooms.has(pageId)) s.toClient.push({ event, payload: structuredClone(payload) });
    }
  }
}

/**
 * Net links FakeTransports to a FakeServer. A transport outlives its sockets, like a
 * socket.io-client Socket: emits while disconnected are buffered and sent on reconnect; what was
 * on the wire when the socket dropped may or may not have reached the server; acks and events
 * on the way to the client are lost.
 */
export class Net {
  constructor(server, r) {
    this.server = server;
    this.r = r;
    this.live = new Set(); // server-side sockets
  }

  transport(userId, name = userId) {
    return new FakeTransport(this, userId, name);
  }

  // pending lists the queues that have something to deliver.
  pending() {
    const qs = [];
    for (const s of this.live) {
      if (s.toServer.length) qs.push([s, "toServer"]);
      if (s.toClient.length) qs.push([s, "toClient"]);
    }
    return qs;
  }

  /** step delivers one message chosen at random; false when nothing is pending. */
  step() {
    const qs = this.pending();
    if (!qs.length) return false;
    const [s, dir] = qs[Math.floor(this.r() * qs.length)];
    this.deliver(s, dir);
    return true;
  }

  deliver(s, dir) {
    const m = s[dir].shift();
    if (dir === "toServer") {
      const ack = this.server.handle(s, m.event, structuredClone(m.payload));
      if (m.resolve) s.toClient.push({ ack: structuredClone(ack), resolve: m.resolve });
    } else if (m.resolve) {
      m.resolve(m.ack);
    } else {
      s.transport.fire(m.event, m.payload);
    }
  }

  /** drop cuts a socket: each message on its way to the server arrives or not, at random. */
  drop(s) {
    for (const m of s.toServer) if (this.r() < 0.5) this.server.handle(s, m.event, structuredClone(m.payload));
    s.toServer = [];
    s.toClient = [];
    this.live.delete(s);
    this.server.sockets.delete(s);
  }
}

export class FakeTransport {
  constructor(net, userId, name) {
    this.net = net;
    this.userId = userId;
    this.name = name;
    this.connected = false;
    this.handlers = new Map();
    this.buffer = [];
    this.sock = null;
    this.sent = []; // every emit, for assertions: [event, payload]
  }
  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
    return this;
  }
  off(event, fn) {
    this.handlers.get(event)?.delete(fn);
    return this;
  }
  fire(event, payload) {
    for (const fn of [...(this.handlers.get(event) || [])]) fn(payload);
  }
  emitWithAck(event, payload) {
    this.sent.push([event, structuredClone(payload)]);
    return new Promise((resolve) => {
      const m = { event, payload: structuredClone(payload), resolve };
      if (this.connected) this.sock.toServer.push(m);
      else this.buffer.push(m);
    });
  }
  emit(event, payload) {
    this.sent.push([event, structuredClone(payload)]);
    const m = { event, payload: structuredClone(payload) };
    if (this.connected) this.sock.toServer.push(m);
    else this.buffer.push(m);
  }
  connect() {
    if (this.connected) return;
    const s = { transport: this, userId: this.userId, name: this.name, rooms: new Set(), toServer: [], toClient: [] };
    this.sock = s;
    this.net.live.add(s);
    this.net.server.sockets.add(s);
    this.connected = true;
    s.toServer.push(...this.buffer);
    this.buffer = [];
    this.fire("connect");
  }
  disconnect() {
    if (!this.connected) return;
    this.net.drop(this.sock);
    this.sock = null;
    this.connected = false;
    this.fire("disconnect", "transport close");
  }
}
