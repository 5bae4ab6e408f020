// Runs the examples of docs/client.md with the official socket.io-client against the real
// server, and checks that the doc shows exactly this code: every line of each ```js block
// appears here, in order and together (import lines anywhere). Every wait has a deadline.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { io } from "socket.io-client";

import { api, dialect, post, startApp } from "../app.mjs";
import { deadline, next } from "../harness.mjs";

let app;
const sockets = new Set();

before(async () => {
  process.env.ACCESS_TOKEN_TTL = "70s"; // auth_expiring comes 60 s before expiry: after about 10 s
  app = await startApp();
}, { timeout: 180_000 });

after(async () => {
  for (const s of sockets) s.disconnect();
  await app?.stop();
});

describe(`docs/client.md examples (${dialect})`, { timeout: 120_000 }, () => {
  it("shows exactly the code this file runs", async () => {
    const doc = await readFile(new URL("../../../docs/client.md", import.meta.url), "utf8");
    const self = (await readFile(new URL(import.meta.url), "utf8")).split("\n").map((l) => l.trim()).filter((l) => l);
    const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.ok(blocks.length >= 4, `found ${blocks.length} js blocks`);
    for (const block of blocks) {
      const lines = block.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("import "));
      const at = self.findIndex((_, i) => lines.every((l, j) => self[i + j] === l));
      assert.ok(at >= 0, `docs/client.md block not run by this test:\n${block}`);
    }
  });

  it("connects, refreshes, joins, receives, recovers", async () => {
    const session = await api(app.url, "POST", "/api/auth/signup",
      { body: { email: `ann.${Date.now()}@example.com`, password: "correct horse", name: "Ann" }, expect: 201 });
    const ann = { id: session.user.id, name: "Ann", token: session.accessToken };
    const drive = (await api(app.url, "POST", "/api/drives", { token: ann.token, body: { name: "Team" }, expect: 201 })).id;
    const pageId = (await api(app.url, "POST", `/api/drives/${drive}/pages`,
      { token: ann.token, body: { title: "general", type: "CHANNEL" }, expect: 201 })).id;

    // Connecting: a refused token first, as the doc's listener reports it.
    {
      const baseURL = app.url;
      const accessToken = "not-a-token";
      const refusals = [];
      const console = { warn: (...args) => refusals.push(args) };
      const socket = io(baseURL, { auth: { token: accessToken } });
      socket.on("connect_error", (err) => {
        // A refusal: err.message "unauthorized", err.data.code "invalid_token" or "token_expired".
        console.warn("refused:", err.message, err.data?.code);
      });
      sockets.add(socket);
      await next(socket, "connect_error", 10_000);
      assert.deepEqual(refusals, [["refused:", "unauthorized", "invalid_token"]]);
      socket.disconnect();
    }

    const baseURL = app.url;
    const accessToken = ann.token;
    const warnings = [];
    const logs = [];
    const console = { warn: (...args) => warnings.push(args), log: (...args) => logs.push(args) };
    const socket = io(baseURL, { auth: { token: accessToken } });
    socket.on("connect_error", (err) => {
      // A refusal: err.message "unauthorized", err.data.code "invalid_token" or "token_expired".
      console.warn("refused:", err.message, err.data?.code);
    });
    sockets.add(socket);

    // Keeping the token fresh.
    let refreshes = 0;
    const refresh = async () => {
      refreshes++;
      return api(app.url, "POST", "/api/auth/refresh", { body: { refreshToken: session.refreshToken }, expect: 200 });
    };
    const refreshAcked = new Promise((resolve) => {
      const emit = socket.timeout.bind(socket);
      socket.timeout = (ms) => {
        const t = emit(ms);
        const orig = t.emitWithAck.bind(t);
        t.emitWithAck = async (ev, ...args) => {
          const ack = await orig(ev, ...args);
          if (ev === "refresh_auth") resolve(ack);
          return ack;
        };
        return t;
      };
    });
    socket.on("auth_expiring", async ({ expiresAt }) => {
      const { accessToken } = await refresh(); // POST /api/auth/refresh with the refresh token
      socket.auth.token = accessToken; // used when the socket reconnects
      const ack = await socket.timeout(5000).emitWithAck("refresh_auth", { token: accessToken });
      if (!ack.ok) console.warn("refresh_auth refused:", ack.error.code);
    });
    await next(socket, "connect", 10_000);
    const refreshAck = await deadline(refreshAcked, 30_000, "the refresh_auth ack");
    assert.equal(refreshes, 1);
    assert.deepEqual(Object.keys(refreshAck).sort(), ["expiresAt", "ok"]);
    assert.equal(refreshAck.ok, true);
    assert.notEqual(socket.auth.token, ann.token);
    assert.deepEqual(warnings, []);

    // Rooms, acks and errors.
    const ack = await socket.timeout(5000).emitWithAck("join_page", pageId);
    if (!ack.ok) throw new Error(`join_page: ${ack.error.code}`); // e.g. not_found
    console.log("viewing:", ack.viewers.map((v) => v.name));
    assert.deepEqual(logs, [["viewing:", ["Ann"]]]);
    const refused = await socket.timeout(5000).emitWithAck("join_page", "no-such-page");
    assert.deepEqual(refused, { ok: false, error: { code: "not_found", message: refused.error.message } });

    // Events and recovery.
    const shown = [];
    const show = (m) => shown.push(m.content);
    const forgotten = [];
    const forget = (room, reason) => forgotten.push([room, reason]);
    let refetches = 0;
    const rejoinAndRefetch = () => refetches++;
    socket.on("new_message", ({ message }, offset) => {
      show(message); // offset === payload.eventId
    });
    socket.on("access_revoked", ({ room, reason }) => forget(room, reason));
    socket.on("connect", () => {
      if (!socket.recovered) rejoinAndRefetch(); // a new session: nothing was replayed
    });
    await post(app.url, ann, pageId, "first");
    await deadline((async () => { while (!shown.includes("first")) await next(socket, "new_message"); })(), 10_000, "first");

    socket.io.engine.close(); // the connection drops; the client reconnects and recovers
    await post(app.url, ann, pageId, "while away");
    await next(socket, "connect", 10_000);
    assert.equal(socket.recovered, true);
    await deadline((async () => { while (!shown.includes("while away")) await next(socket, "new_message"); })(), 10_000, "the missed message");
    assert.deepEqual(shown, ["first", "while away"]);
    assert.equal(refetches, 0);

    await api(app.url, "PATCH", `/api/pages/${pageId}`, { token: ann.token, body: { isPrivate: true }, expect: 200 });
    await api(app.url, "DELETE", `/api/pages/${pageId}`, { token: ann.token, expect: 204 });
    await deadline((async () => { while (!forgotten.length) await next(socket, "access_revoked"); })(), 10_000, "access_revoked");
    assert.equal(forgotten[0][0], `page:${pageId}`);
  });
});
