// task-state.js: the state of an open task list and the pure functions that apply the API's
// answers, the socket's events and the reader's own writes to it (they run in Node's tests too).
//
// A task list: {pageId, items (tasks by position, then id; null until loaded), gone (ids deleted:
// a late event never brings one back), early (events that came before the first listing)}.

/** emptyTasks is a task list with nothing loaded. */
export function emptyTasks(pageId) {
  return { pageId, items: null, gone: {}, early: [] };
}

const byPosition = (a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** withTasks stores a full listing (the server's truth) and applies what came before it. */
export function withTasks(st, items) {
  let out = { ...st, items: items.filter((t) => !st.gone[t.id]).sort(byPosition), early: [] };
  for (const [type, payload] of st.early) out = applyTaskEvent(out, type, payload);
  return out;
}

/**
 * applyTaskEvent applies task_created, task_updated, task_completed or task_deleted (or the
 * reader's own write, in the same shape). A copy older than the one held (by updatedAt) is
 * ignored, so a write answered after a later event does not undo it, and one seen twice (its
 * answer and its event) changes nothing the second time.
 */
export function applyTaskEvent(st, type, payload) {
  const t = payload?.task;
  if (!t || t.pageId !== st.pageId) return st;
  if (st.items === null) return { ...st, early: [...st.early, [type, payload]] };
  const old = st.items.find((x) => x.id === t.id);
  if (type === "task_deleted") {
    return { ...st, items: st.items.filter((x) => x.id !== t.id), gone: { ...st.gone, [t.id]: true } };
  }
  if (st.gone[t.id] || (old && (old.updatedAt > t.updatedAt || JSON.stringify(old) === JSON.stringify(t)))) return st;
  return { ...st, items: [...st.items.filter((x) => x.id !== t.id), t].sort(byPosition) };
}

/** withoutTask removes a task that never was (a new task the server refused). */
export function withoutTask(st, id) {
  return st.items ? { ...st, items: st.items.filter((x) => x.id !== id) } : st;
}

/**
 * overlaid is items as the reader sees them: each task with the changes of the reader's writes
 * still on the way (overlay: id → [changes], oldest first) laid over the server's copy, in
 * position order. The server's answers and events keep arriving underneath, so a write answered
 * while a later one waits does not make the list jump back. memo (id → {base, changes, task})
 * keeps one object per unchanged task, so views redraw only what changed.
 */
export function overlaid(items, overlay, memo) {
  if (!overlay.size) return items;
  return items.map((t) => {
    const changes = overlay.get(t.id);
    if (!changes) return t;
    const m = memo.get(t.id);
    if (m?.base === t && m.changes === changes) return m.task;
    const task = Object.assign({}, t, ...changes);
    memo.set(t.id, { base: t, changes, task });
    return task;
  }).sort(byPosition);
}

/** matches reports whether t passes the filter {status: ""|"open"|status, assignee: ""|"none"|userId}. */
export function matches(t, { status, assignee }) {
  if (status === "open" ? t.status === "done" : status && t.status !== status) return false;
  if (assignee === "none" ? t.assigneeId : assignee && t.assigneeId !== assignee) return false;
  return true;
}

/** between is a position strictly between a and b (either may be null: an end), or null if none is. */
export function between(a, b) {
  if (a === null && b === null) return 1;
  if (a === null) return Math.floor(b) - 1;
  if (b === null) return Math.floor(a) + 1;
  const m = (a + b) / 2;
  return m > a && m < b ? m : null;
}

/**
 * placeAt says where task id goes to be at index to of shown (the tasks on screen, a filtered
 * subset of items in the same order) once it is out of it: {afterId} for the server's move
 * (just after the task shown before it, or just before the one shown after it: tasks hidden by
 * a filter keep their places), and the position to show meanwhile (null if no number is left
 * between the neighbours: the server then renumbers the list).
 */
export function placeAt(items, shown, id, to) {
  const vis = shown.filter((t) => t.id !== id);
  const all = items.filter((t) => t.id !== id);
  const at = to > 0 ? all.indexOf(vis[to - 1]) + 1 : Math.max(0, all.indexOf(vis[0]));
  const pos = (t) => (t ? t.position : null);
  return { afterId: at > 0 ? all[at - 1].id : null, position: between(pos(all[at - 1]), pos(all[at])) };
}
