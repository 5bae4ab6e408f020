// The web UI's socket client (templates/static/js/socket.js) in headless Chromium against the
// real binary: loaded from /static/ under the server's Content-Security-Policy, on the browser's
// own WebSocket and, with WebSocket blocked, on long-polling with the browser's fetch. Driven
// over the DevTools protocol with the `ws` package. Skipped when /usr/bin/chromium (or
// $CHROMIUM) is missing. Every wait has a deadline; nothing sleeps.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";

import { api, startApp } from "../app.mjs";
import { deadline } from "../harness.mjs";

const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
const skip = existsSync(chromium) ? false : `no browser at ${chromium}`;

let app, browser, page, user, drive;
const entries = []; // console messages, exceptions and log entries (CSP violations among them)

/** A minimal DevTools protocol client on one browser WebSocket. */
async function devtools(url) {
  const ws = new WebSocket(url);
  await deadline(new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject)), 10_000, "DevTools");
  let seq = 0;
  const pending = new Map();
  const waiters = [];
  ws.on("message", (data) => {
    const msg = JSON.parse(data);
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`${msg.error.message}`));
      else p?.resolve(msg.result);
      return;
    }
    if (["Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded"].includes(msg.method)) {
      entries.push({ method: msg.method, params: msg.params });
    }
    for (const w of waiters.slice()) if (w.method === msg.method) w.resolve(msg.params);
  });
  return {
    send(method, params = {}, sessionId) {
      const id = ++seq;
      ws.send(JSON.stringify({ id, method, params, sessionId }));
      return deadline(new Promise((resolve, reject) => pending.set(id, { resolve, reject })), 20_000, method);
    },
    event(method) {
      return new Promise((resolve) => waiters.push({ method, resolve }));
    },
    close: () => ws.close(),
  };
}

/** Runs an async expression in the page and returns its (JSON) value. */
async function run(expression) {
  const r = await browser.cdp.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true }, page);
  if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
  return r.result.value;
}

describe("our socket client in Chromium", { skip, timeout: 120_000 }, () => {
  before(async () => {
    app = await startApp();
    const dir = await mkdtemp(join(tmpdir(), "pagespace-chromium-"));
    const child = spawn(chromium, ["--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0", `--user-data-dir=${dir}`, "about:blank"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    browser = {
      async stop() {
        child.kill();
        await deadline(exited, 10_000, "Chromium to exit");
        // Chromium's helper processes may still be writing to its profile as it exits: retry.
        await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      },
    };
    const url = await deadline(
      new Promise((resolve) => {
        let buf = "";
        child.stderr.setEncoding("utf8");
        child.stderr.on("data", (d) => {
          buf += d;
          const m = buf.match(/DevTools listening on (ws:\S+)/);
          if (m) resolve(m[1]);
        });
      }),
      20_000,
      "Chromium's DevTools address",
    );
    browser.cdp = await devtools(url);

    const body = await api(app.url, "POST", "/api/auth/signup", {
      body: { email: `browser.${process.pid}.${Date.now()}@example.com`, password: "correct horse", name: "Bea" },
      expect: 201,
    });
    user = { id: body.user.id, token: body.accessToken };
    drive = (await api(app.url, "POST", "/api/drives", { token: user.token, body: { name: "Team" }, expect: 201 })).id;

    const { targetId } = await browser.cdp.send("Target.createTarget", { url: "about:blank" });
    ({ sessionId: page } = await browser.cdp.send("Target.attachToTarget", { targetId, flatten: true }));
    await browser.cdp.send("Runtime.enable", {}, page);
    await browser.cdp.send("Log.enable", {}, page);
    await browser.cdp.send("Page.enable", {}, page);
    const loaded = browser.cdp.event("Page.loadEventFired");
    await browser.cdp.send("Page.navigate", { url: `${app.url}/` }, page);
    await deadline(loaded, 20_000, "the page to load");
  }, { timeout: 180_000 });

  after(async () => {
    browser?.cdp?.close();
    try {
      await browser?.stop();
    } finally {
      await app?.stop(); // even when Chromium's clean-up failed, or the server would outlive the run
    }
  });

  // The scenario in the page: connect, join the drive, create a page over REST, receive
  // page_created with its offset, disconnect. blocked replaces WebSocket with one that fails.
  const scenario = (title, blocked) => `(async () => {
    const { Socket } = await import("/static/js/socket.js");
    class Blocked {
      constructor() { setTimeout(() => { this.onerror?.({}); this.onclose?.({ code: 1006 }); }); }
      send() {}
      close() {}
    }
    const within = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error("timed out: " + what)), ms))]);
    const s = new Socket(location.origin, { auth: () => ({ token: ${JSON.stringify(user.token)} })${blocked ? ", WebSocket: Blocked" : ""} });
    await within(new Promise((res, rej) => { s.once("connect", res); s.once("connect_error", rej); }), 10000, "connect");
    const ack = await s.timeout(5000).emitWithAck("join_drive", ${JSON.stringify(drive)});
    const got = new Promise((res) => s.once("page_created", (p, offset) => res({ title: p.page?.title, offset, eventId: p.eventId })));
    const res = await fetch("/api/drives/${drive}/pages", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer ${user.token}" },
      body: JSON.stringify({ title: ${JSON.stringify(title)}, type: "CHANNEL" }),
    });
    const ev = await within(got, 5000, "page_created");
    const out = { status: res.status, transport: s.transport, ack, ev, state: s.state.status };
    s.disconnect();
    return out;
  })()`;

  for (const [name, blocked] of [["on the browser's WebSocket", false], ["on long-polling when WebSocket is blocked", true]]) {
    it(`connects, acks and receives events ${name}`, async () => {
      const title = blocked ? "over polling" : "over websocket";
      const out = await run(scenario(title, blocked));
      assert.equal(out.status, 201);
      assert.equal(out.transport, blocked ? "polling" : "websocket");
      assert.equal(out.state, "connected");
      assert.equal(out.ack.ok, true);
      assert.equal(out.ack.driveId, drive);
      assert.deepEqual(out.ack.members.map((m) => [m.userId, m.status]), [[user.id, "online"]]); // drive presence
      assert.equal(out.ev.title, title);
      assert.equal(out.ev.offset, out.ev.eventId);
    });
  }

  it("logs no CSP violation and no error from the scripts", () => {
    const bad = entries.filter(
      ({ method, params }) =>
        method === "Runtime.exceptionThrown" ||
        (method === "Runtime.consoleAPICalled" && params.type === "error") ||
        (method === "Log.entryAdded" && params.entry.level === "error" && !/favicon\.ico/.test(params.entry.url ?? "")),
    );
    assert.deepEqual(bad, []);
  });
});
