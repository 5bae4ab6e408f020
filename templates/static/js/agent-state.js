// agent-state.js: what agents do in a page, as its viewers see it: a streamed message assembled
// from message_delta events (docs/realtime.md, "Assembling a message"), and the agents' statuses.
// Pure functions, so they run in Node's tests as in the page.

// cps is text's code points, the unit of a delta's offset (JavaScript strings count UTF-16).
const cps = (text) => Array.from(text);

/**
 * withDelta applies a message_delta d to the copy m of its message. It returns m when d holds
 * nothing m lacks (or m has ended: its content is final), null when chunks are missing between m
 * and d (fetch the message, then apply d again), and otherwise m with d's new text appended:
 * d.offset code points of the content come before d.text, so the first (length − offset) code
 * points of d.text are ones m holds already.
 */
export function withDelta(m, d) {
  if (m.status !== "streaming" || d.seq <= m.streamSeq) return m;
  const held = cps(m.content).length - d.offset;
  if (d.fromSeq > m.streamSeq + 1 || held < 0) return null;
  return { ...m, content: m.content + cps(d.text).slice(held).join(""), streamSeq: d.seq };
}

/**
 * newer returns which copy of a message to show, the one held (a, may be undefined) or one just
 * received (b): an ended message over a streaming one (its content is final), then the copy
 * holding more chunks (a when level); of two ended copies, b (an edit, a tombstone).
 */
export function newer(a, b) {
  if (!a) return b;
  const ended = a.status !== "streaming";
  if (ended !== (b.status !== "streaming")) return ended ? a : b;
  return !ended && b.streamSeq <= a.streamSeq ? a : b;
}

/**
 * createAssembler keeps a view's streamed messages growing from their deltas. get(id) is the
 * copy on screen (undefined when it is not loaded: the listing will bring it), put(m) shows a new
 * copy, fetch(m) reads m from the server. After a gap it fetches the message and then applies the
 * delta, and those after a gap that come while it is fetched. So what it shows is always a
 * prefix of the message, never a chunk twice.
 */
export function createAssembler({ get, put, fetch }) {
  const waiting = new Map(); // message id → deltas after a gap, to apply once it is fetched

  function refetch(m, deltas = []) {
    if (waiting.has(m.id)) return waiting.get(m.id).push(...deltas);
    waiting.set(m.id, deltas);
    fetch(m).catch(() => null).then((fresh) => {
      const queued = waiting.get(m.id);
      waiting.delete(m.id);
      let cur = get(m.id);
      if (!cur) return;
      const before = cur;
      if (fresh) cur = newer(cur, fresh);
      // A gap left after the fetch (it failed): the next delta fetches again.
      for (const d of queued) cur = withDelta(cur, d) || cur;
      if (cur !== before) put(cur);
    });
  }

  /** delta applies a message_delta. */
  function delta(d) {
    const m = get(d.messageId);
    if (!m) return;
    const next = withDelta(m, d);
    if (next === null) refetch(m, [d]);
    else if (next !== m) put(next);
  }

  // refetch(m) reads m again (after a reconnect: deltas are not replayed).
  return { delta, refetch };
}

/**
 * withStatus returns the statuses of a page's agents (all: {agentId: status}) with s in place of
 * its agent's earlier one, or without that agent's (cleared).
 */
export function withStatus(all, s, cleared = false) {
  const out = { ...all };
  if (cleared) delete out[s.agentId];
  else out[s.agentId] = s;
  return out;
}

const doing = { thinking: "is thinking…", running_tool: "is running", error: "ran into an error" };

/** statusText is a status in words: "Helper is thinking…", "Helper is running web_search" ("" for idle). */
export function statusText(s) {
  const what = doing[s.state];
  return what ? `${s.name} ${what}${s.tool ? ` ${s.tool}` : ""}` : "";
}

const ends = { error: "Failed", stopped: "Stopped", interrupted: "Interrupted" };

/**
 * endText says how a streamed message ended other than by completing ("" otherwise): "Stopped by
 * Alice" (its reason says who), "Failed: the model timed out", "Interrupted: silent for 60 s".
 */
export function endText(m) {
  const word = ends[m.status];
  const why = m.statusReason;
  if (!word || !why) return word || "";
  return why.startsWith(word.toLowerCase()) ? word + why.slice(word.length) : `${word}: ${why}`;
}
