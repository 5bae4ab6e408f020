// tree.js: the page tree built from the API's flat listing (sorted by parent, position, id).

/** Page types, with the words the UI shows for each (dom.js draws their icons). */
export const pageTypes = Object.freeze({
  DOCUMENT: { label: "Document" },
  FOLDER: { label: "Folder" },
  CHANNEL: { label: "Channel" },
  TASK_LIST: { label: "Task list" },
});

/** typeLabel is the words for a page type. */
export function typeLabel(type) {
  return pageTypes[type] ? pageTypes[type].label : String(type);
}

function byPosition(a, b) {
  return a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * sharedWithMe reports whether a tree node is seen through a grant rather than by role, as far as
 * the listing tells: every top page of a drive one is not a member of, a page shown detached
 * from a parent one may not see, and a private page seen by a member below admin.
 */
export function sharedWithMe(node, role) {
  if (role === "OWNER" || role === "ADMIN") return false;
  return !!node.detached || (role ? !!node.isPrivate : node.parentId == null);
}

/**
 * buildTree returns the root nodes, each with a children array, sorted by position then id. A node
 * whose parent is not in the listing (detached, or its parent hidden) is a root.
 */
export function buildTree(nodes) {
  const byID = new Map();
  for (const n of nodes) byID.set(n.id, { ...n, children: [] });
  const roots = [];
  for (const n of byID.values()) {
    const parent = n.parentId != null ? byID.get(n.parentId) : undefined;
    (parent ? parent.children : roots).push(n);
  }
  const sort = (list) => {
    list.sort(byPosition);
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** flatten walks the tree depth first, giving each node its depth (0 for roots). */
export function flatten(roots, depth = 0, out = []) {
  for (const n of roots) {
    out.push({ node: n, depth });
    flatten(n.children, depth + 1, out);
  }
  return out;
}

/** ancestors returns the ids of the page's ancestors in the listing, nearest first. */
export function ancestors(nodes, id) {
  const byID = new Map(nodes.map((n) => [n.id, n]));
  const out = [];
  let n = byID.get(id);
  while (n?.parentId != null && byID.has(n.parentId) && !out.includes(n.parentId)) {
    out.push(n.parentId);
    n = byID.get(n.parentId);
  }
  return out;
}

/**
 * applyPageEvent returns the tree listing after a page event (page_created, page_updated,
 * page_moved: the event's page replaces or joins the listing; page_deleted: pageIds leave it), or
 * null when the listing cannot follow by itself and must be refetched (page_restored brings back
 * pages the event does not carry). The listing is not changed in place.
 */
export function applyPageEvent(nodes, type, payload) {
  switch (type) {
    case "page_created":
    case "page_updated":
    case "page_moved": {
      const p = payload.page;
      if (!p || !p.id) return nodes;
      const node = { id: p.id, parentId: p.parentId ?? null, title: p.title, type: p.type, position: p.position, isPrivate: !!p.isPrivate };
      if (p.detached) node.detached = true;
      const i = nodes.findIndex((n) => n.id === p.id);
      if (i < 0) return [...nodes, node];
      const merged = { ...nodes[i], ...node };
      if (!p.detached) delete merged.detached;
      if (Object.keys(merged).every((k) => merged[k] === nodes[i][k])) return nodes; // nothing new
      const out = nodes.slice();
      out[i] = merged;
      return out;
    }
    case "page_deleted":
      return removePages(nodes, payload.pageIds || [payload.pageId]);
    default:
      return null;
  }
}

/** removePages returns the listing without ids and every page under them. */
export function removePages(nodes, ids) {
  const gone = new Set(ids);
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of nodes) {
      if (!gone.has(n.id) && n.parentId != null && gone.has(n.parentId)) {
        gone.add(n.id);
        grew = true;
      }
    }
  }
  return nodes.filter((n) => !gone.has(n.id));
}

// Moving pages (drag and drop, Alt+arrows in the sidebar). The server orders siblings by position
// then id; a move sends the position between the new neighbours' (docs/api.md, Move).

function siblingsOf(nodes, parentId) {
  return nodes.filter((n) => (n.parentId ?? null) === parentId).sort(byPosition);
}

/** positionBetween is a position after before and ahead of after (either may be null: an end). */
export function positionBetween(before, after) {
  if (before == null && after == null) return 1;
  if (before == null) return after - 1;
  if (after == null) return Math.floor(before) + 1;
  return (before + after) / 2;
}

/** isInside reports whether id is target or one of its ancestors (a move there is a cycle). */
export function isInside(nodes, target, id) {
  return target === id || ancestors(nodes, target).includes(id);
}

/**
 * dropPlan returns where page id goes when dropped on target: "before" or "after" it (among its
 * siblings) or "inside" it (its last child). The answer is {parentId, position}, or null when
 * the drop goes nowhere (onto itself or under itself, or where it already is).
 */
export function dropPlan(nodes, id, target, where) {
  const page = nodes.find((n) => n.id === id);
  const t = nodes.find((n) => n.id === target);
  if (!page || !t || isInside(nodes, target, id)) return null;
  if (where === "inside") {
    const kids = siblingsOf(nodes, t.id).filter((n) => n.id !== id);
    if (page.parentId === t.id && (!kids.length || byPosition(page, kids[kids.length - 1]) > 0)) return null; // already last there
    return { parentId: t.id, position: positionBetween(kids.length ? kids[kids.length - 1].position : null, null) };
  }
  const parentId = t.parentId ?? null;
  const sibs = siblingsOf(nodes, parentId).filter((n) => n.id !== id);
  const i = sibs.findIndex((n) => n.id === t.id);
  const at = where === "before" ? i : i + 1; // the index the page takes among the others
  const prev = sibs[at - 1] || null;
  const next = sibs[at] || null;
  // Already there: same parent, between the same neighbours.
  const now = siblingsOf(nodes, parentId);
  const j = now.findIndex((n) => n.id === id);
  if (j >= 0 && (now[j - 1] || null) === prev && (now[j + 1] || null) === next) return null;
  return { parentId, position: positionBetween(prev?.position, next?.position) };
}

/**
 * keyPlan returns where Alt+arrow moves page id: "up" or "down" past the neighbouring sibling,
 * "in" to the end of the previous sibling when it is a folder, "out" to just after its parent.
 * The answer is {parentId, position}, or null when there is nowhere to go.
 */
export function keyPlan(nodes, id, dir) {
  const page = nodes.find((n) => n.id === id);
  if (!page) return null;
  const sibs = siblingsOf(nodes, page.parentId ?? null);
  const i = sibs.findIndex((n) => n.id === id);
  switch (dir) {
    case "up":
      return i > 0 ? dropPlan(nodes, id, sibs[i - 1].id, "before") : null;
    case "down":
      return i < sibs.length - 1 ? dropPlan(nodes, id, sibs[i + 1].id, "after") : null;
    case "in":
      return i > 0 && sibs[i - 1].type === "FOLDER" ? dropPlan(nodes, id, sibs[i - 1].id, "inside") : null;
    case "out": {
      const parent = page.parentId != null && nodes.find((n) => n.id === page.parentId);
      return parent ? dropPlan(nodes, id, parent.id, "after") : null;
    }
    default:
      return null;
  }
}

/** withMove returns the listing with page id moved (shown at once, before the server answers). */
export function withMove(nodes, id, { parentId, position }) {
  return nodes.map((n) => (n.id === id ? { ...n, parentId, position } : n));
}

/** placeOf describes where page id is, for the screen reader: "2 of 3 in “Specs”". */
export function placeOf(nodes, id) {
  const page = nodes.find((n) => n.id === id);
  if (!page) return "";
  const sibs = siblingsOf(nodes, page.parentId ?? null);
  const parent = page.parentId != null ? nodes.find((n) => n.id === page.parentId) : null;
  return `${sibs.findIndex((n) => n.id === id) + 1} of ${sibs.length} ${parent ? `in “${parent.title}”` : "at the top level"}`;
}
