// views/channel.js: a CHANNEL page: messages newest at the bottom, older ones loaded on scroll up,
// the composer (Enter sends, Shift+Enter new line, ↑ edits your last message, Esc cancels),
// replies in threads, edit and delete of one's own, "Alice is typing…", an unread marker, and an
// outbox: a message written while the connection is down waits, shown, and is sent when it is
// back. An agent's streamed answer grows in place, with Stop for those who may post, and what
// the agents are doing shows above the composer. The channel's state lives in the store (live.js
// applies the socket's events to it).

import { div, span, para, on, h, replace, errorBox, ago, confirmInline, busy, button, submitButton, onSubmit, skeleton, avatar } from "../dom.js";
import { describe, ApiError } from "../errors.js";
import { uri } from "../router.js";
import { emptyChannel, withPage, withThread, applyMessageEvent, typingText } from "../channel-state.js";
import { statusText, endText } from "../agent-state.js";

const PAGE = 50;

// drafts: the composer's text not sent yet, per user and page, kept across views and reloads of
// the tab (sessionStorage; in memory only where storage is refused).
const drafts = {
  mem: new Map(),
  key: (userId, pageId) => `pagespace.draft.${userId}.${pageId}`,
  get(userId, pageId) {
    const k = this.key(userId, pageId);
    if (this.mem.has(k)) return this.mem.get(k);
    try {
      return globalThis.sessionStorage.getItem(k) || "";
    } catch {
      return "";
    }
  },
  set(userId, pageId, text) {
    const k = this.key(userId, pageId);
    if (text) this.mem.set(k, text);
    else this.mem.delete(k);
    try {
      if (text) globalThis.sessionStorage.setItem(k, text);
      else globalThis.sessionStorage.removeItem(k);
    } catch {
      /* storage refused or full: the draft lives as long as the page */
    }
  },
};
const outboxes = new Map(); // pageId → [{key, content, parentId, state, error}], in order
const flushing = new Set(); // pageIds being sent
const outboxViews = new Map(); // pageId → {render(), sent(message)} of the view showing it
let outboxSeq = 0;

/**
 * flushOutbox posts the page's waiting messages in order, whichever view is on screen; a network
 * failure leaves them waiting for the next try, a refusal marks the message failed (shown with
 * Try again / Edit in its channel).
 */
export async function flushOutbox(pageId, { api, store }) {
  const outbox = outboxes.get(pageId);
  if (!outbox || flushing.has(pageId)) return;
  flushing.add(pageId);
  const view = () => outboxViews.get(pageId);
  try {
    while (outbox.length) {
      const item = outbox[0];
      if (item.state === "failed") break;
      item.state = "sending";
      if (view()) view().render();
      try {
        const body = { content: item.content };
        if (item.parentId) body.parentId = item.parentId;
        const m = await api.call("POST", msgPath(pageId), body);
        outbox.shift();
        const ch = store.state.channel;
        if (ch?.pageId === pageId) store.set({ channel: applyMessageEvent(ch, "new_message", { message: m }) });
        if (view()) view().sent(m);
      } catch (e) {
        if (e instanceof ApiError) {
          item.state = "failed";
          item.error = `Not sent: ${describe(e)}`;
        } else {
          item.state = "waiting"; // the network: try again when the connection is back
        }
        break;
      }
    }
  } finally {
    flushing.delete(pageId);
    if (outbox.length === 0) outboxes.delete(pageId);
    if (view()) view().render();
  }
}

/** flushOutboxes tries every channel's waiting messages (on connect, on "online"). */
export function flushOutboxes(deps) {
  for (const pageId of [...outboxes.keys()]) flushOutbox(pageId, deps);
}

const msgPath = (pageId, id) => uri`/api/pages/${pageId}/messages` + (id ? uri`/${id}` : "");

/** channelView returns the element of the channel page and keeps it live while the view is. */
export function channelView(ctx, page) {
  const { api, store, alive, live } = ctx;
  const pageId = page.id;
  const me = api.user();
  const byMe = (m) => !!me && m.author?.id === me.id;
  const canPost = !!page.access.canEdit;

  if (!store.state.channel || store.state.channel.pageId !== pageId) store.set({ channel: emptyChannel(pageId) });

  // The list.
  const older = button("btn load-older", "Load older messages", { hidden: true });
  const list = h("ol", { class: "msgs", "aria-label": "Messages" });
  const scroll = h("div", { class: "msg-scroll", tabindex: "0", "aria-label": `Messages in ${page.title}` }, older, list);
  const jump = button("btn jump", "New messages ↓", { hidden: true });
  const announcer = h("div", { class: "visually-hidden", "aria-live": "polite" });
  const typingLine = h("p", { class: "typing", "aria-hidden": "true" });
  const agentsLine = div("agent-status");
  const agentsSaid = h("p", { class: "visually-hidden", "aria-live": "polite" });
  const outboxEl = h("ul", { class: "outbox", role: "list", "aria-label": "Messages not sent yet", hidden: true });

  // The composer.
  const input = h("textarea", { class: "composer-input", rows: "1", maxlength: "10000", "aria-label": `Message ${page.title}`, placeholder: `Message ${page.title}` });
  const draftUser = me ? me.id : "";
  input.value = drafts.get(draftUser, pageId);
  autosize(input);
  const replyBanner = h("div", { class: "reply-banner", hidden: true });
  const sendBtn = submitButton("Send");
  const composer = h("form", { class: "composer", "aria-label": "New message" }, replyBanner, div("composer-row", input, sendBtn));
  let replyTo = null; // the top-level message being answered

  const openThreads = new Set();
  const cache = new Map(); // id → {msg, thread, open, el}
  let editing = null; // id of the message being edited
  let unread = 0;
  let unreadFrom = null; // id of the first message that arrived while scrolled up
  let lastIds = null;
  let loadingOlder = false;

  const atBottom = () => scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 48;
  const toBottom = () => {
    scroll.scrollTop = scroll.scrollHeight;
  };

  function setReply(m) {
    replyTo = m;
    replyBanner.hidden = !m;
    if (!m) return replace(replyBanner);
    replace(replyBanner, h("span", {}, "Replying to ", h("strong", {}, authorName(m)), ": ", span("quote", snippet(m.content))),
      button("link", "Cancel reply", () => { setReply(null); input.focus(); }));
    input.focus();
  }

  async function toggleThread(m) {
    if (openThreads.has(m.id)) openThreads.delete(m.id);
    else {
      openThreads.add(m.id);
      try {
        const res = await api.call("GET", msgPath(pageId) + uri`?parentId=${m.id}&limit=100`);
        const ch = store.state.channel;
        if (ch?.pageId === pageId) store.set({ channel: withThread(ch, m.id, res.items.slice().reverse()) });
        return;
      } catch (e) {
        openThreads.delete(m.id);
        errLine.fail(e);
      }
    }
    render();
  }

  const errLine = errorBox();

  function startEdit(m, el) {
    editing = m.id;
    const text = el.querySelector(".msg-text");
    const area = h("textarea", { class: "edit-input", "aria-label": "Edit message", rows: "2", maxlength: "10000" });
    area.value = m.content;
    const cancel = () => {
      editing = null;
      cache.delete(m.id);
      render();
      input.focus();
    };
    const save = async () => {
      const content = area.value.trim();
      if (!content || content === m.content) return cancel();
      try {
        const updated = await busy(form, () => api.call("PATCH", msgPath(pageId, m.id), { content }));
        editing = null;
        cache.delete(m.id);
        applyLocal("message_updated", updated);
        input.focus();
      } catch (e) {
        err.fail(e);
      }
    };
    const err = errorBox();
    const form = h("form", { class: "edit-form", "aria-label": "Edit message" }, area, err,
      div("row", submitButton("Save"),
        button("btn", "Cancel", cancel)));
    onSubmit(form, (e) => {
      save();
    });
    on(area, "keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        save();
      } else if (e.key === "Escape") {
        e.preventDefault();
        cancel();
      }
    });
    text.replaceWith(form);
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  function applyLocal(type, message, extra = {}) {
    const ch = store.state.channel;
    if (ch?.pageId === pageId) store.set({ channel: applyMessageEvent(ch, type, { message, ...extra }) });
  }

  async function stopStream(m) {
    try {
      applyLocal("message_updated", await api.call("POST", msgPath(pageId, m.id) + "/stop"));
      if (document.activeElement === document.body) input.focus(); // the Stop button is gone
    } catch (e) {
      if (e.code !== "stream_ended") errLine.fail(e); // ended meanwhile: its message_updated says how
    }
  }

  function messageEl(m, { reply = false, cont = false } = {}) {
    const mine = byMe(m);
    const deleted = !!m.deletedAt;
    const streaming = m.status === "streaming";
    const ended = !deleted && endText(m);
    const actions = [];
    if (!reply && !deleted && canPost) actions.push(button("link", "Reply", () => setReply(m)));
    if (mine && !deleted && canPost) {
      if (!streaming) actions.push(button("link", "Edit", (e) => startEdit(m, e.target.closest(".msg"))));
      const del = button("link danger-text", "Delete", () => confirmInline(del, "Delete this message?", "Delete", async () => {
        await api.call("DELETE", msgPath(pageId, m.id));
        applyLocal("message_deleted", { ...m, deletedAt: new Date().toISOString(), content: "" }, { removed: reply || !m.repliesCount });
      }));
      actions.push(del);
    }
    const el = h("li", { class: `msg${mine ? " mine" : ""}${reply ? " reply" : ""}${cont ? " cont" : ""}`, dataset: { id: m.id }, "aria-busy": streaming && "true" },
      avatar(m.author?.id, authorName(m)),
      div("msg-body",
        div("msg-meta", h("strong", {}, authorName(m)), " ",
          h("time", { datetime: m.createdAt, title: new Date(m.createdAt).toLocaleString() }, ago(m.createdAt)),
          m.editedAt && !deleted ? span("muted", " (edited)") : null),
        deleted ? para("msg-text muted", "This message was deleted.") : para("msg-text", m.content),
        streaming ? div("row stream-state", span("streaming", "Streaming…"),
          canPost ? button("btn stop", "Stop", { "aria-label": `Stop ${authorName(m)}’s answer`, on: { click: () => stopStream(m) } }) : null) : null,
        ended ? div(`stream-state ${m.status}`, ended) : null,
        actions.length ? div("msg-actions", actions) : null,
        !reply && m.repliesCount > 0 ? threadEl(m) : null));
    return el;
  }

  function threadEl(m) {
    const open = openThreads.has(m.id);
    const n = m.repliesCount;
    const toggle = button("link thread-toggle", open ? "Hide replies" : `${n} ${n === 1 ? "reply" : "replies"}`, { "aria-expanded": String(open), on: { click: () => toggleThread(m) } });
    const replies = open ? (store.state.channel.threads[m.id] || []) : [];
    return div("thread", toggle, open ? h("ol", { class: "replies", "aria-label": `Replies to ${authorName(m)}` }, replies.map((r) => messageEl(r, { reply: true }))) : null);
  }

  function render() {
    const ch = store.state.channel;
    if (!ch || ch.pageId !== pageId) return;
    if (ch.items === null) {
      replace(list, skeleton("li"));
      return;
    }
    const bottom = atBottom() || lastIds === null;
    older.hidden = !ch.nextCursor;
    const prevIds = lastIds;
    lastIds = new Set(ch.items.map((m) => m.id));
    // Messages that arrived (after the last one shown) since the previous render.
    const lastShown = prevIds && [...ch.items].reverse().find((m) => prevIds.has(m.id));
    const fresh = prevIds ? ch.items.filter((m) => !prevIds.has(m.id) && (!lastShown || m.createdAt >= lastShown.createdAt)) : [];
    const fromOthers = fresh.filter((m) => !byMe(m));
    if (fromOthers.length) {
      for (const m of fromOthers) say(m.status === "streaming" ? `${authorName(m)} is writing…` : `${authorName(m)}: ${snippet(m.content)}`);
      if (!bottom) {
        if (!unreadFrom) unreadFrom = fromOthers[0].id;
        unread += fromOthers.length;
      }
    }
    if (ch.items.length === 0) {
      replace(list, h("li", { class: "empty" }, canPost ? "No messages yet. Say hello." : "No messages yet."));
    } else {
      if (list.querySelector(".empty, .skeleton-lines")) replace(list);
      const want = [];
      let prev = null;
      for (const m of ch.items) {
        if (m.id === unreadFrom) {
          want.push(unreadMark());
          prev = null;
        }
        const thread = ch.threads[m.id];
        const open = openThreads.has(m.id);
        const cont = follows(prev, m);
        prev = m;
        let c = cache.get(m.id);
        const same = c && c.thread === thread && c.open === open && c.cont === cont;
        if (c && c.msg !== m && c.msg.status === "streaming") {
          if (m.status !== "streaming") streamEnded(m);
          else if (same && m.repliesCount === c.msg.repliesCount) {
            // It only grew: in place, so that its Stop button keeps the focus, or the pointer.
            c.el.querySelector(".msg-text").textContent = m.content;
            c.msg = m;
          }
        }
        if (!c || (editing !== m.id && (c.msg !== m || !same))) {
          c = { msg: m, thread, open, cont, el: messageEl(m, { cont }) };
          cache.set(m.id, c);
        }
        want.push(c.el);
      }
      for (const id of cache.keys()) if (!lastIds.has(id)) cache.delete(id);
      // Put the elements in order, touching only what moved (a focused edit box stays put).
      // Walked by sibling, not by index, and what goes in between two kept elements goes in at
      // once: a long history stays cheap to patch.
      let at = list.firstElementChild;
      let batch = null;
      for (const el of want) {
        if (el !== at) {
          if (!batch) batch = document.createDocumentFragment();
          batch.append(el);
          continue;
        }
        if (batch) list.insertBefore(batch, at);
        batch = null;
        at = at.nextElementSibling;
      }
      if (batch) list.insertBefore(batch, at);
      while (at) {
        const next = at.nextElementSibling;
        at.remove();
        at = next;
      }
    }
    const names = Object.values(ch.typing);
    typingLine.textContent = typingText(names);
    if (bottom || fresh.some(byMe)) {
      toBottom();
      clearUnread();
    }
    jump.hidden = unread === 0;
    jump.textContent = unread === 1 ? "1 new message ↓" : `${unread} new messages ↓`;
  }

  // streamEnded tells screen readers the text of someone else's streamed message once it ends
  // (the list is not announced while it grows), and how it ended.
  function streamEnded(m) {
    if (!byMe(m) && !m.deletedAt) say(`${authorName(m)}: ${snippet(m.content)}${endText(m) ? ` (${endText(m)})` : ""}`);
  }

  // What the agents are doing, a line each (idle ones show nothing). The live region says only
  // their words, when they change: not each step of a progress bar.
  let agentsShown = null;
  function renderStatuses() {
    const ch = store.state.channel;
    if (ch?.pageId !== pageId || ch.agents === agentsShown) return;
    agentsShown = ch.agents;
    const now = Object.values(ch.agents).filter((s) => s.state !== "idle");
    replace(agentsLine, now.map((s) => div(`row agent-line ${s.state}`, avatar(s.agentId, s.name), span("", statusText(s)),
      s.progress == null ? null : h("progress", { max: 1, value: s.progress, "aria-label": `Progress of ${s.tool}` }), span("muted", s.detail))));
    const words = now.map(statusText).join(". ");
    if (agentsSaid.textContent !== words) agentsSaid.textContent = words;
  }

  let markEl = null;
  function unreadMark() {
    if (!markEl) markEl = h("li", { class: "unread-mark", role: "separator", "aria-label": "New messages" }, h("span", {}, "New"));
    return markEl;
  }
  function clearUnread() {
    unread = 0;
    jump.hidden = true;
  }

  function say(text) {
    announcer.append(h("p", {}, text));
    while (announcer.children.length > 5) announcer.firstElementChild.remove();
  }

  async function loadOlder() {
    const ch = store.state.channel;
    if (loadingOlder || !ch || !ch.nextCursor) return;
    loadingOlder = true;
    older.disabled = true;
    try {
      const res = await api.call("GET", msgPath(pageId) + uri`?limit=${PAGE}&cursor=${ch.nextCursor}`);
      const now = store.state.channel;
      if (!now || now.pageId !== pageId) return;
      const fromBottom = scroll.scrollHeight - scroll.scrollTop;
      store.set({ channel: withPage(now, res, { older: true }) });
      scroll.scrollTop = scroll.scrollHeight - fromBottom; // the reader's place stays put
    } catch (e) {
      errLine.fail(e);
    } finally {
      loadingOlder = false;
      older.disabled = false;
    }
  }

  // The outbox: what was sent and not yet accepted, in order (kept across views).
  const flush = () => flushOutbox(pageId, { api, store });
  function renderOutbox() {
    const outbox = outboxes.get(pageId) || [];
    outboxEl.hidden = outbox.length === 0;
    // The list makes room for the outbox (a class, not :has(): that would recheck the whole
    // history on every message added).
    const box = outboxEl.parentElement;
    if (box) box.classList.toggle("with-outbox", outbox.length > 0);
    replace(outboxEl, outbox.map((item) => h("li", { class: `pending ${item.state}` },
      para("msg-text", item.content),
      para("muted pending-state", item.state === "sending" ? "Sending…" : item.state === "waiting"
        ? "Not sent yet: it will be sent when the connection is back." : item.error),
      item.state === "failed" ? div("row",
        button("link", "Try again", () => { item.state = "waiting"; flush(); }),
        button("link", "Edit", () => { outbox.splice(outbox.indexOf(item), 1); if (!outbox.length) outboxes.delete(pageId); if (!input.value) input.value = item.content; renderOutbox(); })) : null)));
    if (atBottom()) toBottom();
  }

  outboxViews.set(pageId, {
    render: renderOutbox,
    sent(m) {
      if (m.parentId && !openThreads.has(m.parentId)) {
        const parent = (store.state.channel?.items || []).find((x) => x.id === m.parentId);
        if (parent) toggleThread(parent);
      }
    },
  });

  // Events of the composer.
  let typingSent = 0;
  on(input, "input", () => {
    drafts.set(draftUser, pageId, input.value);
    autosize(input);
    if (input.value.trim() && Date.now() - typingSent > 2000) {
      typingSent = Date.now();
      live.emitNow("typing_start", { pageId });
    } else if (!input.value.trim() && typingSent) {
      typingSent = 0;
      live.emitNow("typing_stop", { pageId });
    }
  });
  on(input, "keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      composer.requestSubmit();
    } else if (e.key === "Escape" && replyTo) {
      e.preventDefault();
      setReply(null);
    } else if (e.key === "ArrowUp" && !input.value) {
      const ch = store.state.channel;
      const mine = (ch.items || []).filter((m) => byMe(m) && !m.deletedAt);
      const last = mine[mine.length - 1];
      const c = last && cache.get(last.id);
      if (c) {
        e.preventDefault();
        startEdit(last, c.el);
      }
    }
  });
  onSubmit(composer, (e) => {
    const content = input.value.trim();
    if (!content) return;
    if (!outboxes.has(pageId)) outboxes.set(pageId, []);
    outboxes.get(pageId).push({ key: ++outboxSeq, content, parentId: replyTo ? replyTo.id : null, state: "waiting" });
    input.value = "";
    drafts.set(draftUser, pageId, "");
    autosize(input);
    setReply(null);
    if (typingSent) live.emitNow("typing_stop", { pageId });
    typingSent = 0;
    toBottom();
    flush();
  });

  on(older, "click", loadOlder);
  on(scroll, "scroll", () => {
    if (scroll.scrollTop < 80) loadOlder();
    if (atBottom() && unread) {
      clearUnread();
    }
  });
  on(jump, "click", () => {
    toBottom();
    clearUnread();
    input.focus();
  });

  // Live: render on every change while the view is up; retry the outbox when back online.
  const unsub = store.subscribe(() => {
    if (!alive()) return stop();
    render();
    renderStatuses();
  });
  // (The outbox is retried on connect and "online" by app.js, whatever view is up.)
  function stop() {
    unsub();
    if (outboxViews.get(pageId) && outboxViews.get(pageId).render === renderOutbox) outboxViews.delete(pageId);
  }

  // The newest messages.
  if (store.state.channel.items === null) {
    api.call("GET", `${msgPath(pageId)}?limit=${PAGE}`).then((res) => {
      const ch = store.state.channel;
      if (ch?.pageId === pageId) store.set({ channel: withPage(ch, res) });
    }, (e) => errLine.show(`${describe(e)} Reload the page to try again.`));
  }

  render();
  renderStatuses();
  renderOutbox();
  if (outboxes.has(pageId)) flush();
  const el = h("section", { class: "channel", "aria-label": "Channel" }, scroll, jump, errLine, outboxEl, agentsLine,
    canPost ? composer : para("muted", "You can read this channel but not post in it."),
    typingLine, announcer, agentsSaid);
  el.classList.toggle("with-outbox", outboxes.has(pageId));
  // Once on screen: start at the newest message.
  requestAnimationFrame(() => {
    toBottom();
    if (canPost && alive()) input.focus({ preventScroll: true });
  });
  return el;
}

// follows reports whether m continues prev: same author, within five minutes, nothing between
// (the name and avatar are then not repeated).
function follows(prev, m) {
  if (!prev || !prev.author || !m.author || prev.author.id !== m.author.id || prev.deletedAt || prev.repliesCount > 0) return false;
  return Date.parse(m.createdAt) - Date.parse(prev.createdAt) < 5 * 60 * 1000;
}

function authorName(m) {
  return m.author ? m.author.name : "Deleted user";
}

function snippet(text) {
  const s = String(text || "").replace(/\s+/g, " ").trim();
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

function autosize(area) {
  area.rows = Math.min(8, Math.max(1, area.value.split("\n").length));
}
