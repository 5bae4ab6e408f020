// views/members.js: a drive's members (/d/<id>/members): who they are, their roles and whether
// they are online, idle or offline (drive presence, from the socket); the owner and admins invite
// by email, change roles and remove, and find the agents (views/agents.js, which shares the role
// select); anyone but the owner may leave. Also the sidebar's "Members" link, whose avatars mark
// the members online. Both render from the store, so others' changes show live.

import { option, panel, div, span, para, on, h, replace, field, errorBox, busy, announce, confirmInline, hue, initials, ago, button, submitButton, onSubmit, setTitle, avatar } from "../dom.js";
import { describe } from "../errors.js";
import { paths, parse, uri } from "../router.js";
import { driveOrNotFound, loading, heading, focusHeading } from "./drive.js";

/** ROLES are the roles a member (or an agent) may be given. */
const ROLES = ["ADMIN", "MEMBER", "VIEWER"];
export const roleName = (r) => (r ? r[0] + r.slice(1).toLowerCase() : "Guest");

/** roleOptions are the choices of a role select, with role selected. */
export const roleOptions = (role) => ROLES.map((r) => option(r, roleName(r), r === role));

/**
 * presenceText is a member's presence p in words: "Online · on “Plan”", "Idle · last seen 5
 * minutes ago", "Offline · last seen an hour ago", the open pages' titles from the tree (pages).
 */
export function presenceText(p, pages, now) {
  const titles = (p.pageIds || []).map((id) => (pages || []).find((n) => n.id === id)).filter(Boolean).map((n) => `“${n.title}”`);
  return [p.status[0].toUpperCase() + p.status.slice(1),
    p.status !== "online" && p.lastSeenAt && `last seen ${ago(p.lastSeenAt, now)}`,
    titles.length ? `on ${titles.join(", ")}` : p.pageIds?.length && "on a page"].filter(Boolean).join(" · ");
}

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
  const role = h("select", { name: "role" }, roleOptions("MEMBER"));
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
  return panel("invite-title", "Invite someone",
    para("hint", "They need an account on this server; they see the drive as soon as you invite them."), err, form);
}

/**
 * roleSelect shows the role of member m ({userId, name, role}: a person or an agent) of the drive,
 * as a select that changes it when editable; err shows why a change failed. The members and
 * agents on screen are read again after.
 */
export function roleSelect({ api, store }, driveId, m, err, editable) {
  if (!editable) return span("role", roleName(m.role));
  const sel = h("select", { "aria-label": `Role of ${m.name}`, id: `role-${m.userId}` }, roleOptions(m.role));
  on(sel, "change", async () => {
    err.show("");
    try {
      await busy(sel.parentElement, () => api.call("PATCH", uri`/api/drives/${driveId}/members/${m.userId}`, { role: sel.value }));
      announce(`${m.name} is now ${roleName(sel.value).toLowerCase()}.`);
      await store.refetch.people(driveId);
    } catch (e) {
      sel.value = m.role;
      err.show(words(e));
    }
  });
  return sel;
}

function memberRow(ctx, drive, m, myRole) {
  const { api, store, go, live } = ctx;
  const me = api.user().id === m.userId;
  const path = uri`/api/drives/${drive.id}/members/${m.userId}`;
  const err = errorBox();
  const actions = span("row member-actions");
  const roleEl = roleSelect(ctx, drive.id, m, err, mayManage(myRole, m) || (me && myRole === "ADMIN"));
  if (mayManage(myRole, m) && !me) {
    const rm = button("btn danger-text", "Remove…", { "aria-label": `Remove ${m.name}…` });
    on(rm, "click", () => confirmInline(rm, `Remove ${m.name} from “${drive.name}”? Grants they hold on its pages stay until revoked.`, "Remove", async () => {
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
    span("who", h("strong", {}, m.name, me ? " (you)" : ""), span("muted", m.kind === "agent" ? "Agent" : m.email),
      h("span", { class: "presence", hidden: true, dataset: { user: m.userId } })),
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
  const agents = para("hint", h("a", { href: paths.agents(driveId) }, "Agents and their API keys"));
  const list = h("div");
  let shown = null;
  let dots = null;
  // Presence changes often: it updates the rows' status lines in place (an open select or
  // confirmation stays), and each minute for "last seen".
  const showPresence = (s, force) => {
    const pr = s.conn.status === "connected" && s.presence?.driveId === driveId ? s.presence.byId : null;
    if (!force && dots && dots[0] === pr && dots[1] === s.pages) return;
    dots = [pr, s.pages];
    for (const el of list.querySelectorAll(".presence")) {
      const p = pr && pr[el.dataset.user];
      el.hidden = !p;
      if (p) {
        el.className = `presence ${p.status}`;
        el.textContent = presenceText(p, s.pages);
      }
    }
  };
  const tick = setInterval(() => (alive() ? showPresence(store.state, true) : clearInterval(tick)), 60000);
  const render = (s) => {
    showPresence(s);
    const d = store.drive(driveId);
    if (!d || (shown && shown[0] === s.members && shown[1] === d.role)) return;
    shown = [s.members, d.role];
    const manage = d.role === "OWNER" || d.role === "ADMIN";
    invite.hidden = agents.hidden = !manage;
    const m = s.members?.driveId === driveId ? s.members : null;
    if (!m) return;
    if (m.error) return replace(list, para("form-error", describe(m.error, { forbidden: "Only members of this drive can see who its members are." })));
    replace(list, h("ul", { class: "members", role: "list" }, m.list.map((x) => memberRow(ctx, d, x, d.role))),
      manage ? null : para("hint", "Only the owner and admins can invite people or change roles."));
    showPresence(s, true);
  };
  const unsub = store.subscribe((s) => (alive() ? render(s) : unsub()));
  render(store.state);
  replace(main, div("view", para("crumbs", h("a", { href: paths.drive(driveId) }, drive.name)),
    heading("Members"), list, agents, invite));
  focusHeading(main);
}

/**
 * membersNav is the sidebar's link to the members, with their avatars, online ones first; a dot
 * marks those online (green) and idle (amber).
 */
export function membersNav({ store }) {
  const link = h("a", { class: "members-link", hidden: true });
  let shown = [];
  let asked = null;
  store.subscribe((s) => {
    const d = s.driveId;
    if (d !== asked) asked = null; // another drive, or the same one again later
    const drive = store.drive(d);
    if (drive?.role && s.members === null && !asked) { // a grantee may not list them
      asked = d;
      store.refetch.members(d);
    }
    const pr = s.conn.status === "connected" && s.presence?.driveId === d && s.presence.byId;
    const route = parse(location.pathname);
    const key = [d, s.members, pr, route.name];
    if (key.every((k, i) => k === shown[i])) return;
    shown = key;
    const list = s.members?.driveId === d && s.members.list;
    link.hidden = !list;
    if (!list) return;
    link.href = paths.members(d);
    if (route.name === "members") link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
    const st = (x) => (pr && pr[x.userId] ? pr[x.userId].status : "");
    const rank = { online: 2, idle: 1 };
    const sorted = [...list].sort((a, b) => (rank[st(b)] || 0) - (rank[st(a)] || 0));
    const n = list.filter((x) => st(x) === "online").length;
    replace(link, h("span", {}, "Members"),
      h("span", { class: "member-stack", "aria-hidden": "true" }, sorted.slice(0, 5).map((x) =>
        h("span", { class: `avatar ${hue(x.userId)} ${st(x)}`, title: st(x) ? `${x.name}: ${st(x)}` : x.name }, initials(x.name)))),
      span("visually-hidden", `: ${list.length}${n ? `, ${n} online` : ""}`));
  });
  return link;
}
