// textarea-binding.js: binds a DocClient (doc-client.js) to a plain <textarea>.
//
// Typing becomes ops (the diff between the previous and the current value, the caret telling
// where an ambiguous edit happened); remote ops, undo and redo rewrite the value and put the
// caret and selection back where they belong; Ctrl/Cmd+Z, Shift+Ctrl/Cmd+Z and Ctrl+Y (and the
// browser's own undo commands) go to the client's undo and redo, which touch only one's own
// edits. The textarea counts in UTF-16 units, the client in code points: the conversions happen
// here, in the pure functions below, which the tests exercise without a DOM.

import * as ot from "./ot.js";

/** selectionToCp converts a textarea selection (UTF-16 offsets) to code points. */
export function selectionToCp(value, start, end, direction = "forward") {
  return {
    start: ot.utf16ToCp(value, start),
    end: ot.utf16ToCp(value, end),
    backward: direction === "backward",
  };
}

/** selectionToUtf16 converts a selection in code points to UTF-16 offsets. */
export function selectionToUtf16(value, sel) {
  return { start: ot.cpToUtf16(value, sel.start), end: ot.cpToUtf16(value, sel.end) };
}

/**
 * opForInput returns the op that turns oldValue into newValue after an input event, or null when
 * nothing changed. caret16 is the textarea's selectionEnd after the input: the edit ends there,
 * which decides e.g. which of several equal letters was typed.
 */
export function opForInput(oldValue, newValue, caret16) {
  if (oldValue === newValue) return null;
  return ot.diff(oldValue, newValue, ot.utf16ToCp(newValue, caret16));
}

/**
 * mapSelection moves a selection (code points) through an op that is not the user's typing: a
 * caret stays before text inserted right at it (someone typing at the same spot does not push
 * it), and a selection does not grow to take in text inserted at either of its ends.
 */
export function mapSelection(sel, op) {
  if (sel.start === sel.end) {
    const p = ot.transformPosition(sel.start, op);
    return { start: p, end: p, backward: sel.backward };
  }
  const start = ot.transformPosition(sel.start, op, true);
  const end = Math.max(start, ot.transformPosition(sel.end, op));
  return { start, end, backward: sel.backward };
}

/**
 * changeEnd returns the code point position, in the text op produces, just after the last
 * change op makes: where the caret goes after an undo or redo.
 */
export function changeEnd(op) {
  let pos = 0;
  let last = null;
  for (const c of op) {
    if (typeof c === "string") {
      pos += ot.cpLength(c);
      last = pos;
    } else if (c > 0) {
      pos += c;
    } else {
      last = pos;
    }
  }
  return last;
}

/**
 * historyKey returns "undo", "redo" or null for a keydown event: Ctrl/Cmd+Z undoes,
 * Shift+Ctrl/Cmd+Z and Ctrl+Y redo.
 */
export function historyKey(e) {
  if (e.altKey || !(e.ctrlKey || e.metaKey)) return null;
  const k = typeof e.key === "string" ? e.key.toLowerCase() : "";
  if (k === "z") return e.shiftKey ? "redo" : "undo";
  if (k === "y" && e.ctrlKey && !e.metaKey && !e.shiftKey) return "redo";
  return null;
}

/** rangesToUtf16 converts remote ranges ({anchor, head} in code points) for drawing. */
export function rangesToUtf16(value, ranges) {
  return ranges.map((r) => ({ anchor: ot.cpToUtf16(value, r.anchor), head: ot.cpToUtf16(value, r.head) }));
}

const NAVIGATION = new Set([
  "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown",
]);

/**
 * TextareaBinding keeps textarea and client in step until destroy(). Create it once the client
 * is open (client.open() resolved): the textarea then takes the client's text.
 */
export class TextareaBinding {
  #client; #value; #textarea;
  #deferred; #listeners; #off; #typing;

  constructor(textarea, client) {
    this.#textarea = textarea;
    this.#client = client;
    this.#value = client.text; // the value the client knows the textarea to have
    textarea.value = client.text;

    this.#listeners = [
      ["input", () => this.#onInput()],
      ["beforeinput", (e) => this.#onBeforeInput(e)],
      ["keydown", (e) => this.#onKeydown(e)],
      ["select", () => this.#sendSelection()],
      ["selectionchange", () => this.#sendSelection()],
      ["keyup", () => this.#sendSelection()],
      ["mouseup", () => {
        this.#client.breakUndoGroup();
        this.#sendSelection();
      }],
      ["focus", () => this.#sendSelection()],
      ["compositionstart", () => {
        this._composing = true;
      }],
      ["compositionend", () => {
        this._composing = false;
        this.#onInput(); // some browsers fire the last input after compositionend
        this.#writeDeferred();
      }],
    ];
    // While an IME composes, writing the value would cancel the composition: remote changes wait
    // in #deferred (an op from the textarea's value to the client's text) until it ends.
    this._composing = false;
    this.#deferred = null;
    for (const [ev, fn] of this.#listeners) textarea.addEventListener(ev, fn);
    this.#off = client.on("change", (e) => this.#onChange(e));
  }

  /** destroy removes every listener; the textarea keeps its value. */
  destroy() {
    if (typeof this.#textarea.removeEventListener === "function") {
      for (const [ev, fn] of this.#listeners) this.#textarea.removeEventListener(ev, fn);
    }
    this.#off();
  }

  #selection() {
    const t = this.#textarea;
    return selectionToCp(t.value, t.selectionStart, t.selectionEnd, t.selectionDirection);
  }

  #sendSelection() {
    if (this.#textarea.value !== this.#value) return; // an input event is on its way
    if (this.#deferred) return; // positions on the textarea are not the client's yet
    const s = this.#selection();
    this.#client.setSelection([s.backward ? { anchor: s.end, head: s.start } : { anchor: s.start, head: s.end }]);
  }

  #onInput() {
    const t = this.#textarea;
    let op = opForInput(this.#value, t.value, t.selectionEnd);
    if (!op) return;
    this.#value = t.value;
    if (this.#deferred) [op, this.#deferred] = ot.transform(op, this.#deferred);
    this.#typing = true;
    try {
      this.#client.applyLocal(op);
    } finally {
      this.#typing = false;
    }
    this.#sendSelection();
  }

  #onBeforeInput(e) {
    if (e.inputType === "historyUndo" || e.inputType === "historyRedo") {
      e.preventDefault();
      if (e.inputType === "historyUndo") this.#client.undo();
      else this.#client.redo();
    }
  }

  #onKeydown(e) {
    if (e.isComposing || this._composing) return;
    const which = historyKey(e);
    if (which) {
      e.preventDefault();
      if (which === "undo") this.#client.undo();
      else this.#client.redo();
      return;
    }
    if (NAVIGATION.has(e.key)) this.#client.breakUndoGroup();
  }

  // #onChange writes a change that did not come from this textarea's typing into it.
  #onChange(e) {
    if (this.#typing) return;
    if (this._composing || this.#deferred) {
      this.#deferred = this.#deferred ? ot.compose(this.#deferred, e.op) : e.op;
      if (!this._composing) this.#writeDeferred();
      return;
    }
    this.#write(e);
  }

  // #writeDeferred writes the changes held back during a composition.
  #writeDeferred() {
    const op = this.#deferred;
    this.#deferred = null;
    if (op && !ot.isNoop(op)) this.#write({ op, origin: "remote" });
    else this.#sendSelection();
  }

  #write(e) {
    const t = this.#textarea;
    let op = e.op; // on this.#value
    let unseen = null; // typing without an input event yet, on this.#value
    if (t.value !== this.#value) {
      unseen = opForInput(this.#value, t.value, t.selectionEnd);
      [unseen, op] = ot.transform(unseen, op); // op now applies to t.value
    }
    const before = this.#selection();
    let sel = mapSelection(before, op);
    if (e.origin === "undo" || e.origin === "redo") {
      const at = changeEnd(op);
      if (at !== null) sel = { start: at, end: at, backward: false };
    }
    const scroll = t.scrollTop;
    this.#value = this.#client.text;
    if (unseen && !ot.isNoop(unseen)) {
      this.#typing = true;
      try {
        this.#client.applyLocal(unseen);
      } finally {
        this.#typing = false;
      }
      this.#value = this.#client.text;
    }
    t.value = this.#value;
    const u = selectionToUtf16(t.value, sel);
    t.setSelectionRange(u.start, u.end, sel.backward ? "backward" : "forward");
    if (scroll !== undefined) t.scrollTop = scroll;
    if (e.origin === "undo" || e.origin === "redo") this.#sendSelection();
  }
}
