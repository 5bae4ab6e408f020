// The task list's state: events, the reader's own writes, filters and positions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { emptyTasks, withTasks, applyTaskEvent, withoutTask, overlaid, matches, between, placeAt } from "../static/js/task-state.js";

const task = (id, position, more = {}) => ({ id, pageId: "p", title: id, status: "todo", assigneeId: null, position, updatedAt: "2030-01-01T00:00:00.000Z", ...more });
const ids = (st) => st.items.map((t) => t.id);

test("tasks: events apply once, in position order; older copies and deleted tasks stay out", () => {
  let st = withTasks(emptyTasks("p"), [task("b", 2), task("a", 1)]);
  assert.deepEqual(ids(st), ["a", "b"]);
  st = applyTaskEvent(st, "task_created", { task: task("c", 1.5) });
  assert.deepEqual(ids(st), ["a", "c", "b"]);
  const again = applyTaskEvent(st, "task_created", { task: task("c", 1.5) });
  assert.equal(again, st, "the same task twice (answer and event) changes nothing");
  const done = task("a", 1, { status: "done", updatedAt: "2030-01-01T00:00:02.000Z" });
  st = applyTaskEvent(st, "task_updated", { task: done });
  st = applyTaskEvent(st, "task_completed", { task: done });
  assert.equal(st.items[0].status, "done");
  const stale = applyTaskEvent(st, "task_updated", { task: task("a", 1, { updatedAt: "2030-01-01T00:00:01.000Z" }) });
  assert.equal(stale, st, "an older copy (a write answered after a later event) is ignored");
  st = applyTaskEvent(st, "task_deleted", { task: task("b", 2) });
  assert.deepEqual(ids(st), ["a", "c"]);
  assert.equal(applyTaskEvent(st, "task_updated", { task: task("b", 2, { updatedAt: "2031-01-01T00:00:00.000Z" }) }), st);
  assert.equal(applyTaskEvent(st, "task_created", { task: { ...task("x", 1), pageId: "other" } }), st);
  assert.deepEqual(ids(withoutTask(st, "c")), ["a"]);
});

test("tasks: events before the first listing are applied to it", () => {
  let st = emptyTasks("p");
  st = applyTaskEvent(st, "task_created", { task: task("n", 3) });
  st = applyTaskEvent(st, "task_deleted", { task: task("a", 1) });
  st = withTasks(st, [task("a", 1), task("b", 2)]);
  assert.deepEqual(ids(st), ["b", "n"]);
  assert.deepEqual(st.early, []);
});

test("tasks: filters by status and assignee", () => {
  const t = task("a", 1, { status: "in_progress", assigneeId: "u1" });
  assert.ok(matches(t, { status: "", assignee: "" }));
  assert.ok(matches(t, { status: "open", assignee: "u1" }));
  assert.ok(!matches(t, { status: "done", assignee: "" }));
  assert.ok(!matches({ ...t, status: "done" }, { status: "open", assignee: "" }));
  assert.ok(!matches(t, { status: "", assignee: "none" }));
  assert.ok(matches({ ...t, assigneeId: null }, { status: "todo", assignee: "none" }) === false);
  assert.ok(matches({ ...t, assigneeId: null, status: "todo" }, { status: "todo", assignee: "none" }));
  assert.ok(!matches(t, { status: "", assignee: "u2" }));
});

test("tasks: positions between neighbours, at the ends, and none when there is no room", () => {
  assert.equal(between(null, null), 1);
  assert.equal(between(1, 2), 1.5);
  assert.equal(between(null, 1), 0);
  assert.equal(between(3.5, null), 4);
  assert.equal(between(1, 1), null);
  assert.equal(between(1, 1 + Number.EPSILON), null);
  const items = [task("a", 1), task("b", 2), task("c", 3), task("d", 4)];
  assert.deepEqual(placeAt(items, items, "a", 1), { afterId: "b", position: 2.5 }, "a down one: between b and c");
  assert.deepEqual(placeAt(items, items, "d", 0), { afterId: null, position: 0 }, "d to the top");
  assert.deepEqual(placeAt(items, items, "a", 3), { afterId: "d", position: 5 }, "a to the end");
  // Filtered: b is hidden; moving d just below a puts it between a and b, b keeps its place.
  const shown = [items[0], items[2], items[3]];
  assert.deepEqual(placeAt(items, shown, "d", 1), { afterId: "a", position: 1.5 });
  assert.deepEqual(placeAt(items, shown, "a", 1), { afterId: "c", position: 3.5 }, "below c, before d");
  assert.deepEqual(placeAt(items, [items[2]], "d", 0), { afterId: "b", position: 2.5 }, "just before the first shown");
  // No number between the neighbours: the server will renumber; nothing to show meanwhile.
  const tied = [task("a", 1), task("b", 1), task("c", 2)];
  assert.deepEqual(placeAt(tied, tied, "c", 1), { afterId: "a", position: null });
});

test("tasks: the reader's writes on the way lie over the server's copy", () => {
  const items = [task("a", 1), task("b", 2), task("c", 3)];
  const memo = new Map();
  assert.equal(overlaid(items, new Map(), memo), items);
  const overlay = new Map([["c", [{ position: 1.5 }, { position: 0, status: "done" }]]]);
  const seen = overlaid(items, overlay, memo);
  assert.deepEqual(seen.map((t) => `${t.id}${t.position}${t.status}`), ["c0done", "a1todo", "b2todo"]);
  assert.equal(items[2].position, 3, "the server's copy is untouched");
  assert.equal(overlaid(items, overlay, memo)[0], seen[0], "the same object while nothing changed");
  // The first write's answer arrives: the second's change still shows.
  const answered = [items[0], items[1], { ...items[2], position: 1.5 }];
  overlay.set("c", [{ position: 0, status: "done" }]);
  assert.deepEqual(overlaid(answered, overlay, memo).map((t) => t.id), ["c", "a", "b"]);
});
