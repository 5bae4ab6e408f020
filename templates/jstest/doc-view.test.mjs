// The document view's pure parts: the status line's words and the pieces of the cursor layer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { docStatus, marks } from "../static/js/views/document.js";

test("docStatus: saved, saving, offline with edits kept, read only", () => {
  assert.equal(docStatus("online", "synchronised", true), "Saved");
  assert.equal(docStatus("online", "awaiting", true), "Saving…");
  assert.equal(docStatus("offline", "buffering", true), "Offline: your edits are kept and will be sent");
  assert.equal(docStatus("offline", "synchronised", true), "Offline");
  assert.equal(docStatus("online", "synchronised", false), "Read only · live");
  assert.equal(docStatus("offline", "synchronised", false), "Read only · offline");
  assert.equal(docStatus("syncing", "synchronised", true), "Catching up…");
  assert.equal(docStatus("closed", "synchronised", true), "");
});

test("marks: carets at heads, tints over selections, text kept whole", () => {
  const alice = { userId: "a", name: "Alice", ranges: [{ anchor: 1, head: 1 }] };
  const bob = { userId: "b", name: "Bob", ranges: [{ anchor: 5, head: 2 }] };
  const out = marks("hello world", [alice, bob]);
  assert.equal(out.filter((m) => m.text !== undefined).map((m) => m.text).join(""), "hello world");
  assert.deepEqual(out.map((m) => (m.caret ? `|${m.caret.name}` : m.user ? `[${m.text}]` : m.text)),
    ["h", "|Alice", "e", "|Bob", "[llo]", " world"]);
  // Out of range positions are clamped; a caret at the end comes last.
  const end = marks("ab", [{ userId: "c", name: "C", ranges: [{ anchor: 9, head: 9 }] }]);
  assert.deepEqual(end.map((m) => m.caret ? "|" : m.text), ["ab", "|"]);
  assert.deepEqual(marks("", []), []);
});
