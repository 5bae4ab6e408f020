// The product end to end with the web UI's own socket client (templates/static/js/socket.js):
// the real binary (app.mjs), users and content made over REST, realtime on WebSocket and, with
// WebSocket blocked, on long-polling. Runs on SQLite, or on PostgreSQL with
// PAGESPACE_TEST_DB=postgres. Every wait has a deadline; nothing sleeps. The steps build on each
// other and run in order.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket as WS } from "ws";

import { Socket, Status } from "../../../templates/static/js/socket.js";
import { api, dialect, message, post as postAt, signup as signupAt, startApp } from "../app.mjs";
import { call, connected, next, record } from "../harness.mjs";

let app;
const sockets = new Set();

before(async () => {
  app = await startApp();
}, { timeout: 180_000 });

after(async () => {
  for (const s of sockets) s.disconnect();
  await app?.stop();
});

const signup = (name) => signupAt(app.url, name);
const post = (user, pageId, content) => postAt(app.url, user, pageId, content);

/** A WebSocket constructor that always fails, as when a proxy blocks WebSocket. */
class BlockedWebSocket {
  constructor() {
    queueMicrotask(() => {
      this.onerror?.({ type: "error" });
      this.onclose?.({ code: 1006 });
    });
  }
  send() {}
  close() {}
}

function connect(user, opts = {}) {
  const s = new Socket(app.url, {
    WebSocket: WS,
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
    auth: () => ({ token: user.token }),
    ...opts,
  });
  sockets.add(s);
  return s;
}

describe(`pagespace end to end with our socket client (${dialect})`, { timeout: 120_000 }, () => {
  let ann, bob;
  let channel;
  let annS, bobS; // Ann on WebSocket, Bob on long-polling (WebSocket blocked)
  let annEv, bobEv;

  it("sets up users, a drive and a channel over REST", async () => {
    [ann, bob] = await Promise.all([signup("Ann"), signup("Bob")]);
    const drive = (await api(app.url, "POST", "/api/drives", { token: ann.token, body: { name: "Team" }, expect: 201 })).id;
    await api(app.url, "POST", `/api/drives/${drive}/members`, {
      token: ann.token,
      body: { userId: bob.id, role: "MEMBER" },
      expect: 201,
    });
    channel = (
      await api(app.url, "POST", `/api/drives/${drive}/pages`, {
        token: ann.token,
        body: { title: "general", type: "CHANNEL" },
        expect: 201,
      })
    ).id;
  });

  it("connects on WebSocket and, with WebSocket blocked, on long-polling; both join", async () => {
    annS = connect(ann);
    bobS = connect(bob, { WebSocket: BlockedWebSocket });
    annEv = record(annS, ["new_message", "viewers_updated", "access_revoked"]);
    bobEv = record(bobS, ["new_message", "access_revoked"]);
    await Promise.all([connected(annS), connected(bobS)]);
    assert.equal(annS.transport, "websocket");
    assert.equal(bobS.transport, "polling");
    assert.equal(annS.recovered, false);

    const a = await call(annS, "join_page", channel);
    assert.equal(a.ok, true, JSON.stringify(a));
    assert.deepEqual(a.viewers, [{ userId: ann.id, name: "Ann" }]);
    const b = await call(bobS, "join_page", { pageId: channel });
    assert.equal(b.ok, true, JSON.stringify(b));
    const [v] = await annEv.nth("viewers_updated", 1);
    assert.deepEqual(
      v.viewers.map((x) => x.name),
      ["Ann", "Bob"],
    );
  });

  it("delivers new_message on both transports, with the offset as the last argument", async () => {
    await post(bob, channel, "hello");
    const want = { content: "hello", pageId: channel, actorId: bob.id };
    const offset = message(await annEv.nth("new_message", 0), want);
    assert.equal(message(await bobEv.nth("new_message", 0), want), offset);
  });

  it("recovers both sessions and the missed messages, once and in order, after a restart", { timeout: 90_000 }, async () => {
    // Ann stays away until messages have been posted, so that they can only reach her by
    // replay; Bob (polling) reconnects by himself.
    const annGone = next(annS, "disconnect", 30_000);
    const bobBack = new Promise((resolve) => bobS.once("disconnect", () => resolve(next(bobS, "connect", 60_000))));
    const seen = annEv.all("new_message").length;

    await app.stopServer();
    const [reason] = await annGone;
    assert.notEqual(reason, "io server disconnect", "a shutdown must not tell clients to stay away");
    annS.disconnect(); // hold Ann back; connect() below recovers all the same
    assert.equal(annS.state.status, Status.OFFLINE);
    await app.restart(); // starts it again (down() is a no-op when stopped)

    for (let i = 0; i < 3; i++) await post(bob, channel, `missed ${i}`);
    const back = next(annS, "connect", 10_000);
    annS.connect();
    await back;
    assert.equal(annS.recovered, true, "Ann's session was not recovered");
    let prev = BigInt(annEv.all("new_message")[seen - 1][1]);
    for (let i = 0; i < 3; i++) {
      const off = message(await annEv.nth("new_message", seen + i), { content: `missed ${i}`, pageId: channel, actorId: bob.id });
      assert.ok(off > prev, `replayed out of order: ${off} after ${prev}`);
      prev = off;
    }

    await bobBack;
    assert.equal(bobS.recovered, true, "Bob's session was not recovered");
    assert.equal(bobS.transport, "polling");

    await post(ann, channel, "live");
    for (const ev of [annEv, bobEv]) {
      message(await ev.nth("new_message", seen + 3), { content: "live", pageId: channel, actorId: ann.id });
      const contents = ev.all("new_message").map(([p]) => p.message.content);
      assert.deepEqual(contents, ["hello", "missed 0", "missed 1", "missed 2", "live"]);
    }
    assert.equal(annEv.all("access_revoked").length, 0);
  });

  it("refuses a bad token with connect_error invalid_token, and does not retry", async () => {
    const s = connect({ token: "not-a-token" });
    const [err] = await next(s, "connect_error");
    assert.equal(err.message, "unauthorized");
    assert.deepEqual(err.data, { code: "invalid_token" });
    assert.equal(s.connected, false);
    assert.equal(s.active, false);
  });
});
