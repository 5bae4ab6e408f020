// The product end to end with the official socket.io-client: the real binary (app.mjs), users
// and content made over REST, realtime over Socket.IO with the client's defaults. Runs on SQLite,
// or on PostgreSQL with PAGESPACE_TEST_DB=postgres. Every wait has a deadline; nothing sleeps.
// The steps build on each other and run in order.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { io } from "socket.io-client";

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

/** A socket with the client's default transports; it reconnects quickly to keep tests short. */
function connect(user, opts = {}) {
  const s = io(app.url, {
    forceNew: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
    auth: { token: user.token },
    ...opts,
  });
  sockets.add(s);
  return s;
}

describe(`pagespace end to end (${dialect})`, { timeout: 120_000 }, () => {
  let ann, bob, eve; // users
  let drive, channel;
  let annS, bobS; // sockets
  let annEv, bobEv; // what they received

  it("sets up users, a drive and a channel over REST", async () => {
    [ann, bob, eve] = await Promise.all([signup("Ann"), signup("Bob"), signup("Eve")]);
    drive = (await api(app.url, "POST", "/api/drives", { token: ann.token, body: { name: "Team" }, expect: 201 })).id;
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

  it("connects with the default transports and joins the channel, with viewers", async () => {
    annS = connect(ann);
    bobS = connect(bob);
    annEv = record(annS, ["new_message", "viewers_updated", "access_revoked"]);
    bobEv = record(bobS, ["new_message", "access_revoked"]);
    await Promise.all([connected(annS), connected(bobS)]);
    assert.equal(annS.recovered, false);

    const a = await call(annS, "join_page", channel);
    assert.equal(a.ok, true, JSON.stringify(a));
    assert.equal(a.pageId, channel);
    assert.deepEqual(a.viewers, [{ userId: ann.id, name: "Ann" }]);
    const b = await call(bobS, "join_page", { pageId: channel });
    assert.equal(b.ok, true, JSON.stringify(b));
    assert.deepEqual(b.viewers, [
      { userId: ann.id, name: "Ann" },
      { userId: bob.id, name: "Bob" },
    ]);
    // Ann hears of Bob joining (her own join came first).
    const [v] = await annEv.nth("viewers_updated", 1);
    assert.equal(v.pageId, channel);
    assert.deepEqual(
      v.viewers.map((x) => x.name),
      ["Ann", "Bob"],
    );
  });

  it("delivers new_message after a REST post, with the offset as the last argument", async () => {
    await post(bob, channel, "hello");
    const want = { content: "hello", pageId: channel, actorId: bob.id };
    const offset = message(await annEv.nth("new_message", 0), want);
    assert.equal(message(await bobEv.nth("new_message", 0), want), offset);
  });

  it("refuses an outsider's join and sends it none of the channel's events", async () => {
    const s = await connected(connect(eve));
    const got = record(s, ["new_message"]);
    const ack = await call(s, "join_page", channel);
    assert.equal(ack.ok, false);
    assert.equal(ack.error.code, "not_found");
    assert.equal((await call(s, "join_drive", drive)).ok, false);

    // A barrier: Eve's own channel. Events arrive in log order, so once her own message is
    // here, the channel's message posted before it would have been too.
    await post(bob, channel, "not for Eve");
    const own = await api(app.url, "POST", "/api/drives", { token: eve.token, body: { name: "Mine" }, expect: 201 });
    const mine = (
      await api(app.url, "POST", `/api/drives/${own.id}/pages`, {
        token: eve.token,
        body: { title: "mine", type: "CHANNEL" },
        expect: 201,
      })
    ).id;
    assert.equal((await call(s, "join_page", mine)).ok, true);
    await post(eve, mine, "barrier");
    const [first] = await got.nth("new_message", 0);
    assert.equal(first.pageId, mine);
    assert.equal(got.all("new_message").length, 1);
    // Ann and Bob got the second message.
    await annEv.nth("new_message", 1);
    await bobEv.nth("new_message", 1);
    s.disconnect();
  });

  it("recovers the session and the missed messages after a server restart", { timeout: 90_000 }, async () => {
    // Ann stays away until messages have been posted, so that they can only reach her by
    // replay; Bob reconnects by himself.
    const annGone = next(annS, "disconnect", 30_000);
    annS.once("disconnect", () => annS.io.reconnection(false));
    const bobBack = new Promise((resolve) => bobS.once("disconnect", () => resolve(next(bobS, "connect", 60_000))));
    const seen = annEv.all("new_message").length;

    await app.restart();
    const [reason] = await annGone;
    assert.notEqual(reason, "io server disconnect", "a shutdown must not tell clients to stay away");
    assert.equal(annS.connected, false);

    for (let i = 0; i < 3; i++) await post(bob, channel, `missed ${i}`);
    const back = next(annS, "connect", 10_000);
    annS.io.reconnection(true);
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

    // The rooms came back: a live message reaches both, after exactly what they missed.
    await post(bob, channel, "live");
    for (const ev of [annEv, bobEv]) {
      const off = message(await ev.nth("new_message", seen + 3), { content: "live", pageId: channel, actorId: bob.id });
      assert.ok(off > prev);
      const contents = ev.all("new_message").map(([p]) => p.message.content);
      assert.deepEqual(contents, ["hello", "not for Eve", "missed 0", "missed 1", "missed 2", "live"]);
    }
    assert.equal(annEv.all("access_revoked").length, 0);
  });

  it("refuses a bad token with connect_error invalid_token", async () => {
    const s = connect({ token: "not-a-token" });
    const [err] = await next(s, "connect_error");
    assert.equal(err.message, "unauthorized");
    assert.deepEqual(err.data, { code: "invalid_token" });
    assert.equal(s.connected, false);
    assert.equal(s.active, false);
  });
});
