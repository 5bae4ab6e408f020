// Unit tests of the sharing views' pure parts: grant levels and bodies, the "shared" mark of the
// tree, who may manage whom, and the words for a grantor's limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { levelOf, grantBody, dateOf, words } from "../static/js/views/share.js";
import { mayManage, roleName } from "../static/js/views/members.js";
import { sharedWithMe } from "../static/js/tree.js";
import { parse, paths } from "../static/js/router.js";
import { ApiError } from "../static/js/errors.js";

test("grants: levels from rights and back, custom mixes kept, dates to the end of the day", () => {
  assert.equal(levelOf({ canView: false, canEdit: false, canShare: false, canDelete: false }), "none");
  assert.equal(levelOf({ canView: true, canEdit: true }), "edit");
  assert.equal(levelOf({ canView: true, canEdit: true, canShare: true, canDelete: true }), "full");
  assert.equal(levelOf({ canView: true, canDelete: true }), "custom");
  assert.deepEqual(grantBody("share", ""), { canView: true, canEdit: true, canShare: true, canDelete: false, expiresAt: null });
  const custom = { canView: true, canEdit: false, canShare: false, canDelete: true };
  assert.deepEqual(grantBody("custom", "", custom), { ...custom, expiresAt: null });
  const body = grantBody("view", "2031-05-06");
  assert.equal(dateOf(body.expiresAt), "2031-05-06");
  assert.ok(new Date(body.expiresAt).getHours() === 23);
  assert.equal(dateOf(null), "");
});

test("grants: a grantor's expiry limit in words", () => {
  const e = new ApiError(403, "forbidden", "forbidden", { fields: { expiresAt: "must be set, no later than your own access ends (2030-01-01T00:00:00.000Z)" } });
  assert.equal(words(e), "Your own access ends on 2030-01-01: a grant you give must end by then.");
  assert.match(words(new ApiError(403, "forbidden")), /rights you don't hold/);
  assert.match(words(new ApiError(400, "invalid_request", "", { fields: { expiresAt: "must be in the future" } })), /The end date must be in the future/);
});

test("tree: pages shared with the reader", () => {
  const root = { id: "a", parentId: null, isPrivate: false };
  const priv = { id: "b", parentId: "a", isPrivate: true };
  const detached = { id: "c", parentId: null, detached: true };
  assert.equal(sharedWithMe(root, "MEMBER"), false);
  assert.equal(sharedWithMe(priv, "MEMBER"), true);
  assert.equal(sharedWithMe(priv, "ADMIN"), false);
  assert.equal(sharedWithMe(detached, "VIEWER"), true);
  assert.equal(sharedWithMe(root, null), true); // a grantee's top pages
  assert.equal(sharedWithMe(priv, null), false); // under a shared page: the mark is on its top
});

test("members: who may change whom, role names, the members path", () => {
  assert.equal(mayManage("OWNER", { role: "ADMIN" }), true);
  assert.equal(mayManage("ADMIN", { role: "ADMIN" }), false);
  assert.equal(mayManage("ADMIN", { role: "VIEWER" }), true);
  assert.equal(mayManage("MEMBER", { role: "VIEWER" }), false);
  assert.equal(mayManage("OWNER", { role: "OWNER" }), false);
  assert.equal(roleName("VIEWER"), "Viewer");
  assert.equal(roleName(null), "Guest");
  assert.deepEqual(parse(paths.members("d 1")), { name: "members", driveId: "d 1" });
});
