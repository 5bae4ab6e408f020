// channel-state.js: the state of an open channel and the pure functions that apply the API's
// answers and the socket's events to it (so they run in Node's tests as in the page).
//
// A channel: {pageId, items (top-level messages, oldest first), nextCursor (older ones to load,
// or null), threads ({parentId: replies oldest first}), typing ({userId: name}), agents (the
// statuses of agents at work in the page: {agentId: status}, agent-state.js)}.

import { newer } from "./agent-state.js";

/** emptyChannel is a channel with nothing loaded. */
export function emptyChannel(pageId) {
  return { pageId, items: null, nextCursor: null, threads: {}, typing: {}, agents: {} };
}

const byTime = (a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// merge puts msgs in list, each in place of its earlier copy unless that one is newer (a streamed
// message that grew, or ended, since the server answered).
function merge(list, msgs) {
  const byID = new Map((list || []).map((m) => [m.id, m]));
  for (const m of msgs) byID.set(m.id, newer(byID.get(m.id), m));
  return [...byID.values()].sort(byTime);
}

/**
 * withPage merges a page of the API's listing (newest first). older: the page continues the
 * listing upwards, so its nextCursor becomes the channel's; otherwise (the newest page, e.g. a
 * refetch after a reconnect) the older cursor is kept unless nothing was loaded yet.
 */
export function withPage(ch, page, { older = false, fresh = false } = {}) {
  const first = ch.items === null;
  let items = ch.items;
  // fresh: the page is the server's truth from its oldest message on, so what we hold in that
  // span and it lacks was deleted meanwhile (a refetch after a reconnect that did not recover).
  if (fresh && items && page.items.length) {
    const from = page.items.reduce((min, m) => (m.createdAt < min ? m.createdAt : min), page.items[0].createdAt);
    const ids = new Set(page.items.map((m) => m.id));
    items = items.filter((m) => m.createdAt < from || ids.has(m.id));
  } else if (fresh && items && !page.items.length) {
    items = [];
  }
  return {
    ...ch,
    items: merge(items, page.items),
    nextCursor: older || first ? page.nextCursor : ch.nextCursor,
  };
}

/** withThread stores the replies of parentId (oldest first). */
export function withThread(ch, parentId, replies) {
  return { ...ch, threads: { ...ch.threads, [parentId]: merge(ch.threads[parentId], replies) } };
}

/** applyMessageEvent applies new_message, message_updated or message_deleted. */
export function applyMessageEvent(ch, type, payload) {
  const m = payload.message;
  if (!m || m.pageId !== ch.pageId || ch.items === null) return ch;
  const out = { ...ch };
  if (m.parentId) {
    const parent = (ch.items || []).find((x) => x.id === m.parentId);
    const thread = ch.threads[m.parentId];
    if (type === "message_deleted" && payload.removed !== false) {
      if (thread) out.threads = { ...ch.threads, [m.parentId]: thread.filter((x) => x.id !== m.id) };
      if (parent) out.items = replaceMsg(ch.items, { ...parent, repliesCount: Math.max(0, parent.repliesCount - 1) });
      return out;
    }
    if (thread) out.threads = { ...ch.threads, [m.parentId]: merge(thread, [m]) };
    if (type === "new_message" && parent && !(thread || []).some((x) => x.id === m.id)) {
      out.items = replaceMsg(ch.items, { ...parent, repliesCount: parent.repliesCount + 1 });
    }
    return out;
  }
  if (type === "message_deleted" && payload.removed !== false) {
    out.items = ch.items.filter((x) => x.id !== m.id);
    return out;
  }
  const old = ch.items.find((x) => x.id === m.id);
  if (type !== "new_message" && !old) return ch; // older than what is loaded
  // An update keeps the replies count we know (the event's copy may predate later replies).
  out.items = merge(ch.items, [old ? { ...m, repliesCount: Math.max(m.repliesCount || 0, old.repliesCount || 0) } : m]);
  return out;
}

/** messagesOf lists the loaded messages of ch: top-level ones, then the replies loaded. */
export function messagesOf(ch) {
  return ch?.items ? [ch.items, ...Object.values(ch.threads)].flat() : [];
}

function replaceMsg(list, m) {
  return list.map((x) => (x.id === m.id ? m : x));
}

/** withTyping marks userId typing (name) or, with name null, not typing. */
export function withTyping(ch, userId, name) {
  const typing = { ...ch.typing };
  if (name) typing[userId] = name;
  else delete typing[userId];
  return { ...ch, typing };
}

/** typingText is "Alice is typing…", "Alice and Bob are typing…", "Alice and 3 others are typing…". */
export function typingText(names) {
  const n = names.length;
  if (n === 0) return "";
  if (n === 1) return `${names[0]} is typing…`;
  if (n === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names[0]} and ${n - 1} others are typing…`;
}
