// doc-selections.js: other users' selections for doc-client.js, kept in code points on the local
// text and moved with every change to it.

import * as ot from "./ot.js";

/**
 * RemoteSelections holds the latest selection of each other user. A selection arrives against a
 * server version; place (given by the client) maps its ranges onto the local text. One sent
 * against a version the client has not reached waits until it has.
 */
export class RemoteSelections {
  constructor() {
    this.shown = new Map(); // userId -> {userId, name, ranges}
    this.early = new Map(); // userId -> doc_selection message ahead of our version
  }

  /** list returns copies of the selections, for the UI. */
  list() {
    return [...this.shown.values()].map((s) => ({
      userId: s.userId, name: s.name, ranges: s.ranges.map((r) => ({ ...r })),
    }));
  }

  /**
   * receive handles a doc_selection message; version is the client's, place(ranges, version)
   * maps ranges onto the local text. Returns whether the list changed.
   */
  receive(m, version, place) {
    if (!Array.isArray(m.ranges) || m.ranges.length === 0) {
      this.early.delete(m.userId);
      return this.shown.delete(m.userId);
    }
    if (version === null || m.version > version) {
      this.early.set(m.userId, m);
      return false;
    }
    this.early.delete(m.userId);
    this.shown.set(m.userId, { userId: m.userId, name: m.name, ranges: place(m.ranges, m.version) });
    return true;
  }

  /** reached places the waiting selections the client's version has caught up with. */
  reached(version, place) {
    let changed = false;
    for (const m of [...this.early.values()]) {
      if (m.version <= version) changed = this.receive(m, version, place) || changed;
    }
    return changed;
  }

  /** map moves every selection through op, a change of the local text. Returns whether any. */
  map(op) {
    if (this.shown.size === 0) return false;
    for (const s of this.shown.values()) {
      s.ranges = s.ranges.map((r) => ({
        anchor: ot.transformPosition(r.anchor, op),
        head: ot.transformPosition(r.head, op),
      }));
    }
    return true;
  }

  /** clear forgets every selection. Returns whether any was shown. */
  clear() {
    this.early.clear();
    const had = this.shown.size > 0;
    this.shown.clear();
    return had;
  }
}
