// Unit tests of drive presence in the UI: the store's merge of join_drive's list and
// presence_changed entries, and a member's status in words.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPresence } from "../static/js/store.js";
import { presenceText } from "../static/js/views/members.js";

const ann = { userId: "u1", name: "Ann", status: "online", lastSeenAt: "2030-01-01T10:00:00Z", pageIds: [] };
const bob = { userId: "u2", name: "Bob", status: "offline", lastSeenAt: null, pageIds: [] };

test("presence: entries replace earlier ones per member, a removed member is dropped", () => {
  const p = withPresence(null, "d1", [ann, bob]);
  assert.deepEqual(p, { driveId: "d1", byId: { u1: ann, u2: bob } });
  const bobOn = { ...bob, status: "online", pageIds: ["p1"] };
  const q = withPresence(p, "d1", [bobOn]);
  assert.deepEqual(q.byId, { u1: ann, u2: bobOn });
  assert.equal(p.byId.u2, bob, "the earlier state is not changed");
  assert.deepEqual(withPresence(q, "d1", undefined, "u1").byId, { u2: bobOn });
  assert.deepEqual(withPresence(q, "d2", [ann]), { driveId: "d2", byId: { u1: ann } }, "another drive starts afresh");
  const fresh = withPresence(null, "d1", [bob]);
  assert.deepEqual(fresh.byId, { u2: bob }, "a new join_drive list replaces everything");
});

test("presence: status in words, last seen, the pages by their titles from the tree", () => {
  const now = Date.parse("2030-01-01T10:05:00Z");
  const pages = [{ id: "p1", title: "Plan" }, { id: "p2", title: "general" }];
  assert.equal(presenceText({ ...ann, pageIds: ["p1", "p2"] }, pages, now), "Online · on “Plan”, “general”");
  assert.equal(presenceText({ ...ann, status: "idle" }, pages, now), "Idle · last seen 5 minutes ago");
  assert.equal(presenceText({ ...ann, status: "offline" }, null, now), "Offline · last seen 5 minutes ago");
  assert.equal(presenceText(bob, pages, now), "Offline");
  assert.equal(presenceText({ ...ann, pageIds: ["p9"] }, pages, now), "Online · on a page");
});
