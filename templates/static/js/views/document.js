// views/document.js: a DOCUMENT page, co-edited live (issue 13, item 7): a <textarea> bound to a
// DocClient (doc-client.js, textarea-binding.js), the others' cursors and selections drawn over
// it, a status line, and the revision history (list, view one, restore). Viewers without edit
// right get the same text, read-only, following every change.

import { div, span, para, on, h, replace, hue, announce, ago, busy, errorBox, button } from "../dom.js";
import { describe, ApiError } from "../errors.js";
import { uri } from "../router.js";
import { DocClient } from "../doc-client.js";
import { TextareaBinding, rangesToUtf16 } from "../textarea-binding.js";

const FLAG_MS = 3000; // a cursor's name flag fades after this long without moving
const REVISIONS = 20;

/** docStatus is the status line's words for a DocClient's status and state. */
export function docStatus(status, state, canEdit) {
  const pending = state !== "synchronised";
  switch (status) {
    case "connecting":
      return "Connecting…";
    case "syncing":
      return "Catching up…";
    case "offline":
      return pending ? "Offline: your edits are kept and will be sent" : canEdit ? "Offline" : "Read only · offline";
    case "online":
      return !canEdit ? "Read only · live" : pending ? "Saving…" : "Saved";
    default:
      return "";
  }
}

/**
 * marks cuts value into the pieces the cursor layer draws: {text, user?} (user: whose selection
 * tints it) and {caret: user, flag} at each range's head. users: [{userId, name, ranges}] with
 * UTF-16 offsets.
 */
export function marks(value, users) {
  const clamp = (n) => Math.max(0, Math.min(value.length, n));
  const cuts = new Set([0, value.length]);
  const sels = [];
  const carets = [];
  for (const u of users) {
    u.ranges.forEach((r, i) => {
      const a = clamp(Math.min(r.anchor, r.head));
      const b = clamp(Math.max(r.anchor, r.head));
      if (a < b) sels.push({ a, b, u });
      carets.push({ at: clamp(r.head), u, flag: i === 0 });
      cuts.add(a).add(b).add(clamp(r.head));
    });
  }
  const points = [...cuts].sort((x, y) => x - y);
  const out = [];
  points.forEach((p, i) => {
    for (const c of carets) if (c.at === p) out.push({ caret: c.u, flag: c.flag });
    const q = points[i + 1];
    if (q === undefined) return;
    const s = sels.find((x) => x.a <= p && q <= x.b);
    out.push({ text: value.slice(p, q), user: s ? s.u : null });
  });
  return out;
}

/** documentView returns the element of a DOCUMENT page and keeps it live while the view is. */
export function documentView(ctx, page) {
  const { api, store, alive, live } = ctx;
  let canEdit = !!page.access.canEdit;
  const id = `doc-${page.id}`;
  const status = para("doc-status muted", "Connecting…");
  const err = errorBox();
  const area = h("textarea", { id, class: "doc-text", spellcheck: "true", readonly: true,
    placeholder: canEdit ? "Start writing. Others who open this page see your words as you type." : "This document is empty." });
  area.value = page.content || "";
  const layer = h("div", { class: "doc-layer", "aria-hidden": "true" });
  const editor = div("doc-editor",
    h("label", { for: id, class: "visually-hidden" }, `Text of ${page.title}${canEdit ? "" : " (read only)"}`), area, layer);
  const history = historyPanel(ctx, page, canEdit);
  const histBtn = button("btn", "History", { "aria-expanded": "false", "aria-controls": history.el.id });
  on(histBtn, "click", () => {
    const open = history.el.hidden;
    history.el.hidden = !open;
    histBtn.setAttribute("aria-expanded", String(open));
    if (open) history.load();
  });
  const root = div("doc", div("doc-bar", status, histBtn), err, history.el, editor);

  const socket = live.transport();
  if (!socket) {
    status.textContent = "Offline: read only";
    return root;
  }
  const client = new DocClient({ transport: socket, pageId: page.id });
  const readOnly = () => {
    canEdit = false;
    area.readOnly = true;
    client.setSelection = () => {}; // a reader's caret is nobody else's business
  };
  if (!canEdit) readOnly();
  let binding = null;
  let lastConn = null;
  client.on("status", (s) => {
    status.textContent = docStatus(s.status, s.state, canEdit);
    const conn = s.status === "offline" ? "offline" : s.status === "online" ? "online" : lastConn;
    if (lastConn && conn !== lastConn) announce(conn === "offline" ? "Document offline: your edits are kept." : "Document back online.");
    lastConn = conn;
  });
  client.on("error", (e) => {
    if (e.code === "forbidden") readOnly(); // the edit right was taken away meanwhile
    err.show(`Not saved: ${describe(new ApiError(0, e.code, e.message))} Your text was reloaded.`);
    status.textContent = docStatus(client.status, client.state, canEdit);
  });

  // Others' cursors: the layer copies the textarea's box and text (transparent) so that a caret
  // and a tint land on the letters they belong to; it scrolls with the textarea.
  const moved = new Map(); // userId -> when its selection last came
  let drawQueued = false;
  let fadeTimer = null;
  const fit = () => {
    const cs = getComputedStyle(area);
    Object.assign(layer.style, {
      top: `${area.offsetTop + area.clientTop}px`, left: `${area.offsetLeft + area.clientLeft}px`,
      width: `${area.clientWidth}px`, height: `${area.clientHeight}px`, padding: cs.padding,
    });
    layer.scrollTop = area.scrollTop;
  };
  const draw = () => {
    drawQueued = false;
    const users = client.selections().map((u) => ({ ...u, ranges: rangesToUtf16(client.text, u.ranges) }));
    const now = Date.now();
    replace(layer, users.length === 0 ? null : marks(client.text, users).map((m) => {
      if (m.text !== undefined) return m.user ? span(`doc-sel ${hue(m.user.userId)}`, m.text) : m.text;
      const still = now - (moved.get(m.caret.userId) || 0) >= FLAG_MS;
      return h("span", { class: `doc-caret ${hue(m.caret.userId)}`, dataset: { user: m.caret.userId } },
        m.flag ? span(`doc-flag ${hue(m.caret.userId)}${still ? " still" : ""}`, m.caret.name || "Someone") : null);
    }));
    fit();
    // Redraw when the next flag is due to fade.
    const due = Math.min(...[...moved.values()].map((t) => t + FLAG_MS).filter((t) => t > now));
    clearTimeout(fadeTimer);
    if (due < Infinity) fadeTimer = setTimeout(queueDraw, due - now + 20);
  };
  const queueDraw = () => {
    if (!drawQueued) queueMicrotask(draw);
    drawQueued = true;
  };
  const onSelection = (m) => {
    if (!m || m.pageId !== page.id) return;
    if (Array.isArray(m.ranges) && m.ranges.length) moved.set(m.userId, Date.now());
    else moved.delete(m.userId);
  };
  socket.on("doc_selection", onSelection);
  client.on("selections", queueDraw);
  client.on("change", queueDraw);
  on(area, "scroll", () => {
    layer.scrollTop = area.scrollTop;
  });
  const resized = new ResizeObserver(() => fit());
  resized.observe(area);

  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    unsub();
    resized.disconnect();
    clearTimeout(fadeTimer);
    socket.off("doc_selection", onSelection);
    if (binding) binding.destroy();
    client.close();
  };
  // The view is gone when a newer render started or the page left the store (trashed, revoked).
  const unsub = store.subscribe((s) => {
    if (!alive() || !s.page || s.page.id !== page.id) close();
  });

  client.open().then(() => {
    if (closed) return;
    binding = new TextareaBinding(area, client);
    area.readOnly = !canEdit;
    queueDraw();
  }, (e) => {
    if (closed) return;
    status.textContent = "";
    err.show(describe(new ApiError(0, e.code, e.message)));
  });
  return root;
}

/** historyPanel is the revision history: {el, load()}; load reads the newest page again. */
function historyPanel({ api }, page, canEdit) {
  const base = uri`/api/pages/${page.id}/revisions`;
  const list = h("ol", { class: "revs", "aria-label": "Revisions, newest first" });
  const more = button("btn", "Load older revisions", { hidden: true });
  const err = errorBox();
  const shown = h("div", { class: "rev-view", hidden: true });
  const el = h("section", { class: "doc-history panel", id: `history-${page.id}`, hidden: true, "aria-labelledby": `history-title-${page.id}` },
    h("h2", { id: `history-title-${page.id}` }, "Revision history"), err, list, more, shown);
  let cursor = null;

  async function load(next = false) {
    err.show("");
    try {
      const res = await busy(el, () => api.call("GET", `${base}?limit=${REVISIONS}${next && cursor ? uri`&cursor=${cursor}` : ""}`));
      if (!next) replace(list);
      list.append(...res.items.map((r) => h("li", {},
        button("link", `Revision ${r.revision}`, () => view(r.revision)),
        span("muted", ` · “${r.title}”, ${ago(r.createdAt)}`))));
      cursor = res.nextCursor;
      more.hidden = !cursor;
    } catch (e) {
      err.fail(e);
    }
  }

  async function view(n) {
    err.show("");
    let r;
    try {
      r = await api.call("GET", `${base}/${n}`);
    } catch (e) {
      return err.fail(e);
    }
    const back = button("btn", "Back to the list", () => {
      close();
      focusList();
    });
    const restore = canEdit ? button("btn primary", "Restore this revision") : null;
    const close = () => {
      shown.hidden = true;
      list.hidden = false;
      more.hidden = !cursor;
      replace(shown);
    };
    const focusList = () => {
      const b = list.querySelector("button");
      if (b) b.focus();
    };
    if (restore) {
      on(restore, "click", async () => {
        err.show("");
        try {
          await busy(shown, () => api.call("POST", `${base}/${n}/restore`));
          announce(`Restored revision ${n}.`);
          close();
          await load();
          focusList();
        } catch (e) {
          err.fail(e);
        }
      });
    }
    replace(shown, h("h3", { tabindex: "-1" }, `Revision ${n}`, span("muted", ` · ${ago(r.createdAt)}`)),
      r.content ? h("pre", { class: "rev-text", tabindex: "0", "aria-label": `Text of revision ${n}` }, r.content) : para("empty", "This revision is empty."),
      div("row", restore, back));
    list.hidden = true;
    more.hidden = true;
    shown.hidden = false;
    shown.querySelector("h3").focus();
  }

  on(more, "click", () => load(true));
  return { el, load: () => load() };
}
