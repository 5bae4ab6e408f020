// views/sidebar.js: the drive sidebar: drive switcher, the page tree, "New page" and the trash
// link. It renders from the store, so it follows every refetch and live event. Pages move by drag
// and drop (onto a folder: into it; between two pages: there) and by Alt+arrows (tree-move.js).

import { option, div, span, para, on, h, replace, field, errorBox, busy, announce, icon, submitButton, onSubmit } from "../dom.js";
import { describe } from "../errors.js";
import { paths, parse, uri } from "../router.js";
import { buildTree, flatten, pageTypes, sharedWithMe } from "../tree.js";
import { requestRename } from "./drive.js";
import { treeMoves } from "./tree-move.js";
import { membersNav } from "./members.js";

export function createSidebar({ api, store, go }) {
  const switcher = h("select", { id: "drive-switch" });
  on(switcher, "change", () => go(paths.drive(switcher.value)));
  const tree = div("tree-wrap");
  const trashLink = h("a", { class: "trash-link" }, "Trash");

  // New page: type, title and where.
  const typeSelect = h("select", { name: "type" }, Object.entries(pageTypes).map(([t, d]) => option(t, d.label)));
  const type = field({ label: "Type", control: typeSelect });
  const title = field({ label: "Title", name: "title", required: true, maxlength: 200, autocomplete: "off" });
  const parentSelect = h("select", { name: "parentId" });
  const parent = field({ label: "Inside", control: parentSelect });
  const err = errorBox();
  const form = h("form", { class: "stack new-page-form", "aria-label": "New page" }, err, type, title, parent,
    submitButton("Create page"));
  const details = h("details", { class: "new-page" }, h("summary", {}, "+ New page"), form);
  // Opened while a folder is in view, "New page" goes into that folder.
  on(details, "toggle", () => {
    if (!details.open) return;
    const route = parse(location.pathname);
    const here = route.name === "page" && (store.state.pages || []).find((n) => n.id === route.pageId);
    if (here?.type === "FOLDER") parentSelect.value = here.id;
  });
  onSubmit(form, async (e) => {
    err.show("");
    const driveId = store.state.driveId;
    const name = title.input.value.trim();
    if (!name) {
      err.show("Give the page a title.");
      title.input.focus();
      return;
    }
    try {
      const body = { title: name, type: typeSelect.value };
      if (parentSelect.value) body.parentId = parentSelect.value;
      const page = await busy(form, () => api.call("POST", uri`/api/drives/${driveId}/pages`, body));
      title.input.value = "";
      parentSelect.value = "";
      details.open = false;
      await store.refetch.pages(driveId);
      announce(`Created ${pageTypes[page.type].label.toLowerCase()} “${page.title}”.`);
      go(paths.page(page.id));
    } catch (e2) {
      err.show(describe(e2, { forbidden: "You can't create pages here. Ask an owner or admin for the member role." }));
    }
  });

  const moveErr = errorBox();
  const help = h("p", { id: "tree-help", class: "visually-hidden" }, "Alt and the arrow keys move the focused page: up, down, into the folder above, out of its folder.");
  const nav = h("nav", { class: "pages", "aria-label": "Pages", "aria-describedby": "tree-help" }, help, moveErr, tree);
  const moves = treeMoves({ api, store, tree, err: moveErr });
  // Keyboard: ↑/↓/Home/End move through the tree, Enter opens (a link), F2 renames; with Alt the
  // arrows move the page itself.
  on(nav, "keydown", (e) => {
    const nodes = [...nav.querySelectorAll("a.node")];
    const i = nodes.indexOf(document.activeElement);
    if (i >= 0 && e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey && moves.key(nodes[i].dataset.id, e.key)) {
      e.preventDefault();
      return;
    }
    if (i < 0 || e.altKey || e.ctrlKey || e.metaKey) return;
    const to = { ArrowDown: Math.min(i + 1, nodes.length - 1), ArrowUp: Math.max(i - 1, 0), Home: 0, End: nodes.length - 1 }[e.key];
    if (to !== undefined) {
      e.preventDefault();
      nodes[to].focus();
    } else if (e.key === "F2") {
      e.preventDefault();
      const id = parse(nodes[i].pathname).pageId;
      requestRename(id);
      go(paths.page(id));
    }
  });
  const el = h("aside", { id: "sidebar", class: "sidebar" },
    div("field drive-field", h("label", { for: "drive-switch" }, "Drive"), switcher),
    h("a", { href: "/", class: "all-drives" }, "All drives"),
    nav, details, membersNav({ store }), trashLink);

  let shown = null; // what the sidebar shows: re-rendered only when that changes

  function renderTree(state, force = false) {
    const route = parse(location.pathname);
    const key = { drives: state.drives, driveId: state.driveId, pages: state.pages, path: location.pathname };
    if (!force && shown && Object.keys(key).every((k) => key[k] === shown[k])) return;
    shown = key;
    const drive = store.drive(state.driveId);
    // The switcher.
    replace(switcher, (state.drives || []).map((d) => option(d.id, d.name, d.id === state.driveId)));
    if (state.driveId) {
      trashLink.href = paths.trash(state.driveId);
      if (route.name === "trash") trashLink.setAttribute("aria-current", "page");
      else trashLink.removeAttribute("aria-current");
    }
    const canCreate = drive?.role && drive.role !== "VIEWER";
    details.hidden = !canCreate;
    // Where a new page may go: the top level or any folder.
    const keep = parentSelect.value;
    const roots = buildTree(state.pages || []);
    const flat = flatten(roots);
    replace(parentSelect, option("", "Top level"),
      flat.filter(({ node }) => node.type === "FOLDER").map(({ node, depth }) =>
        option(node.id, `${"— ".repeat(depth)}${node.title}`, node.id === keep)));
    // The tree.
    if (state.pages === null) {
      replace(tree, h("ul", { class: "skeleton-list", "aria-hidden": "true" }, h("li"), h("li"), h("li")));
      return;
    }
    if (roots.length === 0) {
      replace(tree, para("muted empty", canCreate ? "No pages yet." : "No pages you can see yet."));
      return;
    }
    const current = route.name === "page" ? route.pageId : null;
    const draggable = canCreate ? null : "false"; // a viewer moves nothing (links drag by default)
    const role = drive ? drive.role : null;
    // A tree rebuilt under the reader's keyboard (a live change by someone else, a move) keeps
    // its focus: moving a focused element in the DOM drops the focus.
    const focused = tree.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    if (tree.firstChild !== rootList || tree.childNodes.length !== 1) replace(tree, rootList);
    const seen = new Set();
    patchList(rootList, roots, { current, draggable, role, seen });
    for (const id of items.keys()) if (!seen.has(id)) items.delete(id);
    if (focused && !(document.activeElement?.dataset.id === focused)) {
      const again = items.get(focused);
      if (again) again.a.focus({ preventScroll: true });
    }
  }

  // The tree is patched, not rebuilt: one item per page id, redrawn only when what it shows
  // changes, and moved only when its place does (a tree of thousands of pages stays quick).
  const rootList = h("ul", { role: "list" });
  const items = new Map(); // id → {li, a, sig, ul}

  function patchList(ul, nodes, ctx) {
    nodes.forEach((n, i) => {
      ctx.seen.add(n.id);
      const shared = sharedWithMe(n, ctx.role);
      const sig = `${n.type}\u0000${n.title}\u0000${!!n.isPrivate}\u0000${shared}\u0000${n.id === ctx.current}\u0000${ctx.draggable}`;
      let it = items.get(n.id);
      if (!it) {
        it = { li: h("li"), a: null, sig: null, ul: null };
        items.set(n.id, it);
      }
      if (it.sig !== sig) {
        const a = h("a", { href: paths.page(n.id), class: "node", draggable: ctx.draggable, "aria-current": n.id === ctx.current ? "page" : null, dataset: { type: n.type, id: n.id } },
          icon(n.type),
          span("title", n.title),
          shared ? span("chip shared", "shared") : n.isPrivate ? span("chip", "private") : null);
        if (it.a) it.a.replaceWith(a);
        else it.li.prepend(a);
        it.a = a;
        it.sig = sig;
      }
      if (n.children.length) {
        if (!it.ul) it.li.append((it.ul = h("ul", { role: "list" })));
        patchList(it.ul, n.children, ctx);
      } else if (it.ul) {
        it.ul.remove();
        it.ul = null;
      }
      if (ul.children[i] !== it.li) ul.insertBefore(it.li, ul.children[i] || null);
    });
    while (ul.children.length > nodes.length) ul.lastElementChild.remove();
  }
  store.subscribe((state) => renderTree(state));

  return {
    el,
    render: () => renderTree(store.state, true),
    focus: () => switcher.focus(),
    /** openNew opens "New page" and puts the focus on its title. */
    openNew() {
      details.open = true;
      title.input.focus();
    },
  };
}
