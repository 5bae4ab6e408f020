// The live UI's pure parts: page events on the tree, message events on a channel, typing words,
// the connection indicator's words.
import { test } from "node:test";
import assert from "node:assert/strict";
import { applyPageEvent, removePages } from "../static/js/tree.js";
import { emptyChannel, withPage, withThread, applyMessageEvent, withTyping, typingText } from "../static/js/channel-state.js";
import { connText } from "../static/js/views/topbar.js";

test("tree: page events update the listing, restores ask for a refetch", () => {
  const nodes = [{ id: "f", parentId: null, title: "F", type: "FOLDER", position: 1 }, { id: "d", parentId: "f", title: "D", type: "DOCUMENT", position: 1 }];
  const renamed = applyPageEvent(nodes, "page_updated", { page: { id: "d", parentId: "f", title: "D2", type: "DOCUMENT", position: 1 } });
  assert.equal(renamed.find((n) => n.id === "d").title, "D2");
  assert.equal(nodes[1].title, "D", "not changed in place");
  const moved = applyPageEvent(nodes, "page_moved", { page: { id: "d", parentId: null, title: "D", type: "DOCUMENT", position: 2 } });
  assert.equal(moved.find((n) => n.id === "d").parentId, null);
  const created = applyPageEvent(nodes, "page_created", { page: { id: "c", parentId: null, title: "C", type: "CHANNEL", position: 3, isPrivate: true } });
  assert.equal(created.length, 3);
  assert.deepEqual(applyPageEvent(nodes, "page_deleted", { pageId: "f", pageIds: ["f"] }), [], "children go with their folder");
  assert.equal(applyPageEvent(nodes, "page_restored", { page: {} }), null);
  assert.deepEqual(removePages(nodes, ["d"]).map((n) => n.id), ["f"]);
});

const msg = (id, at, extra = {}) => ({ id, pageId: "p", parentId: null, author: { id: "u1", name: "Ann" }, content: id, repliesCount: 0, createdAt: at, ...extra });

test("channel: pages merge oldest first, events apply once, replies count", () => {
  let ch = emptyChannel("p");
  assert.equal(applyMessageEvent(ch, "new_message", { message: msg("x", "1") }), ch, "nothing loaded: nothing to apply");
  ch = withPage(ch, { items: [msg("b", "2"), msg("a", "1")], nextCursor: "c1" });
  assert.deepEqual(ch.items.map((m) => m.id), ["a", "b"]);
  assert.equal(ch.nextCursor, "c1");
  ch = withPage(ch, { items: [msg("z", "0")], nextCursor: null }, { older: true });
  assert.deepEqual(ch.items.map((m) => m.id), ["z", "a", "b"]);
  assert.equal(ch.nextCursor, null);
  ch = withPage(ch, { items: [msg("c", "3"), msg("b", "2")], nextCursor: "again" }); // a refetch of the newest
  assert.equal(ch.nextCursor, null, "a refetch of the newest keeps the older cursor");
  ch = applyMessageEvent(ch, "new_message", { message: msg("d", "4") });
  ch = applyMessageEvent(ch, "new_message", { message: msg("d", "4") });
  assert.deepEqual(ch.items.map((m) => m.id), ["z", "a", "b", "c", "d"]);
  ch = applyMessageEvent(ch, "message_updated", { message: msg("d", "4", { content: "edited" }) });
  assert.equal(ch.items.at(-1).content, "edited");
  ch = applyMessageEvent(ch, "new_message", { message: msg("r", "5", { parentId: "a" }) });
  assert.equal(ch.items.find((m) => m.id === "a").repliesCount, 1);
  ch = withThread(ch, "a", [msg("r", "5", { parentId: "a" })]);
  ch = applyMessageEvent(ch, "message_deleted", { message: msg("r", "5", { parentId: "a" }), removed: true });
  assert.equal(ch.items.find((m) => m.id === "a").repliesCount, 0);
  assert.deepEqual(ch.threads.a, []);
  ch = applyMessageEvent(ch, "message_deleted", { message: msg("d", "4"), removed: true });
  assert.equal(ch.items.some((m) => m.id === "d"), false);
  ch = applyMessageEvent(ch, "message_deleted", { message: msg("a", "1", { deletedAt: "9", content: "" }), removed: false });
  assert.equal(ch.items.find((m) => m.id === "a").deletedAt, "9", "a tombstone stays");
  assert.equal(applyMessageEvent(ch, "new_message", { message: { ...msg("o", "6"), pageId: "other" } }), ch);
  // A refetch of the newest page after a reconnect drops what was deleted meanwhile in its span.
  const before = withPage(emptyChannel("p"), { items: [msg("c", "3"), msg("b", "2"), msg("a", "1")], nextCursor: "k" });
  const after = withPage(before, { items: [msg("c", "3"), msg("b2", "2")], nextCursor: "k2" }, { fresh: true });
  assert.deepEqual(after.items.map((m) => m.id), ["a", "b2", "c"]);
  assert.equal(after.nextCursor, "k");
});

test("typing: words for one, two and many", () => {
  assert.equal(typingText([]), "");
  assert.equal(typingText(["Alice"]), "Alice is typing…");
  assert.equal(typingText(["Alice", "Bob"]), "Alice and Bob are typing…");
  assert.equal(typingText(["Alice", "Bob", "Cy", "Di"]), "Alice and 3 others are typing…");
  let ch = withTyping(emptyChannel("p"), "u1", "Alice");
  assert.deepEqual(Object.values(ch.typing), ["Alice"]);
  ch = withTyping(ch, "u1", null);
  assert.deepEqual(ch.typing, {});
});

test("connection indicator: live, reconnecting with the next try, offline", () => {
  assert.equal(connText({ status: "connected", transport: "websocket" }, 0), "Live");
  assert.equal(connText({ status: "connected", transport: "polling" }, 0), "Live (long-polling)");
  assert.equal(connText({ status: "reconnecting", nextTryAt: 3500 }, 1000), "Reconnecting in 3 s");
  assert.equal(connText({ status: "reconnecting", nextTryAt: 900 }, 1000), "Reconnecting…");
  assert.equal(connText({ status: "offline" }, 0), "Offline");
});
