// doc-undo.js: the undo and redo stacks of one's own edits for doc-client.js.
//
// Each step is an op on the current local text that reverts one's own edits. Remote ops move the
// steps past them (transform), so undo reverts one's own text where it now is and never touches
// what others typed. A step whose text others deleted becomes a no-op and is skipped.

import * as ot from "./ot.js";

/** UndoHistory holds the undo and redo steps of one document's local edits. */
export class UndoHistory {
  /** groupMs: local edits closer in time than this form one step. */
  constructor(groupMs) {
    this.groupMs = groupMs;
    this.undo = []; // ops on the current text, newest last
    this.redo = [];
    this.lastEditAt = -Infinity;
  }

  /**
   * record notes an edit just applied to the text: inverse undoes it; origin is "local" (typing:
   * grouped by time, clears redo), "undo" (its inverse is a redo step) or "redo".
   */
  record(inverse, origin, now) {
    if (origin === "local") {
      const top = this.undo[this.undo.length - 1];
      if (top && now - this.lastEditAt < this.groupMs) top.op = ot.compose(inverse, top.op);
      else this.undo.push({ op: inverse });
      this.lastEditAt = now;
      this.redo.length = 0;
    } else if (origin === "undo") {
      this.redo.push({ op: inverse });
    } else if (origin === "redo") {
      this.undo.push({ op: inverse });
    }
  }

  /** breakGroup makes the next local edit start a new step. */
  breakGroup() {
    this.lastEditAt = -Infinity;
  }

  /** can reports whether pop(kind) would return an op; kind is "undo" or "redo". */
  can(kind) {
    return this[kind].some((e) => !ot.isNoop(e.op));
  }

  /** pop removes and returns the latest step of kind that changes something, or null. */
  pop(kind) {
    this.breakGroup();
    const stack = this[kind];
    while (stack.length) {
      const { op } = stack.pop();
      if (!ot.isNoop(op)) return op;
    }
    return null;
  }

  /** transform moves every step past op, an op not ours just applied to the text. */
  transform(op) {
    for (const stack of [this.undo, this.redo]) {
      let o = op;
      for (let i = stack.length - 1; i >= 0; i--) [stack[i].op, o] = ot.transform(stack[i].op, o);
    }
  }
}
