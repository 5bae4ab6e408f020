// views/sidebar.js: the drive sidebar: drive switcher, the page tree, "New page" and the trash
// link. It renders from the store, so it follows every refetch (and, later, live events).

import { h, replace, field, errorBox, busy, announce, icon } from "../dom.js";
import { describe } from "../errors.js";
import { paths, parse } from "../router.js";
import { buildTree, flatten, pageTypes, sharedWithMe } from "../tree.js";
import { requestRename } from "./drive.js";
import { membersNav } from "./members.js";

export function createSidebar({ api, store, go }) {
  const switcher = h("select", { id: "drive-switch" });
  switcher.addEventListener("change", () => go(paths.drive(switcher.value)));
  const tree = h("div", { class: "tree-wrap" });
  const trashLink = h("a", { class: "trash-link" }, "Trash");

  // New page: type, title and where.
  const typeSelect = h("select", { name: "type" }, Object.entries(pageTypes).map(([t, d]) => h("option", { value: t }, d.label)));
  const type = field({ label: "Type", control: typeSelect });
  const title = field({ label: "Title", name: "title", required: true, maxlength: 200, autocomplete: "off" });
  const parentSelect = h("select", { name: "parentId" });
  const parent = field({ label: "Inside", control: parentSelect });
  const err = errorBox();
  const form = h("form", { class: "stack new-page-form", "aria-label": "New page" }, err, type, title, parent,
    h("button", { type: "submit", class: "btn primary" }, "Create page"));
  const details = h("details", { class: "new-page" }, h("summary", {}, "+ New page"), form);
  // Opened while a folder is in view, "New page" goes into that folder.
  details.addEventListener("toggle", () => {
    if (!details.open) return;
    const route = parse(location.pathname);
    const here = route.name === "page" && (store.state.pages || []).find((n) => n.id === route.pageId);
    if (here && here.type === "FOLDER") parentSelect.value = here.id;
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
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
      const page = await busy(form, () => api.call("POST", `/api/drives/${encodeURIComponent(driveId)}/pages`, body));
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

  const nav = h("nav", { class: "pages", "aria-label": "Pages" }, tree);
  // Keyboard: ↑/↓/Home/End move through the tree, Enter opens (a link), F2 renames.
  nav.addEventListener("keydown", (e) => {
    const nodes = [...nav.querySelectorAll("a.node")];
    const i = nodes.indexOf(document.activeElement);
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
    h("div", { class: "field drive-field" }, h("label", { for: "drive-switch" }, "Drive"), switcher),
    h("a", { href: "/", class: "all-drives" }, "All drives"),
    nav, details, membersNav({ store, api }), trashLink);

  let shown = null; // what the sidebar shows: re-rendered only when that changes

  function renderTree(state, force = false) {
    const route = parse(location.pathname);
    const key = { drives: state.drives, driveId: state.driveId, pages: state.pages, path: location.pathname };
    if (!force && shown && Object.keys(key).every((k) => key[k] === shown[k])) return;
    shown = key;
    const drive = store.drive(state.driveId);
    // The switcher.
    replace(switcher, (state.drives || []).map((d) => h("option", { value: d.id, selected: d.id === state.driveId }, d.name)));
    if (state.driveId) {
      trashLink.href = paths.trash(state.driveId);
      if (route.name === "trash") trashLink.setAttribute("aria-current", "page");
      else trashLink.removeAttribute("aria-current");
    }
    const canCreate = drive && drive.role && drive.role !== "VIEWER";
    details.hidden = !canCreate;
    // Where a new page may go: the top level or any folder.
    const keep = parentSelect.value;
    const roots = buildTree(state.pages || []);
    const flat = flatten(roots);
    replace(parentSelect, h("option", { value: "" }, "Top level"),
      flat.filter(({ node }) => node.type === "FOLDER").map(({ node, depth }) =>
        h("option", { value: node.id, selected: node.id === keep }, `${"— ".repeat(depth)}${node.title}`)));
    // The tree.
    if (state.pages === null) {
      replace(tree, h("ul", { class: "skeleton-list", "aria-hidden": "true" }, h("li"), h("li"), h("li")));
      return;
    }
    if (roots.length === 0) {
      replace(tree, h("p", { class: "muted empty" }, canCreate ? "No pages yet." : "No pages you can see yet."));
      return;
    }
    const current = route.name === "page" ? route.pageId : null;
    const list = (nodes) => h("ul", { role: "list" }, nodes.map((n) => h("li", {},
      h("a", { href: paths.page(n.id), class: "node", "aria-current": n.id === current ? "page" : null, dataset: { type: n.type } },
        icon(n.type),
        h("span", { class: "title" }, n.title),
        drive && sharedWithMe(n, drive.role) ? h("span", { class: "chip shared" }, "shared") : n.isPrivate ? h("span", { class: "chip" }, "private") : null),
      n.children.length ? list(n.children) : null)));
    // A tree rebuilt under the reader's keyboard (a live change by someone else) keeps its focus.
    const focused = tree.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
    replace(tree, list(roots));
    if (focused) {
      const again = [...tree.querySelectorAll("a.node")].find((a) => a.getAttribute("href") === focused);
      if (again) again.focus({ preventScroll: true });
    }
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
