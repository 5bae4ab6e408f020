// ot.js: text operations for live co-editing (issue 13), in the wire form the server speaks.
//
// An operation is a JSON array that walks the whole document from its start:
//   a positive integer n  retains (skips) n code points,
//   a string s            inserts s,
//   a negative integer -n deletes n code points.
// Lengths and positions are Unicode code points, never UTF-16 units: "😀" is one code point but
// two JavaScript string units. Every function here counts code points; the UTF-16 helpers at the
// end convert for textarea.selectionStart/End.
//
// Normalised form (what every function here returns): no zero or empty items, adjacent items of
// the same kind merged, and an insert placed before a delete when the two are adjacent (the two
// orders mean the same edit). The trailing retain is kept: an op covers the whole document, so
// its base length is the length of the document it applies to.
//
// Tie rule of transform(a, b): a is the op being brought onto the server's history (the
// client's), b the op the server has already applied. When both insert at the same position,
// a's text comes first and b's after it (ot.js's convention). The server calls
// transform(clientOp, applied) for each op since the client's version and keeps the first
// result; a client holding pending ops calls transform(pending, serverOp) when a server op
// arrives; so both sides order tied inserts alike. The Go package pages/ot uses the same rule
// (its package documentation shows that the concurrent editing traces replay exactly to their
// final text under this rule and not under the other). Client and server must agree: changing
// the rule here means changing it there too.
//
// Transform past concurrent ops one at a time, in order: transform(a, compose(b1, b2)) can place
// an insert differently from transforming past b1 then b2 (b1 inserts text, b2 deletes it, a
// inserts inside it). The client transforms its pending ops past each remote op as it arrives,
// so the server must do the same, op by op, for both to end with the same text.

// ---- code point helpers ------------------------------------------------------------------

/** cpLength returns the number of code points in s. */
export function cpLength(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

// advance returns the UTF-16 index n code points after index i in s, or -1 past the end.
function advance(s, i, n) {
  while (n > 0) {
    if (i >= s.length) return -1;
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      i += d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
    } else {
      i++;
    }
    n--;
  }
  return i;
}

/** cpSlice returns the code points [start, end) of s (end defaults to the end of s). */
export function cpSlice(s, start, end) {
  const a = advance(s, 0, start);
  if (a < 0) return "";
  if (end === undefined) return s.slice(a);
  const b = advance(s, a, end - start);
  return b < 0 ? s.slice(a) : s.slice(a, b);
}

/** cpToUtf16 converts a code point offset in s to a UTF-16 offset (clamped to s). */
export function cpToUtf16(s, cp) {
  if (cp <= 0) return 0;
  const i = advance(s, 0, cp);
  return i < 0 ? s.length : i;
}

/**
 * utf16ToCp converts a UTF-16 offset in s to a code point offset (clamped to s). An offset that
 * falls between the two halves of a surrogate pair counts the pair as not yet reached.
 */
export function utf16ToCp(s, u) {
  if (u <= 0) return 0;
  if (u > s.length) u = s.length;
  let n = 0;
  let i = 0;
  while (i < u) {
    const j = advance(s, i, 1);
    if (j > u) break;
    i = j;
    n++;
  }
  return n;
}

// ---- shape ----------------------------------------------------------------------------------

function isRetain(c) {
  return Number.isInteger(c) && c > 0;
}
function isDelete(c) {
  return Number.isInteger(c) && c < 0;
}
function isInsert(c) {
  return typeof c === "string";
}

/**
 * isOp reports whether op has the wire shape: an array of positive integers, non-empty strings
 * and negative integers, each integer within the safe range. With normalised set it also checks
 * the normalised form.
 */
export function isOp(op, normalised = false) {
  if (!Array.isArray(op)) return false;
  let prev = 0; // 0 none, 1 retain, 2 insert, 3 delete
  for (const c of op) {
    let kind;
    if (isInsert(c)) {
      if (c === "") return false;
      kind = 2;
    } else if (Number.isSafeInteger(c) && c !== 0) {
      kind = c > 0 ? 1 : 3;
    } else {
      return false;
    }
    if (normalised && (kind === prev || (prev === 3 && kind === 2))) return false;
    prev = kind;
  }
  return true;
}

/** baseLength is the length in code points of the documents op applies to. */
export function baseLength(op) {
  let n = 0;
  for (const c of op) if (typeof c === "number") n += Math.abs(c);
  return n;
}

/** targetLength is the length in code points of the document op produces. */
export function targetLength(op) {
  let n = 0;
  for (const c of op) {
    if (isRetain(c)) n += c;
    else if (isInsert(c)) n += cpLength(c);
  }
  return n;
}

/** isNoop reports whether op changes nothing (only retains, or empty). */
export function isNoop(op) {
  return op.every((c) => isRetain(c));
}

// Builder appends items and keeps the result normalised.
class Builder {
  constructor() {
    this.ops = [];
  }
  retain(n) {
    if (n <= 0) return this;
    const o = this.ops;
    if (o.length && isRetain(o[o.length - 1])) o[o.length - 1] += n;
    else o.push(n);
    return this;
  }
  insert(s) {
    if (s === "") return this;
    const o = this.ops;
    const last = o.length - 1;
    if (last >= 0 && isInsert(o[last])) {
      o[last] += s;
    } else if (last >= 0 && isDelete(o[last])) {
      // Insert before the delete; merge with an insert already there.
      if (last >= 1 && isInsert(o[last - 1])) o[last - 1] += s;
      else o.splice(last, 0, s);
    } else {
      o.push(s);
    }
    return this;
  }
  delete(n) {
    if (n <= 0) return this;
    const o = this.ops;
    if (o.length && isDelete(o[o.length - 1])) o[o.length - 1] -= n;
    else o.push(-n);
    return this;
  }
  add(c) {
    if (isRetain(c)) return this.retain(c);
    if (isInsert(c)) return this.insert(c);
    if (isDelete(c)) return this.delete(-c);
    return this;
  }
}

/** normalize returns op in normalised form (a new array); zero and "" items are dropped. */
export function normalize(op) {
  if (!Array.isArray(op)) throw new TypeError("ot: an operation is an array");
  const b = new Builder();
  for (const c of op) {
    if (!(typeof c === "string" || Number.isSafeInteger(c))) {
      throw new TypeError("ot: malformed operation item");
    }
    b.add(c);
  }
  return b.ops;
}

/** retainOp is the op that changes nothing in a document of n code points. */
export function retainOp(n) {
  return n > 0 ? [n] : [];
}

// Reader walks an op item by item and can take part of an item. Insert lengths are code points.
class Reader {
  constructor(op) {
    this.op = op;
    this.i = 0;
    this.cur = op.length ? op[0] : undefined; // the rest of the current item
  }
  done() {
    return this.cur === undefined;
  }
  next() {
    this.i++;
    this.cur = this.i < this.op.length ? this.op[this.i] : undefined;
  }
  // len is the length of what is left of the current item, in code points.
  len() {
    const c = this.cur;
    if (isInsert(c)) return cpLength(c);
    return Math.abs(c);
  }
  // take consumes n code points of the current item (n <= len()) and returns that part.
  take(n) {
    const c = this.cur;
    if (isInsert(c)) {
      const cut = advance(c, 0, n);
      const head = c.slice(0, cut);
      if (cut >= c.length) this.next();
      else this.cur = c.slice(cut);
      return head;
    }
    const whole = Math.abs(c);
    if (n >= whole) {
      this.next();
      return c;
    }
    this.cur = c > 0 ? c - n : c + n;
    return c > 0 ? n : -n;
  }
}

/** apply returns doc with op applied. Throws when op does not fit doc. */
export function apply(doc, op) {
  let i = 0; // UTF-16 index into doc
  const out = [];
  for (const c of op) {
    if (isRetain(c)) {
      const j = advance(doc, i, c);
      if (j < 0) throw new RangeError("ot: retain past the end of the document");
      out.push(doc.slice(i, j));
      i = j;
    } else if (isInsert(c)) {
      out.push(c);
    } else if (isDelete(c)) {
      const j = advance(doc, i, -c);
      if (j < 0) throw new RangeError("ot: delete past the end of the document");
      i = j;
    } else {
      throw new TypeError("ot: malformed operation item");
    }
  }
  if (i !== doc.length) throw new RangeError("ot: operation is shorter than the document");
  return out.join("");
}

/**
 * compose returns one op with the effect of a then b: apply(apply(d, a), b) equals
 * apply(d, compose(a, b)). Throws when b does not apply to a's result.
 */
export function compose(a, b) {
  if (targetLength(a) !== baseLength(b)) {
    throw new RangeError("ot: compose: the second op does not apply to the first one's result");
  }
  const out = new Builder();
  const ra = new Reader(a);
  const rb = new Reader(b);
  for (;;) {
    if (ra.done() && rb.done()) break;
    if (!rb.done() && isInsert(rb.cur)) {
      out.insert(rb.take(rb.len()));
      continue;
    }
    if (!ra.done() && isDelete(ra.cur)) {
      out.delete(-ra.take(ra.len()));
      continue;
    }
    if (ra.done() || rb.done()) throw new RangeError("ot: compose: lengths do not match");
    const n = Math.min(ra.len(), rb.len());
    const x = ra.take(n);
    const y = rb.take(n);
    if (isRetain(x)) {
      if (isRetain(y)) out.retain(n);
      else out.delete(n);
    } else if (isRetain(y)) {
      out.insert(x);
    } // insert then delete: nothing
  }
  return out.ops;
}

/**
 * transform takes two ops on the same document, a the client's and b the server's (already
 * applied there), and returns [a2, b2] with apply(apply(d, a), b2) === apply(apply(d, b), a2).
 * Concurrent inserts at one position: a's text goes first (see the tie rule above).
 */
export function transform(a, b) {
  if (baseLength(a) !== baseLength(b)) {
    throw new RangeError("ot: transform: the ops apply to documents of different lengths");
  }
  const a2 = new Builder();
  const b2 = new Builder();
  const ra = new Reader(a);
  const rb = new Reader(b);
  for (;;) {
    if (ra.done() && rb.done()) break;
    // The tie rule: a's insert is taken before b's insert at the same position.
    if (!ra.done() && isInsert(ra.cur)) {
      const s = ra.take(ra.len());
      a2.insert(s);
      b2.retain(cpLength(s));
      continue;
    }
    if (!rb.done() && isInsert(rb.cur)) {
      const s = rb.take(rb.len());
      a2.retain(cpLength(s));
      b2.insert(s);
      continue;
    }
    if (ra.done() || rb.done()) throw new RangeError("ot: transform: lengths do not match");
    const n = Math.min(ra.len(), rb.len());
    const x = ra.take(n);
    const y = rb.take(n);
    if (isRetain(x) && isRetain(y)) {
      a2.retain(n);
      b2.retain(n);
    } else if (isDelete(x) && isRetain(y)) {
      a2.delete(n);
    } else if (isRetain(x) && isDelete(y)) {
      b2.delete(n);
    } // both delete the same text: neither needs to
  }
  return [a2.ops, b2.ops];
}

/** invert returns the op that undoes op, given doc, the document op applies to. */
export function invert(op, doc) {
  const out = new Builder();
  let i = 0;
  for (const c of op) {
    if (isRetain(c)) {
      const j = advance(doc, i, c);
      if (j < 0) throw new RangeError("ot: invert: retain past the end of the document");
      out.retain(c);
      i = j;
    } else if (isInsert(c)) {
      out.delete(cpLength(c));
    } else {
      const j = advance(doc, i, -c);
      if (j < 0) throw new RangeError("ot: invert: delete past the end of the document");
      out.insert(doc.slice(i, j));
      i = j;
    }
  }
  return out.ops;
}

/**
 * transformPosition maps a code point position in the document op applies to onto the document
 * it produces. An insert exactly at pos leaves pos before the inserted text, unless after is true
 * (use after for one's own insert, so the caret follows what was typed). A position inside a
 * deleted range moves to where the range was.
 */
export function transformPosition(pos, op, after = false) {
  let idx = 0;
  let out = pos;
  for (const c of op) {
    if (idx > pos) break;
    if (isRetain(c)) {
      idx += c;
    } else if (isInsert(c)) {
      if (idx < pos || after) out += cpLength(c);
    } else {
      const n = -c;
      if (idx < pos) out -= Math.min(n, pos - idx);
      idx += n;
    }
  }
  return out;
}

/**
 * diff returns a minimal op turning oldText into newText: one replaced range between the common
 * prefix and the common suffix, in code points. cursor, when given, is the code point position
 * in newText where the edit is known to end (the caret after typing or deleting); it chooses
 * between equally short diffs, e.g. where in "aaa" an "a" was typed.
 */
export function diff(oldText, newText, cursor) {
  // Compared in UTF-16 units without copying the texts into arrays (a keystroke in a large
  // document stays cheap); a boundary never splits a surrogate pair, so the counts below are
  // whole code points.
  const a = oldText;
  const b = newText;
  const min = Math.min(a.length, b.length);
  const same = (i) => a.charCodeAt(a.length - 1 - i) === b.charCodeAt(b.length - 1 - i);
  let p = 0;
  let s = 0;
  if (cursor !== undefined && cursor >= 0) {
    // The text after the caret is unchanged: take the suffix first, up to the caret.
    const maxSuffix = Math.max(0, Math.min(min, b.length - cpToUtf16(b, cursor)));
    while (s < maxSuffix && same(s)) s++;
    s = unsplitSuffix(a, b, s);
    while (p < min - s && a.charCodeAt(p) === b.charCodeAt(p)) p++;
    p = unsplitPrefix(a, p);
  } else {
    while (p < min && a.charCodeAt(p) === b.charCodeAt(p)) p++;
    p = unsplitPrefix(a, p);
    while (s < min - p && same(s)) s++;
    s = unsplitSuffix(a, b, s);
  }
  const out = new Builder();
  out.retain(cpLength(a.slice(0, p)));
  out.insert(b.slice(p, b.length - s));
  out.delete(cpLength(a.slice(p, a.length - s)));
  out.retain(cpLength(a.slice(a.length - s)));
  return out.ops;
}

function isHigh(c) {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c) {
  return c >= 0xdc00 && c <= 0xdfff;
}

// unsplitPrefix shortens a common prefix of p units that ends inside a surrogate pair.
function unsplitPrefix(a, p) {
  return p > 0 && isHigh(a.charCodeAt(p - 1)) ? p - 1 : p;
}

// unsplitSuffix shortens a common suffix of s units that starts inside a surrogate pair of
// either text (the pairs may differ in their high half only).
function unsplitSuffix(a, b, s) {
  if (s === 0) return 0;
  const ia = a.length - s;
  const ib = b.length - s;
  if (isLow(a.charCodeAt(ia)) && ((ia > 0 && isHigh(a.charCodeAt(ia - 1))) ||
    (ib > 0 && isHigh(b.charCodeAt(ib - 1))))) {
    return s - 1;
  }
  return s;
}
