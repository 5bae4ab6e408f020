// views/members.js: a drive's members (/d/<id>/members): who they are and their roles; the owner
// and admins invite by email, change roles and remove; anyone but the owner may leave. Also the
// sidebar's "Members" link, whose avatars mark the members viewing the open page (the only
// presence the server tells today). Both render from the store, so others' changes show live.

import { h, replace, field, errorBox, busy, announce, confirmInline, hue, initials, button, submitButton, onSubmit, setTitle, avatar } from "../dom.js";
import { describe } from "../errors.js";
import { paths, parse, uri } from "../router.js";
import { driveOrNotFound, loading, heading, focusHeading } from "./drive.js";

const ROLES = ["ADMIN", "MEMBER", "VIEWER"];
export const roleName = (r) => (r ? r[0] + r.slice(1).toLowerCase() : "Guest");

/** mayManage reports whether someone with role me may change or remove member m (not themself). */
export function mayManage(me, m) {
  return m.role !== "OWNER" && (me === "OWNER" || (me === "ADMIN" && m.role !== "ADMIN"));
}

const words = (e) => describe(e, {
  not_found: "No account uses this email. Ask them to sign up, then invite them.",
  conflict: "They are a member already.",
  forbidden: "Only the drive's owner may change or remove an admin.",
});

function inviteForm({ api, store }, driveId) {
  const email = field({ label: "Email", name: "email", type: "email", required: true, autocomplete: "off", placeholder: "name@example.com" });
  const role = h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r, selected: r === "MEMBER" }, roleName(r))));
  const err = errorBox();
  const form = h("form", { class: "inline-form", "aria-label": "Invite a member" }, email, field({ label: "Role", control: role }),
    submitButton("Invite"));
  onSubmit(form, async (e) => {
    err.show("");
    const to = email.input.value.trim();
    if (!to) return err.show("Enter the email of the person to invite.");
    try {
      const m = await busy(form, () => api.call("POST", uri`/api/drives/${driveId}/members`, { email: to, role: role.value }));
      email.input.value = "";
      announce(`${m.name} joined as ${roleName(m.role).toLowerCase()}.`);
      await store.refetch.members(driveId);
    } catch (e2) {
      err.show(words(e2)); // the email and role stay for another try
    }
  });
  return h("section", { class: "panel", "aria-labelledby": "invite-title" }, h("h2", { id: "invite-title" }, "Invite someone"),
    h("p", { class: "hint" }, "They need an account on this server; they see the drive as soon as you invite them."), err, form);
}

function memberRow(ctx, drive, m, myRole) {
  const { api, store, go, live } = ctx;
  const me = api.user().id === m.userId;
  const path = uri`/api/drives/${drive.id}/members/${m.userId}`;
  const err = errorBox();
  const actions = h("span", { class: "row member-actions" });
  let roleEl = h("span", { class: "role" }, roleName(m.role));
  if (mayManage(myRole, m) || (me && myRole === "ADMIN")) {
    roleEl = h("select", { "aria-label": `Role of ${m.name}` }, ROLES.map((r) => h("option", { value: r, selected: r === m.role }, roleName(r))));
    roleEl.addEventListener("change", async () => {
      err.show("");
      try {
        await busy(row, () => api.call("PATCH", path, { role: roleEl.value }));
        announce(`${m.name} is now ${roleName(roleEl.value).toLowerCase()}.`);
        await store.refetch.members(drive.id);
      } catch (e) {
        err.show(words(e));
      }
    });
  }
  if (mayManage(myRole, m) && !me) {
    const rm = button("btn danger-text", "Remove…", { "aria-label": `Remove ${m.name}…` });
    rm.addEventListener("click", () => confirmInline(rm, `Remove ${m.name} from “${drive.name}”? Grants they hold on its pages stay until revoked.`, "Remove", async () => {
      await api.call("DELETE", path);
      announce(`Removed ${m.name}.`);
      await store.refetch.members(drive.id);
    }, words));
    actions.append(rm);
  }
  if (me && m.role !== "OWNER") {
    const leave = button("btn danger-text", "Leave drive…", () => confirmInline(leave, `Leave “${drive.name}”? You lose access to its pages, except those shared with you.`, "Leave drive", async () => {
      live.setView({}); // leaving is no news to the one who leaves
      try {
        await api.call("DELETE", path);
      } catch (e) {
        live.setView({ driveId: drive.id });
        throw e;
      }
      store.set({ driveId: null, pages: null, trash: null, members: null });
      await store.refetch.drives();
      announce(`You left “${drive.name}”.`);
      go("/");
    }, words));
    actions.append(leave);
  }
  const row = h("li", { class: "member" },
    avatar(m.userId, m.name),
    h("span", { class: "who" }, h("strong", {}, m.name, me ? " (you)" : ""), h("span", { class: "muted" }, m.email)),
    roleEl, actions, err);
  return row;
}

/** membersView shows the members of a drive. */
export async function membersView(ctx, driveId) {
  const { store, alive, main } = ctx;
  if (store.state.driveId !== driveId || store.state.members === null) replace(main, loading("the members"));
  const drive = await driveOrNotFound(ctx, driveId);
  if (!drive) return;
  await store.refetch.members(driveId);
  if (!alive()) return;
  setTitle("Members", drive.name);
  const invite = inviteForm(ctx, driveId);
  const list = h("div");
  let shown = null;
  const render = (s) => {
    const d = store.drive(driveId);
    if (!d || (shown && shown[0] === s.members && shown[1] === d.role)) return;
    shown = [s.members, d.role];
    const manage = d.role === "OWNER" || d.role === "ADMIN";
    invite.hidden = !manage;
    const m = s.members && s.members.driveId === driveId ? s.members : null;
    if (!m) return;
    if (m.error) return replace(list, h("p", { class: "form-error" }, describe(m.error, { forbidden: "Only members of this drive can see who its members are." })));
    replace(list, h("ul", { class: "members", role: "list" }, m.list.map((x) => memberRow(ctx, d, x, d.role))),
      manage ? null : h("p", { class: "hint" }, "Only the owner and admins can invite people or change roles."));
  };
  const unsub = store.subscribe((s) => (alive() ? render(s) : unsub()));
  render(store.state);
  replace(main, h("div", { class: "view" }, h("p", { class: "crumbs" }, h("a", { href: paths.drive(driveId) }, drive.name)),
    heading("Members"), list, invite));
  focusHeading(main);
}

/**
 * membersNav is the sidebar's link to the members, with their avatars; a green dot marks those
 * viewing the open page.
 */
export function membersNav({ store, api }) {
  const link = h("a", { class: "members-link", hidden: true });
  let shown = [];
  let asked = null;
  store.subscribe((s) => {
    const d = s.driveId;
    if (d !== asked) asked = null; // another drive, or the same one again later
    const drive = store.drive(d);
    if (drive && drive.role && s.members === null && !asked) { // a grantee may not list them
      asked = d;
      store.refetch.members(d);
    }
    const up = s.conn.status === "connected";
    const route = parse(location.pathname);
    const key = [d, s.members, up && s.viewers, route.name];
    if (key.every((k, i) => k === shown[i])) return;
    shown = key;
    const list = s.members && s.members.driveId === d && s.members.list;
    link.hidden = !list;
    if (!list) return;
    link.href = paths.members(d);
    if (route.name === "members") link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
    const me = api.user() && api.user().id;
    const here = new Set(up && s.viewers ? s.viewers.list.map((v) => v.userId).filter((id) => id !== me) : []);
    const sorted = [...list].sort((a, b) => here.has(b.userId) - here.has(a.userId));
    const n = here.size && sorted.filter((x) => here.has(x.userId)).length;
    replace(link, h("span", {}, "Members"),
      h("span", { class: "member-stack", "aria-hidden": "true" }, sorted.slice(0, 5).map((x) =>
        h("span", { class: `avatar ${hue(x.userId)}${here.has(x.userId) ? " here" : ""}`, title: here.has(x.userId) ? `${x.name}: viewing this page` : x.name }, initials(x.name)))),
      h("span", { class: "visually-hidden" }, `: ${list.length}${n ? `, ${n} viewing this page` : ""}`));
  });
  return link;
}
