// views/drive.js: the drive list (home), a drive, its trash, one page, and "not found".

import { panel, div, span, para, on, h, replace, field, setFieldError, errorBox, busy, announce, confirmInline, ago, icon, button, submitButton, onSubmit, setTitle, skeleton } from "../dom.js";
import { describe, ApiError } from "../errors.js";
import { paths, uri } from "../router.js";
import { buildTree, typeLabel } from "../tree.js";
import { channelView } from "./channel.js";

export const loading = (label) => h("div", { class: "view", "aria-busy": "true" },
  para("visually-hidden", `Loading ${label}…`),
  h("div", { class: "skeleton-title", "aria-hidden": "true" }),
  skeleton());

export function heading(text) {
  return h("h1", { tabindex: "-1" }, text);
}

export function focusHeading(main) {
  const h1 = main.querySelector("h1");
  if (h1 && !main.contains(document.activeElement)) h1.focus({ preventScroll: true });
}

let renameNext = null; // a page whose view opens with its rename form (F2 in the tree)

/** requestRename makes the next view of page id open with its title being renamed. */
export function requestRename(id) {
  renameNext = id;
}

/** notFoundView says what is missing and offers a way out. */
export function notFoundView({ main, layout }, text) {
  setTitle("Not found");
  replace(main, div("view", heading("Not found"), h("p", {}, text), h("p", {}, h("a", { href: "/" }, "Go to your drives"))));
  focusHeading(main);
}

/** homeView lists the user's drives and creates one. */
export async function homeView({ api, store, go, alive, main }) {
  setTitle("Drives");
  if (store.state.drives === null) {
    replace(main, loading("your drives"));
    await store.refetch.drives();
  } else {
    store.refetch.drives().catch(() => {}); // shown at once, brought up to date
  }
  if (!alive()) return;
  const list = h("div");
  const renderList = () => {
    const drives = store.state.drives || [];
    replace(list, drives.length === 0
      ? para("empty", "No drives yet. Create one to start.")
      : h("ul", { class: "cards", role: "list" }, drives.map((d) => h("li", {},
        h("a", { href: paths.drive(d.id), class: "card-link" }, span("card-title", d.name),
          span("muted", d.role ? d.role.toLowerCase().replace(/^./, (c) => c.toUpperCase()) : "Shared with you"))))));
  };
  const name = field({ label: "Name", name: "name", required: true, maxlength: 100, autocomplete: "off", placeholder: "e.g. Team" });
  const err = errorBox();
  const form = h("form", { class: "inline-form", "aria-labelledby": "new-drive-title" }, name,
    submitButton("Create drive"));
  onSubmit(form, async (e) => {
    err.show("");
    setFieldError(name, "");
    if (!name.input.value.trim()) {
      setFieldError(name, "Give the drive a name.");
      name.input.focus();
      return;
    }
    try {
      const drive = await busy(form, () => api.call("POST", "/api/drives", { name: name.input.value.trim() }));
      name.input.value = "";
      await store.refetch.drives();
      announce(`Created drive “${drive.name}”.`);
      go(paths.drive(drive.id));
    } catch (e2) {
      err.fail(e2);
    }
  });
  const unsub = store.subscribe(() => (main.contains(list) ? renderList() : unsub()));
  renderList();
  replace(main, div("view", heading("Your drives"), list,
    panel("new-drive-title", "New drive", err, form)));
  focusHeading(main);
}

/** openDrive loads the drive list and the drive's tree, showing the sidebar; null if not found. */
async function openDrive({ store, layout }, driveId) {
  layout.showSidebar(true);
  if (store.state.drives === null || !store.drive(driveId)) await store.refetch.drives();
  const drive = store.drive(driveId);
  if (!drive) return null;
  await store.openDrive(driveId);
  layout.sidebar.render();
  return drive;
}

/** driveOrNotFound opens the drive of a drive's view, or shows "not found" and returns null. */
export async function driveOrNotFound(ctx, driveId) {
  const drive = await openDrive(ctx, driveId);
  if (!ctx.alive()) return null;
  if (!drive) {
    ctx.layout.showSidebar(false);
    notFoundView(ctx, "This drive doesn't exist, or you no longer have access to it.");
  }
  return drive;
}

/** driveView shows a drive: its name, what to do next, and its settings. */
export async function driveView(ctx, driveId) {
  const { api, store, go, alive, main, layout } = ctx;
  if (store.state.driveId !== driveId) replace(main, loading("the drive"));
  const drive = await driveOrNotFound(ctx, driveId);
  if (!drive) return;
  setTitle(drive.name);
  const canManage = drive.role === "OWNER" || drive.role === "ADMIN";
  // A new role (changed by an admin meanwhile) shows the drive again with what it now allows.
  const unsubRole = store.subscribe(() => {
    const now = store.drive(driveId);
    if (!alive()) unsubRole();
    else if (now && now.role !== drive.role) {
      unsubRole();
      ctx.rerender();
    }
  });
  // The drive's top pages, following the tree as others change it.
  const intro = followPages(ctx, (pages) => pages.length === 0
    ? para("empty", "This drive is empty. ",
      drive.role && drive.role !== "VIEWER" ? button("link", "Create its first page.", () => { layout.shell.classList.add("drawer-open"); layout.sidebar.openNew(); }) : null)
    : h("section", { "aria-labelledby": "top-pages" }, h("h2", { id: "top-pages" }, "Pages"), pageCards(buildTree(pages))));
  const settings = [];
  if (canManage) {
    const name = field({ label: "Drive name", name: "name", value: drive.name, required: true, maxlength: 100, autocomplete: "off" });
    const err = errorBox();
    const form = h("form", { class: "inline-form", "aria-label": "Rename drive" }, name, submitButton("Rename", "btn"));
    onSubmit(form, async (e) => {
      err.show("");
      if (!name.input.value.trim()) {
        setFieldError(name, "Give the drive a name.");
        return;
      }
      setFieldError(name, "");
      try {
        const d = await busy(form, () => api.call("PATCH", uri`/api/drives/${driveId}`, { name: name.input.value.trim() }));
        await store.refetch.drives();
        main.querySelector("h1").textContent = d.name;
        setTitle(d.name);
        announce(`Renamed the drive to “${d.name}”.`);
      } catch (e2) {
        err.fail(e2);
      }
    });
    settings.push(err, form);
  }
  if (drive.role === "OWNER") {
    const del = button("btn danger-text", "Delete drive…", () => confirmInline(del, `Delete “${drive.name}” and all of its pages, messages and tasks? This cannot be undone.`, "Delete drive", async () => {
      ctx.live.setView({}); // the reader leaves the drive: its deletion is no news to them
      try {
        await api.call("DELETE", uri`/api/drives/${driveId}`);
      } catch (e) {
        ctx.live.setView({ driveId });
        throw e;
      }
      store.set({ driveId: null, pages: null, trash: null });
      await store.refetch.drives();
      announce(`Deleted drive “${drive.name}”.`);
      go("/");
    }));
    settings.push(div("row", del));
  }
  replace(main, div("view", heading(drive.name),
    drive.role ? h("p", {}, h("a", { href: paths.members(drive.id) }, canManage ? "Members: invite people and set their roles" : "Members")) : null, intro,
    settings.length ? panel("drive-settings", "Drive settings", settings) : null));
  focusHeading(main);
}

/** trashView lists the drive's trash, with restore and delete for good. */
export async function trashView(ctx, driveId) {
  const { api, store, alive, main } = ctx;
  replace(main, loading("the trash"));
  const drive = await driveOrNotFound(ctx, driveId);
  if (!drive) return;
  await store.refetch.trash(driveId);
  if (!alive()) return;
  setTitle("Trash", drive.name);
  const list = h("div");
  const renderList = () => {
    const items = store.state.trash || [];
    if (items.length === 0) {
      replace(list, para("empty", "The trash is empty. Pages you move to the trash wait here until you restore them or delete them for good."));
      return;
    }
    replace(list, h("ul", { class: "trash", role: "list" }, items.map((item) => {
      const err = errorBox();
      const restore = button("btn", "Restore", async () => {
        err.show("");
        try {
          await busy(row, () => api.call("POST", uri`/api/pages/${item.id}/restore`));
          await Promise.all([store.refetch.trash(driveId), store.refetch.pages(driveId)]);
          announce(`Restored “${item.title}”.`);
        } catch (e) {
          err.show(describe(e, { share_required: "Restoring this page would show it to more people. Restore its folder first, or ask someone who can share it." }));
        }
      });
      const remove = button("btn danger-text", "Delete for good…", () => confirmInline(remove, `Delete “${item.title}” for good? This cannot be undone.`, "Delete for good", async () => {
        await api.call("DELETE", uri`/api/pages/${item.id}?permanent=true`);
        await store.refetch.trash(driveId);
        announce(`Deleted “${item.title}” for good.`);
      }));
      const row = h("li", { class: "trash-item" },
        div("trash-what",
          icon(item.type),
          span("title", item.title),
          span("muted", ` ${typeLabel(item.type)}, trashed ${ago(item.trashedAt)}`,
            item.pageCount > 1 ? `, with ${item.pageCount - 1} ${item.pageCount === 2 ? "page" : "pages"} inside` : "")),
        err, div("row", restore, remove));
      return row;
    })));
  };
  const unsub = store.subscribe((s) => (main.contains(list) ? renderList() : unsub()));
  renderList();
  replace(main, div("view", heading("Trash"), list));
  focusHeading(main);
}

/** pageView shows one page in its drive: title (renamable), trash, and its content. */
export async function pageView(ctx, pageId) {
  const { api, store, go, alive, main, layout } = ctx;
  replace(main, loading("the page"));
  let page;
  try {
    page = await api.call("GET", uri`/api/pages/${pageId}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      if (!alive()) return;
      layout.showSidebar(store.state.driveId !== null);
      return notFoundView(ctx, "This page doesn't exist, was moved to the trash, or you no longer have access to it.");
    }
    throw e;
  }
  const drive = await openDrive(ctx, page.driveId);
  if (!alive()) return;
  store.set({ page });
  ctx.live.setView({ driveId: page.driveId, pageId: page.id });
  layout.sidebar.render(); // the current page is marked in the tree
  setTitle(page.title);
  const title = heading(page.title);
  const priv = h("span", { class: "chip", hidden: !page.isPrivate }, "private");
  // The title follows renames by others (live.js keeps state.page current); new rights (a role or
  // grant changed) show the page again as the reader may now use it.
  const unsubTitle = store.subscribe((s) => {
    if (!alive()) return unsubTitle();
    if (!s.page || s.page.id !== page.id) return;
    if (s.page.access && JSON.stringify(s.page.access) !== JSON.stringify(page.access)) {
      unsubTitle();
      ctx.rerender();
      return;
    }
    priv.hidden = !s.page.isPrivate;
    if (s.page.title !== page.title) {
      page = { ...page, title: s.page.title };
      title.textContent = page.title;
      setTitle(page.title);
    }
  });
  const head = div("page-head", span("type-badge", icon(page.type), ` ${typeLabel(page.type)} `, priv), title);
  const actions = div("row actions");
  const err = errorBox();
  if (page.access.canEdit) {
    const rename = button("btn", "Rename", () => {
      const f = field({ label: "Title", name: "title", value: page.title, required: true, maxlength: 200, autocomplete: "off" });
      const close = () => {
        form.replaceWith(head);
        actions.hidden = false;
        rename.focus();
      };
      const form = h("form", { class: "inline-form rename-form", "aria-label": "Rename page" }, f, submitButton("Save"), button("btn", "Cancel", close));
      on(form, "keydown", (e) => {
        if (e.key === "Escape") close();
      });
      onSubmit(form, async (e) => {
        err.show("");
        const t = f.input.value.trim();
        if (!t) {
          setFieldError(f, "Give the page a title.");
          return;
        }
        try {
          page = await busy(form, () => api.call("PATCH", uri`/api/pages/${page.id}`, { title: t }));
          title.textContent = page.title;
          setTitle(page.title);
          close();
          announce(`Renamed to “${page.title}”.`);
          await store.refetch.pages(page.driveId);
        } catch (e2) {
          err.fail(e2);
        }
      });
      head.replaceWith(form);
      actions.hidden = true;
      f.input.select();
    });
    actions.append(rename);
  }
  if (page.access.canShare) {
    // The sharing dialog loads when first asked for: most visits never open it.
    const btn = button("btn", "Share", { "aria-haspopup": "dialog" });
    on(btn, "click", () => import("./share.js").then((m) => m.openShare(ctx, store.state.page || page, btn), (e) => err.fail(e)));
    actions.append(btn);
  }
  if (page.access.canDelete) {
    const trash = button("btn danger-text", "Move to trash", async () => {
      err.show("");
      try {
        ctx.live.leavingPage(page.id, true);
        await busy(actions, () => api.call("DELETE", uri`/api/pages/${page.id}`)).catch((e2) => {
          ctx.live.leavingPage(page.id, false);
          throw e2;
        });
        await store.refetch.pages(page.driveId);
        announce(`Moved “${page.title}” to the trash.`);
        go(paths.drive(page.driveId)); // the page's room is left: later events about it pass by
        ctx.live.leavingPage(page.id, false);
      } catch (e) {
        err.fail(e);
      }
    });
    actions.append(trash);
  }
  replace(main, div("view", para("crumbs", h("a", { href: paths.drive(drive.id) }, drive.name)),
    head, actions, err, pageBody(page, ctx)));
  const renameNow = renameNext === page.id;
  renameNext = null;
  const renameButton = actions.querySelector("button");
  if (renameNow && page.access.canEdit && renameButton) renameButton.click();
  else focusHeading(main);
}

/**
 * followPages returns an element showing render(state.pages), rendered again whenever the tree
 * listing changes (live events, refetches) while the view is up.
 */
function followPages({ store, alive }, render) {
  const box = div("follow");
  let shown = store.state.pages;
  replace(box, render(shown || []));
  const unsub = store.subscribe((s) => {
    if (!alive()) return unsub();
    if (s.pages === shown || s.pages === null) return;
    shown = s.pages;
    replace(box, render(shown));
  });
  return box;
}

/** pageCards lists pages as links, with their type. */
function pageCards(nodes) {
  return h("ul", { class: "cards", role: "list" }, nodes.map((c) => h("li", {},
    h("a", { href: paths.page(c.id), class: "card-link" },
      span("card-title", icon(c.type), " ", c.title),
      span("muted", typeLabel(c.type))))));
}

function pageBody(page, ctx) {
  switch (page.type) {
    case "FOLDER":
      return followPages(ctx, (pages) => folderBody(page, pages));
    case "DOCUMENT":
      return documentBody(ctx, page);
    case "CHANNEL":
      return channelView(ctx, page);
    case "TASK_LIST":
      return taskBody(ctx, page);
    default:
      return null;
  }
}

/** documentBody loads the co-editing modules (with the first document opened) and the editor. */
function documentBody(ctx, page) {
  const box = h("div", { class: "doc", "aria-busy": "true" }, para("doc-status muted", "Loading the editor…"));
  import("./document.js").then((m) => {
    if (ctx.alive() && box.isConnected) box.replaceWith(m.documentView(ctx, page));
  }, () => {
    replace(box, h("p", { class: "form-error", role: "alert" }, "The editor could not be loaded. Check your connection, then reload the page."));
  });
  return box;
}

/** taskBody loads the task list's view (with the first task list opened) and shows it. */
function taskBody(ctx, page) {
  const box = skeleton();
  import("./tasks.js").then((m) => {
    if (ctx.alive() && box.isConnected) box.replaceWith(m.taskView(ctx, page));
  }, () => {
    box.replaceWith(h("p", { class: "form-error", role: "alert" }, "The task list could not be loaded. Check your connection, then reload the page."));
  });
  return box;
}

function folderBody(page, pages) {
  const kids = buildTree(pages);
  const find = (nodes) => {
    for (const n of nodes) {
      if (n.id === page.id) return n;
      const f = find(n.children);
      if (f) return f;
    }
    return null;
  };
  const node = find(kids);
  const children = node ? node.children : [];
  if (children.length === 0) return para("empty", "This folder is empty. Create a page inside it with “New page”.");
  return pageCards(children);
}
