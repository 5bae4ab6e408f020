import { test } from "node:test";
import assert from "node:assert/strict";
import * as ot from "../static/js/ot.js";
import { rng, int, text, op as randomOp } from "./gen.mjs";

const N = 3000;

// wellFormed reports whether s has no lone surrogate (String.prototype.isWellFormed is Node 20+).
function wellFormed(s) {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function cps(s) {
  return Array.from(s);
}

test("apply counts code points, not UTF-16 units", () => {
  assert.equal(ot.apply("a😀b", [1, -1, "x", 1]), "axb");
  assert.equal(ot.apply("😀😀", [1, "👍🏽", 1]), "😀👍🏽😀");
  assert.equal(ot.apply("e\u0301x", [1, -1, 1]), "ex"); // the combining mark is its own code point
  assert.equal(ot.apply("", ["hé"]), "hé");
  assert.throws(() => ot.apply("😀", [2]), RangeError);
  assert.throws(() => ot.apply("ab", [1]), RangeError);
  assert.throws(() => ot.apply("ab", [1, -2]), RangeError);
});

test("lengths", () => {
  const op = [2, "😀x", -3, 1];
  assert.equal(ot.baseLength(op), 6);
  assert.equal(ot.targetLength(op), 5);
  assert.equal(ot.cpLength("a😀e\u0301"), 4);
});

test("normalize merges, orders insert before delete, drops empty items", () => {
  assert.deepEqual(ot.normalize([1, 2, "a", "b", -1, -2, 0, ""]), [3, "ab", -3]);
  assert.deepEqual(ot.normalize([1, -2, "x", 3]), [1, "x", -2, 3]);
  assert.deepEqual(ot.normalize([-2, "x", -1, "y"]), ["xy", -3]);
  assert.throws(() => ot.normalize([1.5]), TypeError);
  assert.throws(() => ot.normalize("ab"), TypeError);
});

test("isOp checks the wire shape", () => {
  assert.ok(ot.isOp([5, "abc", -2, 10]));
  assert.ok(ot.isOp([]));
  assert.ok(!ot.isOp([0]));
  assert.ok(!ot.isOp([""]));
  assert.ok(!ot.isOp([1.5]));
  assert.ok(!ot.isOp([null]));
  assert.ok(!ot.isOp({}));
  assert.ok(!ot.isOp([2 ** 60]));
  assert.ok(ot.isOp([1, 1]));
  assert.ok(!ot.isOp([1, 1], true));
  assert.ok(!ot.isOp([-1, "a"], true));
  assert.ok(ot.isOp(["a", -1], true));
});

test("transform: concurrent inserts at one position put a's (the client's) text first", () => {
  const client = [1, "C", 1];
  const server = [1, "S", 1];
  const [c2, s2] = ot.transform(client, server);
  assert.equal(ot.apply(ot.apply("ab", server), c2), "aCSb");
  assert.equal(ot.apply(ot.apply("ab", client), s2), "aCSb");
  // Same in an empty document and with astral text.
  const [x2] = ot.transform(["😀"], ["👍🏽"]);
  assert.equal(ot.apply("👍🏽", x2), "😀👍🏽");
  // The example of pages/ot's documentation: a past b1 then b2 gives "AB".
  const a = [2, "A"];
  const b1 = [2, "B"];
  const b2 = [-2, 1];
  const step = ot.transform(ot.transform(a, b1)[0], b2)[0];
  assert.equal(ot.apply(ot.apply(ot.apply("xy", b1), b2), step), "AB");
});

test("transform: both delete the same text", () => {
  const [a2, b2] = ot.transform([-2, 1], [1, -2]);
  assert.equal(ot.apply(ot.apply("xyz", [1, -2]), a2), "");
  assert.equal(ot.apply(ot.apply("xyz", [-2, 1]), b2), "");
});

test("property: TP1 on random documents and ops", () => {
  const r = rng(1);
  for (let i = 0; i < N; i++) {
    const d = text(r, 15);
    const a = randomOp(r, d);
    const b = randomOp(r, d);
    const [a2, b2] = ot.transform(a, b);
    const left = ot.apply(ot.apply(d, a), b2);
    const right = ot.apply(ot.apply(d, b), a2);
    assert.equal(left, right, `doc ${JSON.stringify(d)} a ${JSON.stringify(a)} b ${JSON.stringify(b)}`);
    assert.ok(ot.isOp(a2, true) && ot.isOp(b2, true), "transform returns normalised ops");
  }
});

test("property: compose agrees with sequential application", () => {
  const r = rng(2);
  for (let i = 0; i < N; i++) {
    const d = text(r, 15);
    const a = randomOp(r, d);
    const d1 = ot.apply(d, a);
    const b = randomOp(r, d1);
    const c = ot.compose(a, b);
    assert.equal(ot.apply(d, c), ot.apply(d1, b));
    assert.ok(ot.isOp(c, true));
    assert.equal(ot.baseLength(c), cps(d).length);
  }
});

test("transforming past two ops is not transforming past their composition", () => {
  // Why the server transforms op by op: b1 inserts "xy", b2 deletes it, a inserts at b1's spot.
  const d = "ab";
  const a = [1, "Z", 1];
  const b1 = [1, "xy", 1];
  const b2 = [1, -2, 1];
  const aStep = ot.transform(ot.transform(a, b1)[0], b2)[0];
  const aOnce = ot.transform(a, ot.compose(b1, b2))[0];
  const end = ot.apply(ot.apply(d, b1), b2);
  assert.equal(ot.apply(end, aStep), "aZb");
  assert.equal(ot.apply(end, aOnce), "aZb");
  // With three ops the positions can differ; the seeded search below finds such a case, so the
  // comment in ot.js stays true.
  const r = rng(3);
  let differ = 0;
  for (let i = 0; i < N; i++) {
    const d0 = text(r, 12);
    const x = randomOp(r, d0);
    const y1 = randomOp(r, d0);
    const y2 = randomOp(r, ot.apply(d0, y1));
    const s1 = ot.transform(ot.transform(x, y1)[0], y2)[0];
    const s2 = ot.transform(x, ot.compose(y1, y2))[0];
    if (JSON.stringify(s1) !== JSON.stringify(s2)) differ++;
  }
  assert.ok(differ > 0);
});

test("property: invert undoes", () => {
  const r = rng(4);
  for (let i = 0; i < N; i++) {
    const d = text(r, 15);
    const a = randomOp(r, d);
    const inv = ot.invert(a, d);
    assert.equal(ot.apply(ot.apply(d, a), inv), d);
    assert.ok(ot.isOp(inv, true));
    assert.ok(ot.isNoop(ot.compose(a, inv)) || ot.apply(d, ot.compose(a, inv)) === d);
  }
});

test("property: JSON shape survives a round trip and stays normalised", () => {
  const r = rng(5);
  for (let i = 0; i < N; i++) {
    const d = text(r, 10);
    const a = ot.normalize(randomOp(r, d));
    const j = JSON.parse(JSON.stringify(a));
    assert.deepEqual(j, a);
    assert.ok(ot.isOp(j, true));
    assert.equal(ot.apply(d, j), ot.apply(d, a));
  }
});

test("property: transformPosition keeps the caret on the same letter", () => {
  const r = rng(6);
  for (let i = 0; i < N; i++) {
    const d = text(r, 15);
    const dc = cps(d);
    if (dc.length === 0) continue;
    const a = randomOp(r, d);
    // Mark each code point by whether a keeps it.
    const kept = [];
    for (const c of a) {
      if (typeof c === "number") for (let k = 0; k < Math.abs(c); k++) kept.push(c > 0);
    }
    const p = int(r, dc.length);
    const out = cps(ot.apply(d, a));
    // With after set, the position skips text inserted right at it and lands on its letter.
    const q = ot.transformPosition(p, a, true);
    assert.ok(q >= 0 && q <= out.length);
    if (kept[p]) assert.equal(out[q], dc[p]);
    // Without it, the position stays before text inserted at it: never further right.
    assert.ok(ot.transformPosition(p, a) <= q);
    // The end of the document maps onto the end unless something is inserted at the end.
    const qe = ot.transformPosition(dc.length, a, true);
    assert.equal(qe, out.length);
  }
});

test("transformPosition: insert at the caret leaves it before, unless after", () => {
  assert.equal(ot.transformPosition(1, [1, "😀", 1]), 1);
  assert.equal(ot.transformPosition(1, [1, "😀", 1], true), 2);
  assert.equal(ot.transformPosition(2, ["xy", 2]), 4);
  assert.equal(ot.transformPosition(3, [1, -3, 1]), 1);
  assert.equal(ot.transformPosition(4, [1, -2, 1]), 2);
});

test("diff: common prefix and suffix in code points", () => {
  assert.deepEqual(ot.diff("abc", "abc"), [3]);
  assert.deepEqual(ot.diff("", "x"), ["x"]);
  assert.deepEqual(ot.diff("x", ""), [-1]);
  assert.deepEqual(ot.diff("a😀b", "a😁b"), [1, "😁", -1, 1]); // same high surrogate, different low
  assert.deepEqual(ot.diff("aaa", "aaaa"), [3, "a"]);
  assert.deepEqual(ot.diff("aaa", "aaaa", 1), ["a", 3]); // the caret says the a was typed first
  assert.deepEqual(ot.diff("aaa", "aaaa", 2), [1, "a", 2]);
  assert.deepEqual(ot.diff("aaa", "aa", 1), [1, -1, 1]);
  assert.deepEqual(ot.diff("abab", "ab", 0), [-2, 2]);
  // Pairs sharing a half: U+10000 is D800 DC00, U+1F400 is D83D DC00 (same low half).
  assert.deepEqual(ot.diff("\u{10000}", "\u{1F400}"), ["\u{1F400}", -1]);
  assert.deepEqual(ot.diff("x\u{10000}", "x\u{1F400}", 2), [1, "\u{1F400}", -1]);
  assert.deepEqual(ot.diff("😀", "😁"), ["😁", -1]); // same high half
  assert.deepEqual(ot.diff("😀😀", "😀😀😀", 1), ["😀", 2]);
});

test("property: diff produces newText, normalised, with at most one change", () => {
  const r = rng(7);
  for (let i = 0; i < N; i++) {
    const a = text(r, 12);
    const b = r() < 0.5 ? text(r, 12) : ot.apply(a, randomOp(r, a));
    const hint = r() < 0.5 ? undefined : int(r, cps(b).length + 2) - 1;
    const d = ot.diff(a, b, hint);
    assert.equal(ot.apply(a, d), b);
    assert.equal(ot.baseLength(d), cps(a).length);
    // Surrogate halves never end up alone in an insert.
    for (const c of d) if (typeof c === "string") assert.ok(wellFormed(c), JSON.stringify(d));
    assert.ok(ot.isOp(d, true));
    assert.ok(d.filter((c) => typeof c !== "number" || c < 0).length <= 2);
  }
});

test("code point and UTF-16 offsets convert both ways", () => {
  const s = "a😀e\u0301👍🏽";
  assert.equal(ot.cpToUtf16(s, 0), 0);
  assert.equal(ot.cpToUtf16(s, 1), 1);
  assert.equal(ot.cpToUtf16(s, 2), 3);
  assert.equal(ot.cpToUtf16(s, 4), 5);
  assert.equal(ot.cpToUtf16(s, 99), s.length);
  assert.equal(ot.utf16ToCp(s, 3), 2);
  assert.equal(ot.utf16ToCp(s, 2), 1); // inside the surrogate pair: the pair is not yet reached
  assert.equal(ot.utf16ToCp(s, 99), 6);
  assert.equal(ot.cpSlice(s, 1, 3), "😀e");
  const r = rng(8);
  for (let i = 0; i < 500; i++) {
    const t = text(r, 10);
    const p = int(r, cps(t).length + 1);
    assert.equal(ot.utf16ToCp(t, ot.cpToUtf16(t, p)), p);
    assert.equal(t.slice(0, ot.cpToUtf16(t, p)), cps(t).slice(0, p).join(""));
  }
});

test("compose and transform reject ops of the wrong length", () => {
  assert.throws(() => ot.compose([1], [2]), RangeError);
  assert.throws(() => ot.transform([1], [2]), RangeError);
});
