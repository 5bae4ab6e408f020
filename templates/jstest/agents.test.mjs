// Unit tests of the agents view's pure parts and of the store's lists of people: a key's dates in
// words, the curl command shown with a new key, the view's path, and how the members and agents
// are read again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { keyText, curl } from "../static/js/views/agents.js";
import { parse, paths } from "../static/js/router.js";
import { createStore } from "../static/js/store.js";
import { ApiError } from "../static/js/errors.js";

test("agents: a key's dates in words", () => {
  const now = Date.parse("2030-01-01T12:00:00Z");
  assert.equal(keyText({ createdAt: "2030-01-01T11:55:00Z", lastUsedAt: null }, now), "created 5 minutes ago, never used");
  assert.equal(keyText({ createdAt: "2030-01-01T10:00:00Z", lastUsedAt: "2030-01-01T11:59:50Z" }, now), "created 2 hours ago, last used just now");
});

test("agents: the curl command posts in the channel with the key", () => {
  const cmd = curl("http://localhost:8080", "psk_abc", "p/1");
  assert.match(cmd, /^curl http:\/\/localhost:8080\/api\/pages\/p%2F1\/messages \\\n/);
  assert.match(cmd, /-H "Authorization: Bearer psk_abc"/);
  assert.match(cmd, /-d '\{"content":"Hello from an agent"\}'$/);
  assert.match(curl("http://x", "psk_abc", null), /\/api\/pages\/CHANNEL_ID\/messages/);
});

test("router: the agents view's path parses back", () => {
  assert.deepEqual(parse(paths.agents("d 1")), { name: "agents", driveId: "d 1" });
  assert.deepEqual(parse(paths.members("d1")), { name: "members", driveId: "d1" });
  assert.deepEqual(parse("/d/d1/agents/x"), { name: "notfound" });
});

/** fakeApi answers the agents and members of drive d1 from lists the test changes. */
function fakeApi() {
  const api = { agents: [{ id: "a1", keys: [] }], members: [{ userId: "u1" }], calls: [], refuse: false };
  api.call = async (method, path) => {
    api.calls.push(path);
    if (api.refuse) throw new ApiError(403, "forbidden", "forbidden");
    return { items: structuredClone(api.agents) };
  };
  api.listAll = async (path) => {
    api.calls.push(path);
    return structuredClone(api.members);
  };
  return api;
}

test("store: agents are stored once per change, a refusal as an error", async () => {
  const api = fakeApi();
  const store = createStore(api);
  store.set({ driveId: "d1" });
  let changes = 0;
  store.subscribe(() => changes++);
  await store.refetch.agents("d1");
  assert.deepEqual(store.state.agents, { driveId: "d1", list: [{ id: "a1", keys: [] }] });
  assert.equal(changes, 1);
  await store.refetch.agents("d1"); // the same answer: the view under the reader stays
  assert.equal(changes, 1);
  api.agents[0].keys.push({ id: "k1", prefix: "psk_abcdef" });
  await store.refetch.agents("d1");
  assert.equal(changes, 2);
  api.refuse = true;
  await store.refetch.agents("d1");
  assert.equal(store.state.agents.error.code, "forbidden");
  await store.refetch.agents("d2"); // not the drive in view
  assert.equal(store.state.agents.driveId, "d1");
});

test("store: people reads again only the lists loaded, of the drive in view", async () => {
  const api = fakeApi();
  const store = createStore(api);
  store.set({ driveId: "d1" });
  await store.refetch.people("d1");
  assert.deepEqual(api.calls, []); // nothing loaded yet
  await store.refetch.agents("d1");
  api.calls.length = 0;
  await store.refetch.people("d1");
  assert.deepEqual(api.calls, ["/api/drives/d1/agents"]);
  await store.refetch.members("d1");
  api.calls.length = 0;
  await store.refetch.people("d2");
  assert.deepEqual(api.calls, []);
  await store.refetch.people("d1");
  assert.deepEqual(api.calls.sort(), ["/api/drives/d1/agents", "/api/drives/d1/members"]);
});
