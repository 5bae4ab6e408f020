// views/tree-move.js: moving pages in the sidebar's tree, by drag and drop and by Alt+arrows.
// The move shows at once, goes to the server (POST /api/pages/{id}/move), and on a refusal the
// page goes back where it was and the reason shows in words. Others see it through page_moved.

import { on, announce } from "../dom.js";
import { describe } from "../errors.js";
import { uri } from "../router.js";
import { applyPageEvent, dropPlan, keyPlan, placeOf, withMove } from "../tree.js";

const keyDirs = { ArrowUp: "up", ArrowDown: "down", ArrowRight: "in", ArrowLeft: "out" };
const nowhere = {
  up: "already first", down: "already last", in: "the page above is not a folder", out: "already at the top level",
};

/**
 * treeMoves wires drag and drop on the tree element and returns {key(id, key)}, which moves page
 * id for an arrow key pressed with Alt and reports whether it handled the key. err is the
 * sidebar's error box.
 */
export function treeMoves({ api, store, tree, err }) {
  let dragged = null; // the id being dragged
  let marked = null; // {el, cls} of the drop indicator shown
  let target = null; // {id, where} of the drop the indicator shows

  const title = (id) => {
    const n = (store.state.pages || []).find((x) => x.id === id);
    return n ? n.title : "the page";
  };

  async function move(id, plan) {
    const driveId = store.state.driveId;
    const was = (store.state.pages || []).find((n) => n.id === id);
    if (!was) return;
    err.show("");
    store.set({ pages: withMove(store.state.pages, id, plan) });
    try {
      const page = await api.call("POST", uri`/api/pages/${id}/move`, plan);
      if (store.state.driveId === driveId && store.state.pages) {
        const next = applyPageEvent(store.state.pages, "page_moved", { page });
        if (next) store.set({ pages: next });
      }
      announce(`Moved “${was.title}”: ${placeOf(store.state.pages || [], id)}.`);
    } catch (e) {
      if (store.state.driveId !== driveId || !store.state.pages) return;
      store.set({ pages: withMove(store.state.pages, id, { parentId: was.parentId ?? null, position: was.position }) });
      err.show(`“${was.title}” was not moved. ${describe(e, {
        forbidden: "You can't move pages there: it needs the right to edit the page and the folder it goes into.",
        share_required: "Only someone who can share this page may move it where more people would see it.",
      })}`);
      store.refetch.pages(driveId).catch(() => {}); // the server's word on where everything is
    }
  }

  function mark(el, cls) {
    if (marked && (marked.el !== el || marked.cls !== cls)) marked.el.classList.remove(marked.cls);
    marked = el ? { el, cls } : null;
    if (el) el.classList.add(cls);
  }

  function clear() {
    mark(null);
    target = null;
  }

  // where a pointer at clientY over the link goes: a folder's middle half is "inside" it.
  function whereOver(link, clientY) {
    const r = link.getBoundingClientRect();
    const y = (clientY - r.top) / (r.height || 1);
    if (link.dataset.type === "FOLDER") return y < 0.25 ? "before" : y > 0.75 ? "after" : "inside";
    return y < 0.5 ? "before" : "after";
  }

  on(tree, "dragstart", (e) => {
    const link = e.target.closest && e.target.closest("a.node");
    if (!link || link.getAttribute("draggable") === "false") return;
    dragged = link.dataset.id;
    link.classList.add("dragging");
    if (e.dataTransfer) {
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", link.href);
    }
  });
  on(tree, "dragover", (e) => {
    if (!dragged) return;
    const link = e.target.closest && e.target.closest("a.node");
    if (!link) return clear();
    const where = whereOver(link, e.clientY);
    const plan = dropPlan(store.state.pages || [], dragged, link.dataset.id, where);
    if (!plan) return clear();
    e.preventDefault(); // a drop here is welcome
    if (e.dataTransfer) e.dataTransfer.dropEffect = "move";
    target = { id: link.dataset.id, where };
    // The line goes around the whole item: "after" a folder is after its children too.
    if (where === "inside") mark(link, "drop-inside");
    else mark(link.parentElement, where === "before" ? "drop-before" : "drop-after");
  });
  on(tree, "dragleave", (e) => {
    if (!e.relatedTarget || !tree.contains(e.relatedTarget)) clear();
  });
  on(tree, "drop", (e) => {
    e.preventDefault();
    const id = dragged;
    const t = target;
    clear();
    if (!id || !t) return;
    const plan = dropPlan(store.state.pages || [], id, t.id, t.where);
    if (plan) move(id, plan);
  });
  on(tree, "dragend", () => {
    for (const el of tree.querySelectorAll(".dragging")) el.classList.remove("dragging");
    dragged = null;
    clear();
  });

  return {
    key(id, key) {
      const dir = keyDirs[key];
      if (!dir || !id) return false;
      const plan = keyPlan(store.state.pages || [], id, dir);
      if (plan) move(id, plan);
      else announce(`“${title(id)}” did not move: ${nowhere[dir]}.`);
      return true;
    },
  };
}
