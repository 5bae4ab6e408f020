// Seeded random generators shared by the tests: documents and operations with astral characters,
// combining marks and multi-code-point emoji, so that UTF-16 mistakes show.

/** rng returns a deterministic PRNG (mulberry32) yielding floats in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** int returns an integer in [0, n). */
export function int(r, n) {
  return Math.floor(r() * n);
}

// Pieces of text; some are several code points (combining mark, skin tone, ZWJ sequence).
const PIECES = [
  "a", "b", "c", "x", " ", "\n", "é", "e\u0301", "😀", "👍🏽", "\u{1F468}\u200D\u{1F469}", "漢",
  "𝄞", "ß", "\u{10000}", "\u{1F400}", "😁",
];

/** text returns random text of up to max pieces. */
export function text(r, max = 12) {
  let s = "";
  const n = int(r, max + 1);
  for (let i = 0; i < n; i++) s += PIECES[int(r, PIECES.length)];
  return s;
}

/** op returns a random normalised-or-not op over doc (code points), built from random chunks. */
export function op(r, doc) {
  const len = Array.from(doc).length;
  const out = [];
  let left = len;
  while (left > 0) {
    const n = 1 + int(r, Math.min(left, 5));
    const k = r();
    if (k < 0.2) out.push(text(r, 3) || "z");
    if (r() < 0.6) out.push(n);
    else out.push(-n);
    left -= n;
  }
  if (r() < 0.3) out.push(text(r, 3) || "q");
  // Normalise through the module under test's own rules is avoided here: merge by hand.
  return mergeRaw(out);
}

// mergeRaw merges adjacent same-kind items and puts inserts before deletes.
function mergeRaw(items) {
  const o = [];
  for (const c of items) {
    const last = o[o.length - 1];
    if (typeof c === "string") {
      if (typeof last === "string") o[o.length - 1] += c;
      else if (typeof last === "number" && last < 0) {
        const prev = o[o.length - 2];
        if (typeof prev === "string") o[o.length - 2] += c;
        else o.splice(o.length - 1, 0, c);
      } else o.push(c);
    } else if (typeof last === "number" && Math.sign(last) === Math.sign(c)) {
      o[o.length - 1] += c;
    } else o.push(c);
  }
  return o;
}

/** edit returns doc with a random small edit, as a textarea would see after one keystroke or paste. */
export function edit(r, doc) {
  const cps = Array.from(doc);
  const at = int(r, cps.length + 1);
  const k = r();
  if (k < 0.55 || cps.length === 0) {
    cps.splice(at, 0, ...Array.from(text(r, 2) || "k"));
  } else if (k < 0.85) {
    cps.splice(at, 1 + int(r, Math.min(4, cps.length - Math.min(at, cps.length - 1))));
  } else {
    cps.splice(at, int(r, 3), ...Array.from(text(r, 3)));
  }
  return cps.join("");
}
