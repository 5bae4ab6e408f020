import { test } from "node:test";
import assert from "node:assert/strict";
import * as ot from "../static/js/ot.js";
import { DocClient } from "../static/js/doc-client.js";
import {
  TextareaBinding, opForInput, selectionToCp, selectionToUtf16, mapSelection, changeEnd,
  historyKey, rangesToUtf16,
} from "../static/js/textarea-binding.js";
import { FakeServer, Net, FakeClock, settle } from "./fake-server.mjs";
import { rng, int, text } from "./gen.mjs";

// FakeTextarea is the part of HTMLTextAreaElement the binding uses, with the browser's habits:
// assigning value puts the caret at the end; typing replaces the selection and fires "input".
class FakeTextarea {
  constructor() {
    this._value = "";
    this.selectionStart = 0;
    this.selectionEnd = 0;
    this.selectionDirection = "forward";
    this.scrollTop = 0;
    this.listeners = new Map();
  }
  get value() {
    return this._value;
  }
  set value(v) {
    this._value = String(v);
    this.selectionStart = this.selectionEnd = this._value.length;
    this.selectionDirection = "forward";
  }
  setSelectionRange(start, end, direction = "forward") {
    const n = this._value.length;
    this.selectionStart = Math.min(start, n);
    this.selectionEnd = Math.max(this.selectionStart, Math.min(end, n));
    this.selectionDirection = direction;
  }
  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
  }
  removeEventListener(type, fn) {
    this.listeners.get(type)?.delete(fn);
  }
  dispatch(type, props = {}) {
    const e = { type, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ...props };
    for (const fn of [...(this.listeners.get(type) || [])]) fn(e);
    return e;
  }
  // type replaces the selection with s, as a keystroke or a paste does.
  type(s) {
    const v = this._value;
    this._value = v.slice(0, this.selectionStart) + s + v.slice(this.selectionEnd);
    this.selectionStart = this.selectionEnd = this.selectionStart + s.length;
    this.dispatch("input", { inputType: "insertText", data: s });
  }
  // backspace deletes the selection or the code point before the caret.
  backspace() {
    const v = this._value;
    let a = this.selectionStart;
    const b = this.selectionEnd;
    if (a === b) {
      if (a === 0) return;
      const c = v.charCodeAt(a - 1);
      a -= c >= 0xdc00 && c <= 0xdfff && a >= 2 ? 2 : 1;
    }
    this._value = v.slice(0, a) + v.slice(b);
    this.selectionStart = this.selectionEnd = a;
    this.dispatch("input", { inputType: "deleteContentBackward" });
  }
  // caret moves the caret to code point position p (a click).
  caret(p) {
    const u = ot.cpToUtf16(this._value, p);
    this.setSelectionRange(u, u);
    this.dispatch("mouseup");
  }
}

async function setup(n, content, seed = 1) {
  const r = rng(seed);
  const server = new FakeServer({ p1: content });
  const net = new Net(server, r);
  const clock = new FakeClock();
  const users = [];
  for (let i = 0; i < n; i++) {
    const transport = net.transport(`u${i}`);
    const client = new DocClient({
      transport, pageId: "p1", clientId: `c${i}`,
      now: clock.now, setTimer: clock.setTimer, clearTimer: clock.clearTimer,
    });
    transport.connect();
    const opened = client.open();
    users.push({ client, opened });
  }
  await run(net, clock);
  for (const u of users) {
    await u.opened;
    u.ta = new FakeTextarea();
    u.binding = new TextareaBinding(u.ta, u.client);
  }
  return { r, server, net, clock, users };
}

async function run(net, clock) {
  for (let guard = 0; guard < 100000; guard++) {
    await settle();
    if (net.step()) continue;
    if (clock.timers.size) {
      clock.advance(1000);
      continue;
    }
    await settle();
    if (!net.pending().length && !clock.timers.size) return;
  }
  throw new Error("the network did not quiesce");
}

test("opForInput uses the caret to place an ambiguous edit", () => {
  assert.deepEqual(opForInput("aaa", "aaaa", 1), ["a", 3]);
  assert.deepEqual(opForInput("aaa", "aaaa", 4), [3, "a"]);
  assert.deepEqual(opForInput("😀😀", "😀😀😀", 2), ["😀", 2]); // caret in UTF-16 units
  assert.deepEqual(opForInput("a😀b", "ab", 1), [1, -1, 1]);
  assert.equal(opForInput("x", "x", 1), null);
});

test("selections convert between UTF-16 and code points", () => {
  const v = "😀a👍🏽b";
  assert.deepEqual(selectionToCp(v, 2, 7, "backward"), { start: 1, end: 4, backward: true });
  assert.deepEqual(selectionToUtf16(v, { start: 1, end: 4 }), { start: 2, end: 7 });
  assert.deepEqual(rangesToUtf16(v, [{ anchor: 5, head: 0 }]), [{ anchor: 8, head: 0 }]);
});

test("mapSelection: a caret stays before text inserted at it; a selection does not grow", () => {
  assert.deepEqual(mapSelection({ start: 2, end: 2 }, [2, "xx", 1]), { start: 2, end: 2, backward: undefined });
  assert.deepEqual(mapSelection({ start: 2, end: 2 }, ["xx", 3]).start, 4);
  assert.deepEqual(mapSelection({ start: 1, end: 2, backward: true }, [1, "x", 1, "y", 1]),
    { start: 2, end: 3, backward: true });
  assert.deepEqual(mapSelection({ start: 1, end: 3 }, [-3]), { start: 0, end: 0, backward: undefined });
});

test("changeEnd finds where the caret goes after undo or redo", () => {
  assert.equal(changeEnd([2, "ab", 3]), 4);
  assert.equal(changeEnd([2, -2, 3]), 2);
  assert.equal(changeEnd([1, "😀", 2, -1, 1]), 4);
  assert.equal(changeEnd([5]), null);
});

test("historyKey: Ctrl/Cmd+Z undo, Shift+Ctrl/Cmd+Z and Ctrl+Y redo", () => {
  const cases = [
    [{ key: "z", ctrlKey: true }, "undo"],
    [{ key: "z", metaKey: true }, "undo"],
    [{ key: "Z", ctrlKey: true, shiftKey: true }, "redo"],
    [{ key: "z", metaKey: true, shiftKey: true }, "redo"],
    [{ key: "y", ctrlKey: true }, "redo"],
    [{ key: "y", metaKey: true }, null],
    [{ key: "z" }, null],
    [{ key: "z", ctrlKey: true, altKey: true }, null],
    [{ key: "a", ctrlKey: true }, null],
  ];
  for (const [e, want] of cases) assert.equal(historyKey(e), want, JSON.stringify(e));
});

test("typing reaches the other textarea; the other's caret stays on its letter", async () => {
  const env = await setup(2, "hello world");
  const [a, b] = env.users;
  assert.equal(a.ta.value, "hello world");
  b.ta.caret(6); // before "world"
  a.ta.caret(0);
  a.ta.type("😀 ");
  await run(env.net, env.clock);
  assert.equal(b.ta.value, "😀 hello world");
  assert.equal(b.ta.value.slice(b.ta.selectionStart), "world", "caret still before w (UTF-16 aware)");
  // b types at its caret; a's caret (after the emoji) does not move.
  b.ta.type("big ");
  await run(env.net, env.clock);
  assert.equal(a.ta.value, "😀 hello big world");
  assert.equal(a.ta.selectionStart, 3);
  assert.equal(env.server.doc("p1").content, "😀 hello big world");
});

test("someone typing at my caret does not push it; a selection keeps its letters", async () => {
  const env = await setup(2, "abcdef");
  const [a, b] = env.users;
  a.ta.caret(3);
  b.ta.caret(3);
  b.ta.type("XY");
  await run(env.net, env.clock);
  assert.equal(a.ta.value, "abcXYdef");
  assert.equal(a.ta.selectionStart, 3);
  a.ta.setSelectionRange(5, 8, "backward"); // "def", selected backwards
  b.ta.caret(5);
  b.ta.type("__");
  b.ta.caret(0);
  b.ta.type(">");
  await run(env.net, env.clock);
  assert.equal(a.ta.value, ">abcXY__def");
  assert.equal(a.ta.value.slice(a.ta.selectionStart, a.ta.selectionEnd), "def");
  assert.equal(a.ta.selectionDirection, "backward");
});

test("Ctrl+Z and Shift+Ctrl+Z undo and redo one's own typing only", async () => {
  const env = await setup(2, "");
  const [a, b] = env.users;
  a.ta.type("mine ");
  await run(env.net, env.clock);
  b.ta.caret(5);
  b.ta.type("theirs");
  await run(env.net, env.clock);
  assert.equal(a.ta.value, "mine theirs");
  const e = a.ta.dispatch("keydown", { key: "z", ctrlKey: true });
  assert.ok(e.defaultPrevented);
  assert.equal(a.ta.value, "theirs");
  assert.equal(a.ta.selectionStart, 0, "the caret goes where the undone text was");
  a.ta.dispatch("keydown", { key: "z", ctrlKey: true, shiftKey: true });
  assert.equal(a.ta.value, "mine theirs");
  assert.equal(a.ta.selectionStart, 5);
  a.ta.dispatch("keydown", { key: "z", metaKey: true });
  a.ta.dispatch("keydown", { key: "y", ctrlKey: true });
  assert.equal(a.ta.value, "mine theirs");
  const bi = a.ta.dispatch("beforeinput", { inputType: "historyUndo" });
  assert.ok(bi.defaultPrevented);
  assert.equal(a.ta.value, "theirs");
  const other = a.ta.dispatch("keydown", { key: "b", ctrlKey: true });
  assert.equal(other.defaultPrevented, false);
  await run(env.net, env.clock);
  assert.equal(b.ta.value, "theirs");
  assert.equal(env.server.doc("p1").content, "theirs");
});

test("typing the binding has not seen yet is kept when a remote op arrives", async () => {
  const env = await setup(2, "abc");
  const [a, b] = env.users;
  b.ta.caret(0);
  b.ta.type("1");
  // a's value changes without an input event yet (e.g. an IME in the middle of composing).
  a.ta._value = "abcZ";
  a.ta.setSelectionRange(4, 4);
  await run(env.net, env.clock);
  assert.equal(a.ta.value, "1abcZ");
  assert.equal(a.ta.selectionStart, 5);
  await run(env.net, env.clock);
  assert.equal(b.ta.value, "1abcZ");
});

test("remote changes wait while an IME composes, then land without losing the composed text", async () => {
  const env = await setup(2, "abc");
  const [a, b] = env.users;
  a.ta.caret(3);
  a.ta.dispatch("compositionstart");
  a.ta.type("ｋ"); // the IME shows a first character
  b.ta.caret(0);
  b.ta.type("1");
  await run(env.net, env.clock);
  assert.equal(a.ta.value, "abcｋ", "not rewritten during the composition");
  assert.equal(a.client.text, "1abcｋ");
  a.ta.backspace();
  a.ta.type("漢字");
  assert.equal(a.client.text, "1abc漢字");
  const undo = a.ta.dispatch("keydown", { key: "z", ctrlKey: true, isComposing: true });
  assert.equal(undo.defaultPrevented, false, "shortcuts belong to the IME while it composes");
  a.ta.dispatch("compositionend");
  assert.equal(a.ta.value, "1abc漢字");
  assert.equal(a.ta.selectionStart, "1abc漢字".length, "the caret stays after the composed text");
  await run(env.net, env.clock);
  assert.equal(b.ta.value, "1abc漢字");
  assert.equal(env.server.doc("p1").content, "1abc漢字");
});

test("the selection goes to the client in code points, backward as anchor after head", async () => {
  const env = await setup(1, "😀😀abc");
  const [a] = env.users;
  const sent = [];
  a.client.setSelection = (ranges) => sent.push(ranges);
  a.ta.setSelectionRange(2, 6, "backward");
  a.ta.dispatch("select");
  assert.deepEqual(sent.pop(), [{ anchor: 4, head: 1 }]);
});

test("destroy removes the listeners", async () => {
  const env = await setup(1, "x");
  const [a] = env.users;
  a.binding.destroy();
  for (const set of a.ta.listeners.values()) assert.equal(set.size, 0);
  a.ta.type("y");
  assert.equal(a.client.text, "x");
});

test("property: random typing in several textareas converges, value and client agree", async () => {
  for (const seed of [31, 32, 33, 34]) {
    const env = await setup(3, "🙂 start\n", seed);
    const { r, users, net, clock, server } = env;
    for (let step = 0; step < 600; step++) {
      const u = users[int(r, users.length)];
      const k = r();
      const n = ot.cpLength(u.ta.value);
      if (k < 0.3) {
        u.ta.caret(int(r, n + 1));
        u.ta.type(text(r, 2) || "k");
      } else if (k < 0.4) {
        u.ta.backspace();
      } else if (k < 0.45) {
        const p = int(r, n + 1);
        const q = int(r, n + 1);
        const s = selectionToUtf16(u.ta.value, { start: Math.min(p, q), end: Math.max(p, q) });
        u.ta.setSelectionRange(s.start, s.end);
        u.ta.type(text(r, 2));
      } else if (k < 0.48) {
        u.ta.dispatch("keydown", { key: "z", ctrlKey: true, shiftKey: r() < 0.3 });
      } else if (k < 0.5) {
        u.client.transport.disconnect();
      } else if (k < 0.53) {
        u.client.transport.connect();
      } else if (k < 0.55) {
        clock.advance(int(r, 1500));
      } else if (k < 0.57) {
        u.ta.dispatch(u.binding._composing ? "compositionend" : "compositionstart");
      } else {
        net.step();
      }
      await settle();
      for (const v of users) {
        if (!v.binding._composing) assert.equal(v.ta.value, v.client.text, `seed ${seed} step ${step}`);
      }
    }
    for (const u of users) {
      if (u.binding._composing) u.ta.dispatch("compositionend");
      u.client.transport.connect();
    }
    await run(net, clock);
    for (const u of users) assert.equal(u.ta.value, server.doc("p1").content, `seed ${seed}`);
  }
});
