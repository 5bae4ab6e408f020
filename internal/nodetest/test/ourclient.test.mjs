// The web UI's own Socket.IO client (templates/static/js/socket.js) against the Go test server:
// the scenarios of compat.test.mjs that apply to it, plus its transport policy, heartbeat and
// state. Node 20 has fetch but no global WebSocket: the `ws` package (installed with
// socket.io-client) is injected. Every wait has a deadline; nothing sleeps.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { WebSocket as WS } from "ws";

import { Socket, Status, backoff, decodePacket } from "../../../templates/static/js/socket.js";
import { deadline, next, record, startServer } from "../harness.mjs";

let server;
const sockets = new Set();

before(async () => {
  server = await startServer();
}, { timeout: 120_000 });

after(async () => {
  await server?.stop();
});

afterEach(() => {
  for (const s of sockets) s.disconnect();
  sockets.clear();
});

/** A WebSocket constructor that always fails, as when a proxy blocks WebSocket. */
class BlockedWebSocket {
  static opened = 0;
  constructor() {
    BlockedWebSocket.opened++;
    queueMicrotask(() => {
      this.onerror?.({ type: "error" });
      this.onclose?.({ code: 1006 });
    });
  }
  send() {
    throw new Error("not open");
  }
  close() {}
}

/**
 * A `ws` WebSocket that can be black-holed: after blackhole(), nothing it receives reaches the
 * client, not even the close, as when the network silently stops delivering.
 */
function holeyWebSocket() {
  const all = [];
  class Holey extends WS {
    constructor(...args) {
      super(...args);
      this.hole = false;
      all.push(this);
      for (const name of ["onmessage", "onclose", "onerror"]) {
        let handler = null;
        Object.defineProperty(this, name, {
          get: () => handler,
          set: (fn) => {
            handler = fn;
            super[name] = fn && ((e) => !this.hole && fn(e));
          },
        });
      }
    }
  }
  return { Holey, blackholeAll: () => all.forEach((w) => (w.hole = true)) };
}

/** A client on the test server; it reconnects quickly so that tests stay short. */
function client(opts = {}) {
  const s = new Socket(server.url, {
    WebSocket: WS,
    reconnectionDelay: 100,
    reconnectionDelayMax: 200,
    auth: { token: "good" },
    ...opts,
  });
  sockets.add(s);
  return s;
}

async function connected(s) {
  if (!s.connected) await next(s, "connect");
  return s;
}

const call = (s, event, ...args) => s.timeout(5000).emitWithAck(event, ...args);

describe("our client: transports", () => {
  it("connects on WebSocket directly", async () => {
    const s = await connected(client());
    assert.equal(s.transport, "websocket");
    assert.equal(s.state.status, Status.CONNECTED);
    assert.equal(await call(s, "echo", "ws"), "ws");
  });

  it("falls back to long-polling when WebSocket is blocked, and remembers it", async () => {
    BlockedWebSocket.opened = 0;
    const s = client({ WebSocket: BlockedWebSocket });
    await connected(s);
    assert.equal(s.transport, "polling");
    assert.equal(BlockedWebSocket.opened, 2, "one direct try, one upgrade probe");
    assert.deepEqual(await call(s, "echo", { a: [1, true, null] }), { a: [1, true, null] });
    // Several packets in flight at once share POST bodies (\x1e) and GET answers.
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => call(s, "echo", `n${i}é😀`)));
    assert.deepEqual(many, Array.from({ length: 50 }, (_, i) => `n${i}é😀`));
    // A reconnect starts on polling at once: the direct WebSocket is not tried again.
    const back = next(s, "connect", 10_000);
    s.engine.close();
    await back;
    assert.equal(s.transport, "polling");
    assert.equal(BlockedWebSocket.opened, 3, "only the upgrade probe this time");
    assert.equal(await call(s, "echo", "again"), "again");
  });

  it("gives up a WebSocket that never speaks after probeTimeout and polls", async () => {
    let made = 0;
    class SilentWebSocket {
      constructor() {
        made++;
      }
      send() {}
      close() {}
    }
    const s = client({ WebSocket: SilentWebSocket, probeTimeout: 200, upgrade: false });
    const errors = record(s, ["connect_error"]);
    await connected(s);
    assert.equal(s.transport, "polling");
    assert.equal(made, 1);
    assert.equal(errors.all("connect_error").length, 0, "a fallback is not a failed attempt");
    assert.equal(await call(s, "echo", "held"), "held");
  });

  it("does not remember WebSocket as blocked when the server is down", async () => {
    const s = client({ path: "/nowhere/" });
    const ev = record(s, ["connect_error"]);
    await ev.nth("connect_error", 1);
    assert.equal(s._wsFailed, false);
  });

  it("works with polling only, and is told to leave over polling", async () => {
    const s = await connected(client({ transports: ["polling"] }));
    assert.equal(s.transport, "polling");
    assert.equal(await call(s, "echo", "p"), "p");
    const [reason] = await Promise.all([next(s, "disconnect").then((a) => a[0]), s.emit("kick")]);
    assert.equal(reason, "io server disconnect");
    assert.equal(s.active, false);
  });

  it("upgrades from polling to WebSocket after a fallback once WebSocket works", async () => {
    const s = client({ transports: ["polling", "websocket"] });
    await connected(s);
    if (s.transport !== "websocket") await next(s.engine, "upgrade");
    assert.equal(s.transport, "websocket");
    assert.equal(await call(s, "echo", "after upgrade"), "after upgrade");
  });
  it("stays on polling, still working, when the upgrade fails after the probe", async () => {
    // The probe's WebSocket answers 3probe, then dies while the poller is paused for the switch.
    let died;
    const death = new Promise((resolve) => (died = resolve));
    class DyingProbe extends WS {
      constructor(url, ...rest) {
        super(url, ...rest);
        if (!url.includes("sid=")) return;
        let handler = null;
        Object.defineProperty(this, "onmessage", {
          get: () => handler,
          set: (fn) => {
            handler = fn;
            super.onmessage = fn && ((e) => {
              fn(e);
              if (e.data === "3probe") {
                this.terminate();
                died();
              }
            });
          },
        });
      }
    }
    const s = await connected(client({ transports: ["polling", "websocket"], WebSocket: DyingProbe }));
    await deadline(death, 5000, "the probe's 3probe");
    assert.equal(await call(s, "echo", "still polling"), "still polling");
    assert.equal(s.transport, "polling");
    assert.equal(s.connected, true);
  });
});

describe("our client: auth", () => {
  it("sends the auth object and connects", async () => {
    const s = await connected(client());
    assert.ok(s.id);
    assert.equal(s.recovered, false);
  });

  for (const [name, auth] of [["a bad token", { token: "bad" }], ["no auth", undefined]]) {
    it(`refuses ${name} with connect_error message and data, and does not retry`, async () => {
      const s = client({ auth });
      const attempts = record(s, ["reconnect_attempt"]);
      const [err] = await next(s, "connect_error");
      assert.equal(err.message, "unauthorized");
      assert.deepEqual(err.data, { code: "invalid_token" });
      assert.equal(s.connected, false);
      assert.equal(s.active, false);
      assert.equal(s.state.status, Status.OFFLINE);
      assert.equal(attempts.all("reconnect_attempt").length, 0);
    });
  }

  it("evaluates an auth function on every attempt, so a new token is used", async () => {
    const tokens = ["bad", "good"];
    const s = client({ auth: (cb) => cb({ token: tokens.shift() }) });
    const [err] = await next(s, "connect_error");
    assert.equal(err.message, "unauthorized");
    s.connect();
    await connected(s);
    assert.equal(tokens.length, 0);
  });

  it("accepts an auth function returning a Promise", async () => {
    await connected(client({ auth: async () => ({ token: "good" }) }));
  });
});

describe("our client: acknowledgements and events", () => {
  it("client to server, several arguments, with emit's callback", async () => {
    const s = await connected(client());
    const got = await deadline(new Promise((resolve) => s.emit("echo", 1, "2", { 3: [true] }, (...a) => resolve(a))), 5000, "ack");
    assert.deepEqual(got, [1, "2", { 3: [true] }]);
  });

  it("server to client, inside a handler", async () => {
    const s = client();
    s.on("question", (q, cb) => cb(`answer to ${q}`));
    await connected(s);
    assert.deepEqual(await call(s, "ask", "life"), { answer: ["answer to life"] });
  });

  it("rejects emitWithAck after its timeout", async () => {
    const s = await connected(client());
    // The server has no handler for this event, so no acknowledgement ever comes.
    await assert.rejects(s.timeout(100).emitWithAck("no such event"), /timed out/);
  });

  it("refuses binary arguments and reserved names", async () => {
    const s = await connected(client());
    assert.throws(() => s.emit("echo", new Uint8Array([1])), TypeError);
    assert.throws(() => s.emit("connect"), /reserved/);
  });

  it("delivers room broadcasts to others; on/off/once", async () => {
    const [a, b, c] = [client(), client(), client()];
    const got = new Map([a, b, c].map((s) => [s, record(s, ["shout"])]));
    let onceCount = 0;
    b.once("shout", () => onceCount++);
    const off = () => assert.fail("an off listener was called");
    b.on("shout", off);
    b.off("shout", off);
    await Promise.all([a, b, c].map(connected));
    assert.deepEqual(await call(a, "join", "room-1"), { ok: true, room: "room-1" });
    assert.deepEqual(await call(b, "join", "room-1"), { ok: true, room: "room-1" });
    assert.deepEqual(await call(c, "join", "room-2"), { ok: true, room: "room-2" });
    assert.deepEqual(await call(a, "shout", { room: "room-1", msg: "hi" }), { ok: true });
    assert.deepEqual(await call(a, "shout", { room: "room-1", msg: "again" }), { ok: true });
    const [first] = await got.get(b).nth("shout", 0);
    assert.deepEqual(first, { from: a.id, msg: "hi" });
    await got.get(b).nth("shout", 1);
    await call(a, "echo", "barrier");
    await call(c, "echo", "barrier");
    assert.equal(got.get(a).all("shout").length, 0);
    assert.equal(got.get(c).all("shout").length, 0);
    assert.equal(onceCount, 1);
  });

  it("buffers what is emitted while disconnected and sends it on connect", async () => {
    const s = client({ autoConnect: false });
    const answer = call(s, "echo", "buffered");
    assert.equal(s.state.status, Status.OFFLINE);
    s.connect();
    assert.equal(await answer, "buffered");
  });
});

describe("our client: disconnection and reconnection", () => {
  it("does not reconnect after a server DISCONNECT", async () => {
    const s = await connected(client());
    const ev = record(s, ["disconnect", "reconnect_attempt"]);
    s.emit("kick");
    const [reason] = await ev.nth("disconnect", 0);
    assert.equal(reason, "io server disconnect");
    assert.equal(s.active, false);
    assert.equal(s.state.status, Status.OFFLINE);
    // connect() by hand works again.
    s.connect();
    await connected(s);
    assert.equal(ev.all("reconnect_attempt").length, 0);
  });

  it("disconnect() says io client disconnect and stays offline", async () => {
    const s = await connected(client());
    const got = next(s, "disconnect");
    s.disconnect();
    assert.deepEqual((await got)[0], "io client disconnect");
    assert.equal(s.state.status, Status.OFFLINE);
    assert.equal(s.active, false);
  });

  it("reconnects by itself when the transport is cut, with state and attempt events", async () => {
    const s = await connected(client());
    const firstID = s.id;
    const ev = record(s, ["disconnect", "reconnect_attempt", "state", "connect"]);
    const pending = s.emitWithAck("drop"); // answered by nobody: the transport goes
    const [reason] = await ev.nth("disconnect", 0);
    assert.equal(reason, "transport close");
    await assert.rejects(pending, /disconnected/);
    const buffered = call(s, "echo", "emitted while away"); // sent once connected again
    const [n] = await ev.nth("reconnect_attempt", 0);
    assert.equal(n, 1);
    await ev.nth("connect", 0, 10_000);
    assert.notEqual(s.id, firstID);
    const statuses = ev.all("state").map(([st]) => st.status);
    assert.deepEqual(statuses.slice(-3), [Status.RECONNECTING, Status.CONNECTING, Status.CONNECTED]);
    const waiting = ev.all("state").find(([st]) => st.status === Status.RECONNECTING && st.nextTryAt)[0];
    assert.equal(waiting.attempt, 1);
    assert.ok(waiting.nextTryAt > Date.now() - 1000);
    assert.equal(await buffered, "emitted while away");
    assert.equal(await call(s, "echo", "back"), "back");
  });

  it("keeps retrying with back-off while the server is unreachable", async () => {
    const s = client({ path: "/nowhere/" }); // 404: every attempt fails
    const ev = record(s, ["connect_error", "reconnect_attempt"]);
    await ev.nth("reconnect_attempt", 2, 5000);
    assert.ok(ev.all("connect_error").length >= 3);
    assert.equal(s.active, true);
    assert.equal(s.connected, false);
  });

  it("gives up an attempt whose CONNECT is never answered after timeout, and retries", async () => {
    let swallowed = 0;
    class NoConnectReply extends WS {
      constructor(...args) {
        super(...args);
        let handler = null;
        Object.defineProperty(this, "onmessage", {
          get: () => handler,
          set: (fn) => {
            handler = fn;
            // The first CONNECT reply is lost; later ones get through.
            super.onmessage = fn && ((e) => (e.data.startsWith("40") && swallowed++ === 0 ? undefined : fn(e)));
          },
        });
      }
    }
    const s = client({ WebSocket: NoConnectReply, timeout: 300 });
    const ev = record(s, ["connect_error", "connect"]);
    const [err] = await ev.nth("connect_error", 0);
    assert.equal(err.message, "timeout");
    assert.equal(s.active, true);
    await ev.nth("connect", 0);
    assert.equal(swallowed, 2);
    assert.equal(await call(s, "echo", "in time"), "in time");
  });

  it("gives up after reconnectionAttempts with reconnect_failed", async () => {
    const s = client({ path: "/nowhere/", reconnectionAttempts: 2 });
    const ev = record(s, ["connect_error", "reconnect_attempt", "reconnect_failed"]);
    await ev.nth("reconnect_failed", 0);
    assert.equal(ev.all("reconnect_attempt").length, 2);
    assert.equal(ev.all("connect_error").length, 3);
    assert.equal(s.active, false);
    assert.equal(s.state.status, Status.OFFLINE);
  });

  it("backoff doubles from reconnectionDelay to reconnectionDelayMax with ±factor jitter", () => {
    const o = { reconnectionDelay: 1000, reconnectionDelayMax: 5000, randomizationFactor: 0.5 };
    assert.deepEqual([0, 1, 2, 3, 10].map((n) => backoff(n, o, () => 0.5)), [1000, 2000, 4000, 5000, 5000]);
    assert.equal(backoff(0, o, () => 0), 500);
    assert.equal(backoff(0, o, () => 1), 1500);
    assert.equal(backoff(2, o, () => 1), 5000);
  });
});

describe("our client: heartbeat", () => {
  for (const transports of [["websocket"], ["polling"]]) {
    it(`answers pings, so the session outlives several ping intervals (${transports[0]})`, async () => {
      const s = await connected(client({ path: "/fastping/", auth: undefined, transports }));
      assert.equal(s.transport, transports[0]);
      const id = s.id;
      const pings = record(s.engine, ["ping"]);
      await pings.nth("ping", 4, 5000); // 5 × 300 ms: past pingInterval + pingTimeout
      assert.equal(s.connected, true);
      assert.equal(s.id, id);
      assert.equal(await call(s, "echo", "alive"), "alive");
    });
  }

  it("closes and reconnects when no ping arrives in pingInterval + pingTimeout", async () => {
    const { Holey, blackholeAll } = holeyWebSocket();
    const s = await connected(client({ path: "/fastping/", auth: undefined, WebSocket: Holey }));
    const ev = record(s, ["disconnect", "connect"]);
    blackholeAll();
    const [reason] = await ev.nth("disconnect", 0, 3000);
    assert.equal(reason, "ping timeout");
    await ev.nth("connect", 0, 5000);
    assert.equal(await call(s, "echo", "after"), "after");
  });
});

describe("our client: connection state recovery", () => {
  it("recovers the session after a cut; the offset is passed to listeners and sent back", async () => {
    const s = client({ path: "/recovery/", auth: undefined });
    const ev = record(s, ["session", "news", "plain-back"]);
    await connected(s);
    assert.equal(s.recovered, false);
    const [first] = await ev.nth("session", 0);
    assert.equal(first.recovered, false);

    const news = await ev.nth("news", 0);
    assert.equal(news.length, 2, `listener got ${JSON.stringify(news)}`);
    assert.equal(news[0], "hello");
    const offset = news[1];
    assert.match(offset, /^offset-\d+$/);

    let reconnected = next(s, "connect", 10_000);
    s.emit("drop");
    await reconnected;
    const [second] = await ev.nth("session", 1);
    assert.equal(s.recovered, true);
    assert.equal(second.recovered, true);
    assert.equal(second.pid, first.pid);
    assert.deepEqual(second.auth, { pid: first.pid, offset });

    await ev.nth("news", 1);
    s.emit("plain", "just a string");
    await ev.nth("plain-back", 0);
    reconnected = next(s, "connect", 10_000);
    s.emit("drop");
    await reconnected;
    const [third] = await ev.nth("session", 2);
    assert.equal(third.offset, "just a string");
    assert.equal(s.recovered, true);
  });

  it("merges pid and offset into the auth object", async () => {
    const s = client({ path: "/recovery/", auth: { token: "t" } });
    const ev = record(s, ["session", "news"]);
    await connected(s);
    const [first] = await ev.nth("session", 0);
    assert.deepEqual(first.auth, { token: "t" });
    const [, offset] = await ev.nth("news", 0);
    const back = next(s, "connect", 10_000);
    s.emit("drop");
    await back;
    const [second] = await ev.nth("session", 1);
    assert.deepEqual(second.auth, { token: "t", pid: first.pid, offset });
  });
});

describe("our client: packet decoding", () => {
  it("decodes the Socket.IO packet forms", () => {
    assert.deepEqual(decodePacket('0{"sid":"x"}'), { type: 0, id: undefined, data: { sid: "x" } });
    assert.deepEqual(decodePacket('212["a",1]'), { type: 2, id: 12, data: ["a", 1] });
    assert.deepEqual(decodePacket("37[]"), { type: 3, id: 7, data: [] });
    assert.deepEqual(decodePacket("1"), { type: 1, id: undefined, data: undefined });
    assert.equal(decodePacket('2/custom,["a"]'), null);
    assert.equal(decodePacket('51-/custom,["a",{"_placeholder":true,"num":0}]'), null);
    assert.throws(() => decodePacket("9"));
    assert.throws(() => decodePacket("2[oops"));
  });
});
