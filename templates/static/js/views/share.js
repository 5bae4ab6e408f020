// views/share.js: a page's sharing dialog, for people with the share right: the private switch
// and the page's grants (who, what they may do, until when), added from the drive's members,
// changed and removed. The grants live in the store (state.grants) while the dialog is open, so
// changes by others arrive through live.js like everything else.

import { option, div, span, para, on, h, replace, field, errorBox, busy, announce, button, submitButton, onSubmit, avatar } from "../dom.js";
import { describe } from "../errors.js";
import { uri } from "../router.js";

/** Levels: the grant rights a person picks from, weakest first ("none" is a deny grant). */
export const levels = [
  ["none", "No access", [false, false, false, false]],
  ["view", "Can view", [true, false, false, false]],
  ["edit", "Can edit", [true, true, false, false]],
  ["share", "Can edit and share", [true, true, true, false]],
  ["full", "Full access", [true, true, true, true]],
];
const RIGHTS = ["canView", "canEdit", "canShare", "canDelete"];

/** levelOf names a grant's rights: a level, or "custom" for a mix no level has. */
export function levelOf(g) {
  const got = RIGHTS.map((r) => !!g[r]);
  const l = levels.find(([, , rights]) => rights.every((v, i) => v === got[i]));
  return l ? l[0] : "custom";
}

/** grantBody is the PUT body for a level (or the grant's own rights for "custom") and a date. */
export function grantBody(level, date, g = {}) {
  const l = levels.find(([k]) => k === level);
  const body = Object.fromEntries(RIGHTS.map((r, i) => [r, l ? l[2][i] : !!g[r]]));
  // A date is "until the end of that day" where the person is.
  body.expiresAt = date ? new Date(`${date}T23:59:59.999`).toISOString() : null;
  return body;
}

/** dateOf is the local yyyy-mm-dd of an ISO time, for a date input ("" for none). */
export function dateOf(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** words is what a failed change of sharing says: a grantor's limits in their own terms. */
export function words(e) {
  const until = e?.details?.fields?.expiresAt;
  if (e?.code === "forbidden" && until) return `Your own access ends ${until.replace(/^.*?(\d{4}-\d\d-\d\d).*$/, "on $1")}: a grant you give must end by then.`;
  return describe(e, {
    forbidden: "You can't give or change rights you don't hold yourself.",
    conflict: "This page is in the trash: restore it before changing who may see it.",
  });
}

function levelSelect(value, label, g) {
  const opts = levels.map(([k, text]) => option(k, text, k === value));
  if (value === "custom") opts.push(option("custom", `Custom (${RIGHTS.filter((r) => g[r]).map((r) => r.slice(3).toLowerCase()).join(", ")})`, true));
  return h("select", { "aria-label": label }, opts);
}

/** openShare shows the sharing dialog of page (the reader holds share on it); closed, the focus goes back to opener. */
export function openShare({ api, store }, page, opener) {
  const path = uri`/api/pages/${page.id}`;
  const err = errorBox();
  const priv = h("input", { type: "checkbox", role: "switch", id: "share-private", checked: !!page.isPrivate });
  on(priv, "change", async () => {
    err.show("");
    try {
      const p = await busy(dialog, () => api.call("PATCH", path, { isPrivate: priv.checked }));
      if (store.state.page?.id === p.id) store.set({ page: p }); // ahead of the event
      announce(priv.checked ? "The page is private." : "The page is visible to the drive's members.");
    } catch (e) {
      priv.checked = !priv.checked; // the page is as it was
      err.show(words(e));
    }
  });
  const list = h("ul", { class: "grants", role: "list", "aria-label": "People with a grant" });
  const add = addForm({ api, store }, page, path);
  const close = button("btn", "Close", () => dialog.close());
  const dialog = h("dialog", { class: "share-dialog", "aria-labelledby": "share-title" },
    div("share-head", h("h2", { id: "share-title" }, `Share “${page.title}”`), close),
    err,
    div("switch-row", priv, h("label", { for: "share-private" }, h("strong", {}, "Private"),
      span("hint", "Only the drive's owner and admins, and the people below, can see this page and the pages inside it."))),
    h("h3", {}, "People with a grant"), list, add.el,
    para("hint", "Owners and admins can see and change every page; a grant cannot lower them."));

  let shown = null;
  let shownMembers = null;
  function render(s) {
    if (!dialog.isConnected) return stop();
    if (!s.page || s.page.id !== page.id) return dialog.close(); // the page is gone from view
    if (!!s.page.isPrivate !== priv.checked && !dialog.hasAttribute("aria-busy")) priv.checked = !!s.page.isPrivate;
    const g = s.grants;
    if (g === shown && s.members === shownMembers) return;
    shown = g;
    shownMembers = s.members;
    add.render(g ? g.list : null);
    if (!g || !g.list) return replace(list, h("li", { class: "muted" }, g?.error ? describe(g.error) : "Loading…"));
    if (g.list.length === 0) return replace(list, h("li", { class: "muted" }, "Nobody has a grant on this page yet."));
    const focused = list.contains(document.activeElement) && document.activeElement.getAttribute("aria-label");
    replace(list, g.list.map((x) => grantRow({ api, store }, page, path, x)));
    const again = focused && [...list.querySelectorAll("[aria-label]")].find((e) => e.getAttribute("aria-label") === focused);
    if (again) again.focus();
  }
  const unsub = store.subscribe(render);
  function stop() {
    unsub();
    if (store.state.grants?.pageId === page.id) store.set({ grants: null });
  }
  on(dialog, "close", () => {
    stop();
    dialog.remove();
  });
  on(dialog, "close", () => opener?.isConnected && opener.focus());
  document.body.append(dialog);
  store.set({ grants: { pageId: page.id, list: null } });
  render(store.state);
  dialog.showModal();
  priv.focus();
  store.refetch.grants(page.id).catch((e) => {
    if (store.state.grants?.pageId === page.id) store.set({ grants: { pageId: page.id, error: e } });
  });
  if (store.state.members === null && store.state.driveId) store.refetch.members(store.state.driveId);
  return dialog;
}

function grantRow({ api, store }, page, path, g) {
  const err = errorBox();
  const who = `${g.name}`;
  const level = levelSelect(levelOf(g), `What ${who} may do`, g);
  const until = h("input", { type: "date", value: dateOf(g.expiresAt), "aria-label": `${who}'s access ends on (empty: never)` });
  const expired = g.expiresAt && Date.parse(g.expiresAt) <= Date.now();
  const remove = button("btn danger-text", "Remove", { "aria-label": `Remove ${who}'s grant` });
  const row = h("li", { class: "grant" },
    avatar(g.userId, g.name),
    span("who", h("strong", {}, g.name), span("muted", g.email || ""),
      expired ? span("chip expired", "expired") : null),
    span("grant-edit", level, h("span", { class: "until", "aria-hidden": "true" }, "until"), until, remove), err);
  const userPath = path + uri`/permissions/${g.userId}`;
  const save = async () => {
    err.show("");
    try {
      await busy(row, () => api.call("PUT", userPath, grantBody(level.value, until.value, g)));
      announce(`Saved ${who}'s access.`);
      await store.refetch.grants(page.id);
    } catch (e) {
      err.show(words(e)); // the row keeps what was chosen: change it again to retry
    }
  };
  on(level, "change", save);
  on(until, "change", save);
  on(remove, "click", async () => {
    err.show("");
    try {
      await busy(row, () => api.call("DELETE", userPath));
      announce(`Removed ${who}'s grant.`);
      await store.refetch.grants(page.id);
    } catch (e) {
      err.show(words(e));
    }
  });
  return row;
}

function addForm({ api, store }, page, path) {
  const person = h("select", { name: "userId" });
  const who = field({ label: "Person", control: person });
  const lvl = field({ label: "Access", control: levelSelect("view", null, {}) });
  const until = field({ label: "Until (optional)", type: "date", name: "expiresAt" });
  const err = errorBox();
  const note = para("hint");
  const form = h("form", { class: "inline-form grant-add", "aria-label": "Give someone access" }, who, lvl, until,
    submitButton("Add"));
  const el = h("section", { class: "stack", "aria-labelledby": "grant-add-title" }, h("h3", { id: "grant-add-title" }, "Add a person"), err, note, form);
  let granted = [];
  onSubmit(form, async (e) => {
    err.show("");
    if (!person.value) return err.show("Pick the person to give access to.");
    try {
      await busy(form, () => api.call("PUT", path + uri`/permissions/${person.value}`, grantBody(lvl.input.value, until.input.value)));
      announce("Access given.");
      until.input.value = "";
      await store.refetch.grants(page.id);
    } catch (e2) {
      err.show(words(e2)); // the form keeps the person, the access and the date
    }
  });
  function render(list) {
    if (list) granted = list.map((g) => g.userId);
    const m = store.state.members;
    const me = api.user() && api.user().id;
    // Owners and admins see everything already: a grant would change nothing for them.
    const can = m?.list ? m.list.filter((x) => x.userId !== me && !granted.includes(x.userId) && x.role !== "OWNER" && x.role !== "ADMIN") : [];
    const keep = person.value;
    replace(person, can.map((x) => option(x.userId, `${x.name} (${x.kind === "agent" ? "agent" : x.email})`, x.userId === keep)));
    form.hidden = can.length === 0;
    note.textContent = m?.error ? "Only the drive's members can add people here; you can change the grants above."
      : m && can.length === 0 ? "Every member who could be given access has a grant already." : "";
  }
  return { el, render };
}
