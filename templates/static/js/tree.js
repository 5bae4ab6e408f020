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
  while (n && n.parentId != null && byID.has(n.parentId) && !out.includes(n.parentId)) {
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
