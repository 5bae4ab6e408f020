// doc-client.js: the browser side of live co-editing for one document (issue 13, item 7).
//
// A DocClient keeps the local text of one DOCUMENT page in step with the server through the
// doc_open / doc_op / doc_ops / doc_selection events of docs/realtime.md. It is in one of three
// states, as in ot.js's client and ShareDB:
//   synchronised  nothing of ours is unconfirmed;
//   awaiting      one op is in flight (sent, not yet acknowledged);
//   buffering     one op in flight and local edits composed into a buffer, sent after the ack.
// Remote ops are transformed past the in-flight op and the buffer with transform(pending, remote),
// the argument order the server uses (transform(clientOp, applied)), so tied inserts are ordered
// alike everywhere and the local text is always the server's text plus our pending edits.
//
// The transport is any object with emitWithAck(event, payload) -> Promise<ack> and
// on(event, handler) (off optional), such as a socket.io-client Socket: its "connect" and
// "disconnect" events drive reconnection. An ack that never comes (the socket dropped) is
// harmless: acks from before a disconnect are ignored, and after a reconnect the client catches
// up with doc_ops and resubmits its in-flight op with the same {clientId, seq}, which the server
// acknowledges again without applying it twice.
//
// Timers (the selection throttle, retries) come from options so that tests drive them.

import * as ot from "./ot.js";
import { UndoHistory } from "./doc-undo.js";
import { RemoteSelections } from "./doc-selections.js";

/** States of a DocClient (DocClient.state). */
export const State = Object.freeze({
  SYNCHRONISED: "synchronised",
  AWAITING: "awaiting",
  BUFFERING: "buffering",
});

/** Statuses of the connection as the document sees it (DocClient.status). */
export const Status = Object.freeze({
  CONNECTING: "connecting", // opening the document for the first time
  SYNCING: "syncing", // reconnected, catching up before sending
  ONLINE: "online",
  OFFLINE: "offline", // edits are kept and will be sent
  CLOSED: "closed",
});

function randomID() {
  const bytes = new Uint8Array(12);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * DocClient is the co-editing state machine of one document.
 *
 * Options: transport, pageId (required); clientId (default random); undoGroupMs (edits closer
 * than this form one undo step, default 1000); selectionIntervalMs (default 50, i.e. 20 updates
 * a second); retryMs (wait before resending a rate-limited op, default 1000); historyLimit
 * (server ops kept to place remote selections sent against older versions, default 200);
 * now, setTimer, clearTimer (clock and timers, default Date.now, setTimeout, clearTimeout);
 * onChange, onStatus, onSelections, onError, onRemoteOp (shortcuts for on(...)).
 *
 * Events (on(name, fn) returns a function that unsubscribes):
 *   change     {op, origin, text, userId?}: the local text changed; op is in code points on the
 *              previous text; origin is "local", "undo", "redo", "remote", "reject" (a refused
 *              op rolled back) or "reload" (re-opened after the history was gone);
 *   remoteOp   {op, version, userId, clientId, seq}: a remote op applied (op as applied locally);
 *   status     {status, state}: connection status or client state changed;
 *   selections [{userId, name, ranges:[{anchor, head}]}]: other users' selections, in code
 *              points on the local text, after every change;
 *   error      {code, message}: an op refused by the server, or a failure to open.
 */
export class DocClient {
  #inflight; #loaded; #undoGroupMs; #selectionIntervalMs; #retryMs; #historyLimit;
  #emittedState; #epoch; #handlers; #history; #incoming; #joined; #listeners; #localRanges; #needRebase; #remote; #retryFn; #retryTimer; #selectionNeedsResend; #selectionSentAt; #selectionTimer; #syncAgain; #syncRun; #syncing; #undo; #wanted;

  constructor(options) {
    const o = options || {};
    if (!o.transport || !o.pageId) throw new TypeError("DocClient: transport and pageId are required");
    this.transport = o.transport;
    this.pageId = o.pageId;
    this.clientId = o.clientId || randomID();
    this.#undoGroupMs = o.undoGroupMs ?? 1000;
    this.#selectionIntervalMs = o.selectionIntervalMs ?? 50;
    this.#retryMs = o.retryMs ?? 1000;
    this.#historyLimit = o.historyLimit ?? 200;
    this.now = o.now || (() => Date.now());
    this.setTimer = o.setTimer || ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = o.clearTimer || ((t) => clearTimeout(t));

    this.text = ""; // what the user sees
    this.version = 0; // the last server version applied
    this.confirmed = ""; // the server's text at version
    this.#loaded = false;
    this.#inflight = null; // {op, seq}: sent, based on version
    this.buffer = null; // op based on confirmed + inflight
    this.seq = 0;
    this.status = Status.CONNECTING;

    this.#listeners = new Map();
    this.#incoming = new Map(); // version -> {op, userId, clientId, seq} or {ack: seq}
    this.#history = []; // [{version, op}] server ops, oldest first
    this.#epoch = 0; // bumped on disconnect: acks of an older epoch are ignored
    this.#joined = false;
    this.#syncing = false;
    this.#syncAgain = false;
    this.#wanted = false; // open() called and not closed
    this.#undo = new UndoHistory(this.#undoGroupMs);
    this.#remote = new RemoteSelections();
    this.#localRanges = null;
    this.#selectionTimer = null;
    this.#selectionSentAt = -Infinity;
    this.#selectionNeedsResend = false;
    this.#retryTimer = null;
    this.#retryFn = null;
    this.#needRebase = false;

    for (const [name, key] of [["change", "onChange"], ["status", "onStatus"],
      ["selections", "onSelections"], ["error", "onError"], ["remoteOp", "onRemoteOp"]]) {
      if (o[key]) this.on(name, o[key]);
    }

    this.#handlers = {
      doc_op: (m) => m?.pageId === this.pageId && this.#onRemote(m),
      doc_selection: (m) => m?.pageId === this.pageId && this.#onSelection(m),
      connect: () => this.#onConnect(),
      disconnect: () => this.#onDisconnect(),
    };
    for (const [ev, fn] of Object.entries(this.#handlers)) this.transport.on(ev, fn);
  }

  /** on subscribes fn to an event and returns the function that unsubscribes it. */
  on(name, fn) {
    if (!this.#listeners.has(name)) this.#listeners.set(name, new Set());
    this.#listeners.get(name).add(fn);
    return () => this.#listeners.get(name).delete(fn);
  }

  #emit(name, value) {
    const set = this.#listeners.get(name);
    if (set) for (const fn of [...set]) fn(value);
  }

  /**
   * state is synchronised, awaiting or buffering. Offline edits with nothing in flight count as
   * buffering: they wait to be sent.
   */
  get state() {
    if (this.buffer) return State.BUFFERING;
    return this.#inflight ? State.AWAITING : State.SYNCHRONISED;
  }

  /** pending is the op from the server's text (confirmed) to the local text, or null. */
  get pending() {
    if (this.#inflight && this.buffer) return ot.compose(this.#inflight.op, this.buffer);
    return this.#inflight ? this.#inflight.op : this.buffer;
  }

  /**
   * open loads the document (doc_open) and resolves with its text. When the transport is not
   * connected, it loads on the next "connect". It rejects with an Error whose code is the
   * server's (e.g. "forbidden", "not_found") when the server refuses, or "closed".
   */
  open() {
    this.#wanted = true;
    if (this.#loaded) return Promise.resolve(this.text);
    return new Promise((resolve, reject) => {
      const offs = [];
      const done = (fn, value) => {
        for (const off of offs) off();
        fn(value);
      };
      offs.push(this.on("change", () => this.#loaded && done(resolve, this.text)));
      offs.push(this.on("error", (e) => {
        if (this.#loaded) return;
        this.#wanted = false;
        done(reject, Object.assign(new Error(e.message || e.code), { code: e.code }));
      }));
      offs.push(this.on("status", (s) => {
        if (s.status === Status.CLOSED) done(reject, Object.assign(new Error("closed"), { code: "closed" }));
      }));
      if (this.transport.connected === false) this.#setStatus(Status.OFFLINE);
      else this.#sync();
    });
  }

  /** close stops listening to the transport and tells the others our selection is gone. */
  close() {
    if (this.status === Status.CLOSED) return;
    if (this.#joined) this.#send("doc_selection", { pageId: this.pageId, version: this.version, ranges: [] });
    this.#wanted = false;
    this.#epoch++;
    if (typeof this.transport.off === "function") {
      for (const [ev, fn] of Object.entries(this.#handlers)) this.transport.off(ev, fn);
    }
    if (this.#selectionTimer !== null) this.clearTimer(this.#selectionTimer);
    if (this.#retryTimer !== null) this.clearTimer(this.#retryTimer);
    this.#selectionTimer = this.#retryTimer = null;
    this.#setStatus(Status.CLOSED);
  }

  #setStatus(status) {
    const state = this.state;
    if (status === this.status && state === this.#emittedState) return;
    this.status = status;
    this.#emittedState = state;
    this.#emit("status", { status, state });
  }

  #stateChanged() {
    this.#setStatus(this.status);
  }

  // ---- local edits -------------------------------------------------------------------------

  /**
   * applyLocal applies an op the user made on the local text (code points) and sends it.
   * Throws RangeError when op does not fit the text.
   */
  applyLocal(op) {
    this.#local(ot.normalize(op), "local");
  }

  /**
   * edit replaces the local text with newText as one local edit: the op is the diff, cursor (a
   * code point offset in newText where the edit ends, e.g. the caret) choosing among equal diffs.
   * Returns the op, or null when nothing changed.
   */
  edit(newText, cursor) {
    if (newText === this.text) return null;
    const op = ot.diff(this.text, newText, cursor);
    this.#local(op, "local");
    return op;
  }

  #local(op, origin) {
    if (ot.isNoop(op)) return;
    if (!this.#loaded) throw new Error("DocClient: edit before the document is open");
    const before = this.text;
    const after = ot.apply(before, op);
    this.#undo.record(ot.invert(op, before), origin, this.now());
    this.text = after;
    this.buffer = this.buffer ? ot.compose(this.buffer, op) : op;
    this.#mapSelections(op);
    this.#emit("change", { op, origin, text: after });
    this.#flush();
    this.#stateChanged();
    this.#scheduleSelection();
  }

  /** breakUndoGroup makes the next local edit start a new undo step (e.g. on a caret move). */
  breakUndoGroup() {
    this.#undo.breakGroup();
  }

  /** canUndo and canRedo report whether undo() or redo() would change something. */
  get canUndo() {
    return this.#undo.can("undo");
  }
  get canRedo() {
    return this.#undo.can("redo");
  }

  /** undo reverts the latest undo step of one's own edits and returns its op, or null. */
  undo() {
    return this.#step("undo");
  }

  /** redo reapplies the latest undone step and returns its op, or null. */
  redo() {
    return this.#step("redo");
  }

  #step(kind) {
    const op = this.#undo.pop(kind);
    if (op) this.#local(op, kind);
    this.#undo.breakGroup();
    return op;
  }

  // ---- sending -----------------------------------------------------------------------------

  // #ack asks the server about this document: event with its pageId and payload.
  #ack(event, payload) {
    return this.transport.emitWithAck(event, { pageId: this.pageId, ...payload });
  }

  #send(event, payload) {
    if (typeof this.transport.emit === "function") {
      this.transport.emit(event, payload);
      return;
    }
    Promise.resolve()
      .then(() => this.transport.emitWithAck(event, payload))
      .catch(() => {});
  }

  // #flush sends the buffer when nothing is in flight and the connection is usable.
  #flush() {
    if (this.#inflight || !this.buffer || this.status !== Status.ONLINE || this.#syncing) return;
    this.#inflight = { op: this.buffer, seq: ++this.seq };
    this.buffer = null;
    this.#submit();
  }

  // #submit sends (or resends) the in-flight op, based on the current version.
  #submit() {
    const inflight = this.#inflight;
    const epoch = this.#epoch;
    const payload = {
      pageId: this.pageId,
      version: this.version,
      op: inflight.op,
      clientId: this.clientId,
      seq: inflight.seq,
    };
    let sent;
    try {
      sent = Promise.resolve(this.transport.emitWithAck("doc_op", payload));
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
        (ack) => {
          if (epoch !== this.#epoch || this.#inflight !== inflight) return;
          this.#onOpAck(ack, inflight);
        },
        () => {
          // No ack (a timeout): whether it was applied is unknown. Catch up, then resubmit.
          if (epoch !== this.#epoch || this.#inflight !== inflight) return;
          this.#retryLater(() => this.#sync());
        },
      );
  }

  #onOpAck(ack, inflight) {
    if (ack?.ok) {
      if (Number.isInteger(ack.version) && ack.version > this.version) {
        if (!this.#incoming.has(ack.version)) this.#incoming.set(ack.version, { ack: inflight.seq });
      }
      this.#drain();
      return;
    }
    const err = ack?.error || { code: "internal", message: "bad ack" };
    if (err.code === "too_old") {
      this.#sync();
    } else if (err.code === "rate_limited") {
      this.#retryLater(() => {
        if (this.#inflight === inflight && this.status === Status.ONLINE && !this.#syncing) this.#submit();
      });
    } else {
      this.#emit("error", { code: err.code, message: err.message });
      this.#reject();
    }
  }

  // #retryLater runs fn after retryMs; a later call replaces an earlier fn (a catch-up also
  // resubmits, so it covers a pending resend).
  #retryLater(fn) {
    this.#retryFn = fn;
    if (this.#retryTimer !== null) return;
    this.#retryTimer = this.setTimer(() => {
      this.#retryTimer = null;
      const f = this.#retryFn;
      this.#retryFn = null;
      if (f && this.#wanted) f();
    }, this.#retryMs);
  }

  // #reject rolls back the refused in-flight op locally and keeps the buffer. Then it re-reads
  // the server's text (the refusal may mean that ours is wrong) and sends the buffer rebased on it.
  #reject() {
    const { op } = this.#inflight;
    this.#inflight = null;
    let undo = ot.invert(op, this.confirmed); // on confirmed + op
    if (this.buffer) [this.buffer, undo] = ot.transform(this.buffer, undo);
    if (this.buffer && ot.isNoop(this.buffer)) this.buffer = null;
    this.#applyToText(undo, "reject", {});
    this.#stateChanged();
    this.#reload();
  }

  // ---- receiving ---------------------------------------------------------------------------

  #onRemote(m) {
    if (!Number.isInteger(m.version) || m.version <= this.version || !this.#loaded) {
      if (!this.#loaded && Number.isInteger(m.version)) this.#incoming.set(m.version, m);
      return;
    }
    if (!this.#incoming.has(m.version)) this.#incoming.set(m.version, m);
    this.#drain();
  }

  // #drain applies what arrived in version order and notices gaps.
  #drain() {
    if (!this.#loaded) return;
    for (;;) {
      const e = this.#incoming.get(this.version + 1);
      if (!e) break;
      this.#incoming.delete(this.version + 1);
      const own = this.#inflight && (e.ack === this.#inflight.seq ||
        (e.clientId === this.clientId && e.seq === this.#inflight.seq));
      if (own) this.#confirm();
      else if (e.ack !== undefined) this.#reload(); // an ack we cannot place: start again
      else this.#applyRemote(e);
    }
    for (const v of this.#incoming.keys()) if (v <= this.version) this.#incoming.delete(v);
    this.#placeEarlySelections();
    if (this.#incoming.size && !this.#syncing && this.status === Status.ONLINE) this.#sync();
  }

  #confirm() {
    const { op } = this.#inflight;
    this.confirmed = ot.apply(this.confirmed, op);
    this.version++;
    this.#remember(op);
    this.#inflight = null;
    this.#flush();
    this.#stateChanged();
    if (!this.#inflight && this.#selectionNeedsResend) this.#scheduleSelection();
  }

  #applyRemote(m) {
    let op = m.op;
    this.confirmed = ot.apply(this.confirmed, op); // throws on a server op that does not fit
    this.version++;
    this.#remember(op);
    if (this.#inflight) [this.#inflight.op, op] = ot.transform(this.#inflight.op, op);
    if (this.buffer) [this.buffer, op] = ot.transform(this.buffer, op);
    this.#applyToText(op, "remote", { userId: m.userId });
    this.#emit("remoteOp", { op, version: this.version, userId: m.userId, clientId: m.clientId, seq: m.seq });
  }

  #remember(op) {
    this.#history.push({ version: this.version, op });
    if (this.#history.length > this.#historyLimit) this.#history.shift();
  }

  // #applyToText applies an op that is not ours to the local text: undo steps and selections
  // move past it.
  #applyToText(op, origin, extra) {
    if (ot.isNoop(op)) return;
    this.text = ot.apply(this.text, op);
    this.#undo.transform(op);
    this.#mapSelections(op);
    this.#emit("change", { op, origin, text: this.text, ...extra });
  }

  // ---- connection --------------------------------------------------------------------------

  #onConnect() {
    if (!this.#wanted) return;
    this.#sync();
  }

  #onDisconnect() {
    // Others' selections go: who left meanwhile would otherwise stay; the rest reappear as they move.
    if (this.#remote.clear()) this.#emit("selections", []);
    this.#epoch++;
    this.#joined = false;
    this.#syncing = false;
    this.#syncRun = null;
    this.#syncAgain = false;
    if (this.status !== Status.CLOSED) this.#setStatus(Status.OFFLINE);
  }

  // #sync opens the document or catches up after a reconnect or a gap, then sends what waits.
  async #sync() {
    if (this.#syncing) {
      this.#syncAgain = true;
      return;
    }
    if (!this.#wanted) return;
    this.#syncing = true;
    const run = {};
    this.#syncRun = run; // a sync cut off by a disconnect never finishes: the next one takes over
    const epoch = this.#epoch;
    try {
      if (!this.#loaded) {
        this.#setStatus(Status.CONNECTING);
        const ack = await this.#ack("doc_open");
        if (epoch !== this.#epoch) return;
        if (!ack || !ack.ok) {
          this.#emit("error", ack?.error || { code: "internal", message: "doc_open failed" });
          return;
        }
        this.#joined = true;
        this.#load(ack);
      } else {
        this.#setStatus(Status.SYNCING);
        if (!this.#joined) {
          const open = await this.#ack("doc_open");
          if (epoch !== this.#epoch) return;
          if (!open || !open.ok) {
            this.#emit("error", open?.error || { code: "internal", message: "doc_open failed" });
            return;
          }
          this.#joined = true;
        }
        const ack = this.#needRebase ? { ok: false, error: { code: "too_old" } }
          : await this.#ack("doc_ops", { since: this.version });
        if (epoch !== this.#epoch) return;
        if (ack?.ok) {
          for (const e of ack.ops || []) {
            if (e.version > this.version && !this.#incoming.has(e.version)) this.#incoming.set(e.version, e);
          }
          this.#drain(); // while #syncing: neither sends nor starts another catch-up
        } else if (ack?.error?.code === "too_old") {
          await this.#rebase(epoch);
          if (epoch !== this.#epoch) return;
          this.#needRebase = false;
        } else {
          this.#emit("error", ack?.error || { code: "internal", message: "doc_ops failed" });
          return;
        }
      }
      this.#syncing = false;
      this.#setStatus(Status.ONLINE);
      if (this.#inflight) this.#submit();
      else this.#flush();
      this.#selectionNeedsResend = true;
      this.#scheduleSelection();
      this.#drain();
    } catch (err) {
      if (epoch === this.#epoch) this.#retryLater(() => this.#sync());
    } finally {
      if (this.#syncRun === run) {
        this.#syncRun = null;
        this.#syncing = false;
        if (this.#syncAgain && this.#wanted) {
          this.#syncAgain = false;
          if (this.status === Status.ONLINE) this.#sync();
        }
      }
    }
  }

  #load(ack) {
    this.#loaded = true;
    this.version = ack.version;
    this.confirmed = ack.content;
    const before = this.text;
    this.text = ack.content;
    this.#emit("change", { op: ot.diff(before, this.text), origin: "reload", text: this.text });
    this.#stateChanged();
  }

  // #rebase re-opens a document whose ops since our version are gone, keeping our unsent edits:
  // the in-flight op is resubmitted first (the server acknowledges it if it was applied), then
  // the pending edits are transformed past a diff from our old server text to the new one.
  async #rebase(epoch) {
    let applied = false;
    if (this.#inflight) {
      const ack = await this.#ack("doc_op", {
        version: this.version, op: this.#inflight.op,
        clientId: this.clientId, seq: this.#inflight.seq,
      });
      if (epoch !== this.#epoch) return;
      applied = Boolean(ack?.ok);
    }
    const open = await this.#ack("doc_open");
    if (epoch !== this.#epoch) return;
    if (!open || !open.ok) throw new Error("doc_open failed");
    // Read the pending edits only now: the user may have typed while we waited.
    let base = this.confirmed;
    let pending = this.pending;
    if (applied) {
      base = ot.apply(this.confirmed, this.#inflight.op);
      pending = this.buffer;
    }
    const toNew = ot.diff(base, open.content);
    let change = toNew; // without pending edits, the local text is base
    this.buffer = null;
    if (pending) {
      const [p2, d2] = ot.transform(pending, toNew);
      if (!ot.isNoop(p2)) this.buffer = p2;
      change = d2;
    }
    this.#inflight = null;
    this.version = open.version;
    this.confirmed = open.content;
    this.#history.length = 0;
    for (const v of this.#incoming.keys()) if (v <= this.version) this.#incoming.delete(v);
    this.#applyToText(change, "reload", {});
  }

  // #reload starts again from the server's text, keeping unsent edits as a diff.
  #reload() {
    this.#needRebase = true;
    this.#sync();
  }

  // ---- selections --------------------------------------------------------------------------

  /**
   * setSelection sets the local selection (ranges of {anchor, head} in code points on the local
   * text) and sends it to the others, at most once per selectionIntervalMs.
   */
  setSelection(ranges) {
    this.#localRanges = ranges.map((r) => ({ anchor: r.anchor, head: r.head }));
    this.#scheduleSelection();
  }

  /** selections returns the other users' selections, in code points on the local text. */
  selections() {
    return this.#remote.list();
  }

  #scheduleSelection() {
    if (!this.#localRanges || this.#selectionTimer !== null) return;
    const wait = this.#selectionSentAt + this.#selectionIntervalMs - this.now();
    this.#selectionTimer = this.setTimer(() => {
      this.#selectionTimer = null;
      this.#sendSelection();
    }, Math.max(0, wait));
  }

  #sendSelection() {
    if (!this.#localRanges || this.status !== Status.ONLINE || this.#syncing) return;
    // The others place our ranges on the server's text at our version: map them back through
    // our pending edits (a position inside text not yet sent lands where that text starts).
    const pending = this.pending;
    const back = pending ? ot.invert(pending, this.confirmed) : null;
    const ranges = this.#localRanges.map((r) => ({
      anchor: back ? ot.transformPosition(r.anchor, back) : r.anchor,
      head: back ? ot.transformPosition(r.head, back) : r.head,
    }));
    this.#selectionSentAt = this.now();
    this.#selectionNeedsResend = pending !== null;
    this.#send("doc_selection", { pageId: this.pageId, version: this.version, ranges });
  }

  #onSelection(m) {
    const place = (ranges, version) => this.#placeRanges(ranges, version);
    if (this.#remote.receive(m, this.#loaded ? this.version : null, place)) {
      this.#emit("selections", this.selections());
    }
  }

  #placeEarlySelections() {
    if (this.#remote.reached(this.version, (ranges, version) => this.#placeRanges(ranges, version))) {
      this.#emit("selections", this.selections());
    }
  }

  // #placeRanges maps ranges sent against server version `version` onto the local text: through
  // the server ops since (as far as the history reaches) and our pending edits.
  #placeRanges(ranges, version) {
    const ops = this.#history.filter((h) => h.version > version).map((h) => h.op);
    const pending = this.pending;
    if (pending) ops.push(pending);
    const len = ot.cpLength(this.text);
    const map = (p) => {
      let q = Number.isInteger(p) && p > 0 ? p : 0;
      for (const op of ops) q = ot.transformPosition(Math.min(q, ot.baseLength(op)), op);
      return Math.min(q, len);
    };
    return ranges.map((r) => ({ anchor: map(r.anchor), head: map(r.head) }));
  }

  #mapSelections(op) {
    if (this.#remote.map(op)) this.#emit("selections", this.selections());
  }
}
