// The web UI's pure modules: error words, routes, the tree, and the API client's sessions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, describe, fieldErrors } from "../static/js/errors.js";
import { parse, paths, safeNext } from "../static/js/router.js";
import { buildTree, flatten, ancestors } from "../static/js/tree.js";
import { createApi } from "../static/js/api.js";

test("errors: codes in words, field details, network failures", () => {
  assert.match(describe(new ApiError(429, "rate_limited", "too many requests")), /Wait a minute/);
  assert.equal(describe(new ApiError(401, "unauthorized", "x"), { unauthorized: "Wrong password." }), "Wrong password.");
  const bad = new ApiError(400, "invalid_request", "invalid request", { fields: { email: "must be a valid email address" } });
  assert.equal(describe(bad), "Email must be a valid email address.");
  assert.deepEqual(fieldErrors(bad), { email: "Email must be a valid email address." });
  assert.equal(describe(new ApiError(409, "conflict", "delete your drives or transfer them before deleting your account")),
    "Delete your drives or transfer them before deleting your account.");
  assert.match(describe(new TypeError("Failed to fetch")), /Can't reach the server/);
  assert.match(describe(new ApiError(418, "teapot", "")), /Something went wrong \(418\)/);
});

test("router: every view's path parses back", () => {
  assert.deepEqual(parse("/"), { name: "home" });
  assert.deepEqual(parse(paths.drive("a b")), { name: "drive", driveId: "a b" });
  assert.deepEqual(parse(paths.trash("d1")), { name: "trash", driveId: "d1" });
  assert.deepEqual(parse(paths.page("p1")), { name: "page", pageId: "p1" });
  assert.deepEqual(parse("/p/%E0%A4%A"), { name: "notfound" });
  assert.deepEqual(parse("/d/x/y"), { name: "notfound" });
  assert.equal(paths.login("/d/1"), "/login?next=%2Fd%2F1");
  for (const bad of ["//evil.example", "https://evil.example", "/\\evil", null, "javascript:alert(1)"]) assert.equal(safeNext(bad), "/");
  assert.equal(safeNext("/p/1"), "/p/1");
});

test("tree: children under parents by position, detached pages at the root", () => {
  const nodes = [
    { id: "b", parentId: null, position: 2 },
    { id: "a", parentId: null, position: 1 },
    { id: "c", parentId: "a", position: 1 },
    { id: "d", parentId: "hidden", position: 3, detached: true },
    { id: "e", parentId: "c", position: 1 },
  ];
  const roots = buildTree(nodes);
  assert.deepEqual(roots.map((n) => n.id), ["a", "b", "d"]);
  assert.deepEqual(flatten(roots).map(({ node, depth }) => `${node.id}${depth}`), ["a0", "c1", "e2", "b0", "d0"]);
  assert.deepEqual(ancestors(nodes, "e"), ["c", "a"]);
});

function fakeServer() {
  const calls = [];
  let n = 0;
  const json = (status, body) => ({ ok: status < 300, status, text: async () => (body === undefined ? "" : JSON.stringify(body)) });
  const fetch = async (path, init) => {
    calls.push({ path, init });
    if (path === "/api/auth/refresh") {
      await new Promise((r) => setImmediate(r));
      return json(200, { user: { id: "u" }, accessToken: `t${++n}`, expiresIn: 900 });
    }
    if (path === "/api/auth/login") return json(200, { user: { id: "u" }, accessToken: "t0", expiresIn: 900 });
    if (path === "/api/drives") {
      const auth = init.headers.Authorization;
      if (auth === "Bearer t0") return json(401, { error: { code: "token_expired", message: "access token expired" } });
      return json(200, { id: "d", auth });
    }
    return json(404, { error: { code: "not_found" } });
  };
  return { calls, fetch };
}

test("api: cookie mode, one refresh at a time, retry after token_expired", async () => {
  const srv = fakeServer();
  const timers = [];
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v), removeItem: (k) => store.delete(k) };
  const api = createApi({ fetch: srv.fetch, storage, locks: null, setTimeout: (f, ms) => timers.push(ms), clearTimeout: () => {} });
  assert.equal(await api.resume(), null, "no hint: no refresh");
  assert.equal(srv.calls.length, 0);
  await api.login({ email: "a@b.co", password: "x" });
  assert.equal(srv.calls[0].init.headers["X-Auth-Mode"], "cookie");
  assert.equal(store.get("pagespace.signedIn"), "1");
  assert.equal(timers[0], 840 * 1000, "renewed a minute before expiry");
  // The access token t0 has expired: one refresh, then the call again.
  const d = await api.call("GET", "/api/drives");
  assert.equal(d.auth, "Bearer t1");
  // Two refreshes at once share one request.
  const before = srv.calls.filter((c) => c.path === "/api/auth/refresh").length;
  await Promise.all([api.refresh(), api.refresh()]);
  assert.equal(srv.calls.filter((c) => c.path === "/api/auth/refresh").length, before + 1);
  const r = srv.calls.find((c) => c.path === "/api/auth/refresh");
  assert.equal(r.init.body, undefined, "refresh sends no token: the cookie carries it");
  assert.equal(r.init.credentials, "same-origin");
});

test("api: a refused refresh signs out once and forgets the hint", async () => {
  const store = new Map([["pagespace.signedIn", "1"]]);
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v), removeItem: (k) => store.delete(k) };
  let ok = true;
  const fetch = async (path) => {
    const body = ok ? { user: { id: "u" }, accessToken: "t", expiresIn: 900 } : { error: { code: "token_reused" } };
    return { ok, status: ok ? 200 : 401, text: async () => JSON.stringify(body) };
  };
  const reasons = [];
  const api = createApi({ fetch, storage, locks: null, setTimeout: () => 0, clearTimeout: () => {}, onSignedOut: (r) => reasons.push(r) });
  assert.deepEqual(await api.resume(), { id: "u" });
  ok = false;
  await assert.rejects(api.refresh(), (e) => e.code === "token_reused");
  assert.deepEqual(reasons, ["token_reused"]);
  assert.equal(api.user(), null);
  assert.equal(store.has("pagespace.signedIn"), false);
});
