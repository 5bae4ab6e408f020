// Compatibility of the Go Socket.IO engine with the official socket.io-client (pinned in
// package.json). Every wait has a deadline; nothing sleeps.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { io } from "socket.io-client";

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

/** A client with its own connection; it reconnects quickly so that tests stay short. */
function client(nsp = "/", opts = {}) {
  const s = io(server.url + nsp, {
    forceNew: true,
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

/** Emits with an acknowledgement and resolves with all of its arguments. */
function ack(s, event, ...args) {
  return new Promise((resolve, reject) => {
    s.timeout(5000).emit(event, ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
  });
}

async function upgraded(s) {
  const engine = s.io.engine;
  if (engine.transport.name !== "websocket") await next(engine, "upgrade");
  assert.equal(engine.transport.name, "websocket");
}

describe("transports", () => {
  it("starts on long-polling and upgrades to WebSocket by default", async () => {
    const s = client();
    assert.equal(s.io.engine.transport.name, "polling");
    await connected(s);
    await upgraded(s);
    assert.deepEqual(await ack(s, "echo", "after upgrade", 42), ["after upgrade", 42]);
  });

  it("connects on WebSocket only", async () => {
    const s = client("/", { transports: ["websocket"] });
    assert.equal(s.io.engine.transport.name, "websocket");
    await connected(s);
    assert.equal(await s.timeout(5000).emitWithAck("echo", "ws only"), "ws only");
  });

  it("works on long-polling only", async () => {
    const s = client("/", { transports: ["polling"] });
    await connected(s);
    assert.deepEqual(await ack(s, "echo", { a: [1, true, null] }), [{ a: [1, true, null] }]);
    assert.equal(s.io.engine.transport.name, "polling");
  });
});

describe("auth", () => {
  it("accepts a good token", async () => {
    const s = await connected(client());
    assert.ok(s.id);
  });

  for (const [name, auth] of [["a bad token", { token: "bad" }], ["no auth", undefined]]) {
    it(`refuses ${name} with connect_error data and does not retry`, async () => {
      const s = client("/", { auth });
      const [err] = await next(s, "connect_error");
      assert.equal(err.message, "unauthorized");
      assert.deepEqual(err.data, { code: "invalid_token" });
      assert.equal(s.connected, false);
      assert.equal(s.active, false); // a refusal by the server is final
    });
  }
});

describe("acknowledgements", () => {
  it("client to server, several arguments", async () => {
    const s = await connected(client());
    assert.deepEqual(await ack(s, "echo", 1, "2", { 3: [true] }), [1, "2", { 3: [true] }]);
  });

  it("server to client, inside a handler", async () => {
    const s = client();
    s.on("question", (q, cb) => cb(`answer to ${q}`));
    await connected(s);
    assert.deepEqual(await ack(s, "ask", "life"), [{ answer: ["answer to life"] }]);
  });
});

describe("binary", () => {
  it("travels both ways as Buffers", async () => {
    const s = client();
    const events = record(s, ["binary-back"]);
    await connected(s);
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const [label, echoed] = await ack(s, "binary", "label", bytes);
    assert.equal(label, "label");
    assert.ok(Buffer.isBuffer(echoed), `ack argument is ${echoed?.constructor?.name}`);
    assert.deepEqual(echoed, bytes);
    const [label2, pushed] = await events.nth("binary-back", 0);
    assert.equal(label2, "label");
    assert.ok(Buffer.isBuffer(pushed));
    assert.deepEqual(pushed, bytes);
  });

  it("travels on long-polling too", async () => {
    const s = await connected(client("/", { transports: ["polling"] }));
    const bytes = Buffer.from("binary over polling");
    const [echoed] = await ack(s, "binary", bytes);
    assert.deepEqual(Buffer.from(echoed), bytes);
  });
});

describe("rooms", () => {
  it("broadcasts to the room except the sender", async () => {
    const [a, b, c] = [client(), client(), client()];
    const got = new Map([a, b, c].map((s) => [s, record(s, ["shout"])]));
    await Promise.all([a, b, c].map(connected));
    assert.deepEqual(await ack(a, "join", "room-1"), [{ ok: true, room: "room-1" }]);
    assert.deepEqual(await ack(b, "join", "room-1"), [{ ok: true, room: "room-1" }]);
    assert.deepEqual(await ack(c, "join", "room-2"), [{ ok: true, room: "room-2" }]);

    assert.deepEqual(await ack(a, "shout", { room: "room-1", msg: "hi" }), [{ ok: true }]);
    const [shout] = await got.get(b).nth("shout", 0);
    assert.deepEqual(shout, { from: a.id, msg: "hi" });
    // The broadcast was queued on every target before the sender's ack, and each connection
    // delivers in order: a round trip done now would come after it.
    await ack(a, "echo", "barrier");
    await ack(c, "echo", "barrier");
    assert.equal(got.get(a).all("shout").length, 0, "the sender got its own shout");
    assert.equal(got.get(c).all("shout").length, 0, "a socket outside the room got the shout");
  });
});

describe("reconnection", () => {
  for (const [name, opts] of [["after an upgrade", {}], ["on WebSocket only", { transports: ["websocket"] }]]) {
    it(`reconnects by itself when the transport is cut (${name})`, async () => {
      const s = await connected(client("/", opts));
      await upgraded(s);
      const firstID = s.id;
      const disconnected = next(s, "disconnect");
      const reconnected = next(s, "connect", 10_000);
      s.emit("drop");
      const [reason] = await disconnected;
      assert.equal(reason, "transport close");
      await reconnected;
      assert.notEqual(s.id, firstID);
      assert.deepEqual(await ack(s, "echo", "back"), ["back"]);
    });
  }
});

describe("load", () => {
  it("serves 200 concurrent clients, each with an ack round trip", { timeout: 30_000 }, async () => {
    const n = 200;
    const all = Array.from({ length: n }, () => client("/load"));
    await deadline(Promise.all(all.map(connected)), 20_000, `${n} connections`);
    const answers = await Promise.all(all.map((s, i) => ack(s, "echo", i)));
    answers.forEach((a, i) => assert.deepEqual(a, [i]));
    assert.deepEqual(await ack(all[0], "count"), [n]);
  });
});

describe("connection state recovery", () => {
  it("recovers the session after a cut; the offset is not stripped", async () => {
    const s = client("/", { path: "/recovery/", transports: ["websocket"], auth: undefined });
    const ev = record(s, ["session", "news", "plain-back"]);
    await connected(s);
    assert.equal(s.recovered, false);
    const [first] = await ev.nth("session", 0);
    assert.equal(first.recovered, false);

    // The offset arrives as the last argument: socket.io-client 4.8 hands it to the listener.
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
    assert.equal(second.offset, offset);

    // Any event whose last argument is a string moves the client's offset, recoverable or not.
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
});
