// views/agents.js: a drive's agents (/d/<id>/agents) for its owner and admins: programs that work
// in the drive with API keys of their own (docs/agents.md). Create one (its key is shown once, in
// a dialog), give it more keys, revoke keys, change its role, remove it. The list renders from the
// store (state.agents): others' changes to agents arrive with the member events (live.js); keys
// have no event of their own, so the list is read again when the window gets the focus back.

import { div, span, para, on, h, replace, field, errorBox, busy, announce, confirmInline, ago, avatar, button, submitButton, onSubmit, setTitle } from "../dom.js";
import { describe } from "../errors.js";
import { paths, uri } from "../router.js";
import { driveOrNotFound, loading, heading, focusHeading } from "./drive.js";
import { roleOptions, roleSelect, mayManage } from "./members.js";

const ONLY = "Only the drive's owner and admins manage its agents.";
const words = (e) => describe(e, { forbidden: ONLY, not_found: "Someone removed it meanwhile." });

/** keyText is a key's dates in words: "created 5 minutes ago, last used just now" (or "never used"). */
export function keyText(k, now) {
  return `created ${ago(k.createdAt, now)}, ${k.lastUsedAt ? `last used ${ago(k.lastUsedAt, now)}` : "never used"}`;
}

/** curl is a command that posts a message as the agent of token in the channel (a placeholder without one). */
export function curl(origin, token, channelId) {
  return `curl ${origin}${uri`/api/pages/${channelId || "CHANNEL_ID"}/messages`} \\
  -H "Authorization: Bearer ${token}" \\
  -H "Content-Type: application/json" \\
  -d '{"content":"Hello from an agent"}'`;
}

const focusId = (id) => document.getElementById(id)?.focus();

/**
 * showKey shows a key just made, once: a dialog with the key to copy, the warning that it will not
 * be shown again, and a curl command that uses it. Closed, it gives the focus to element backId.
 */
function showKey({ store }, name, token, backId) {
  const input = h("input", { id: "agent-key", readonly: true, value: token });
  const status = h("p", { class: "hint", role: "status" });
  const copy = button("btn primary", "Copy key", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(token);
      status.textContent = "Copied.";
    } catch {
      status.textContent = "Press Ctrl+C to copy the selected key.";
    }
  });
  const channel = (store.state.pages || []).find((p) => p.type === "CHANNEL");
  const dialog = h("dialog", { class: "share-dialog", "aria-labelledby": "key-title" },
    h("h2", { id: "key-title" }, `The key of ${name}`),
    para("warn", "Copy it now: it will not be shown again. If it is lost, give the agent a new key and revoke this one."),
    h("label", { for: "agent-key" }, "API key"), div("key-copy", input, copy), status,
    h("h3", {}, `To try it, post in ${channel ? `“${channel.title}”` : "a channel"}:`),
    h("pre", { class: "curl" }, curl(location.origin, token, channel?.id)),
    div("row", button("btn", "Done", () => dialog.close())));
  on(dialog, "close", () => {
    dialog.remove();
    focusId(backId);
  });
  document.body.append(dialog);
  dialog.showModal();
  copy.focus();
}

function keyRow(ctx, driveId, a, k) {
  const revoke = button("btn danger-text", "Revoke…", { "aria-label": `Revoke key ${k.prefix}…` });
  on(revoke, "click", () => confirmInline(revoke, `Revoke key ${k.prefix}…? Programs using it are refused from now on.`, "Revoke key", async () => {
    await ctx.api.call("DELETE", uri`/api/drives/${driveId}/agents/${a.id}/keys/${k.id}`);
    announce(`Revoked key ${k.prefix}….`);
    await ctx.store.refetch.agents(driveId);
    focusId(`key-${a.id}`);
  }, words));
  return h("li", { class: "key" }, h("code", {}, `${k.prefix}…`), span("muted", keyText(k)), revoke);
}

function agentRow(ctx, drive, a) {
  const { api, store } = ctx;
  const path = uri`/api/drives/${drive.id}/agents/${a.id}`;
  const err = errorBox();
  const newKey = button("btn", "New key", { id: `key-${a.id}`, "aria-label": `New key for ${a.name}` });
  on(newKey, "click", async () => {
    err.show("");
    try {
      const k = await busy(row, () => api.call("POST", `${path}/keys`));
      await store.refetch.agents(drive.id);
      showKey(ctx, a.name, k.token, newKey.id);
    } catch (e) {
      err.show(words(e));
    }
  });
  const rm = button("btn danger-text", "Remove…", { "aria-label": `Remove ${a.name}…` });
  on(rm, "click", () => confirmInline(rm, `Remove ${a.name} for good? Its keys stop working at once; what it wrote stays.`, "Remove agent", async () => {
    await api.call("DELETE", path);
    announce(`Removed ${a.name}.`);
    await store.refetch.agents(drive.id);
    ctx.main.querySelector("h1").focus();
  }, words));
  const row = h("li", { class: "member agent" },
    avatar(a.id, a.name),
    span("who", h("strong", {}, a.name), span("muted", `Agent, created ${ago(a.createdAt)}`)),
    span("row", roleSelect(ctx, drive.id, { ...a, userId: a.id }, err, mayManage(drive.role, a)), rm),
    a.keys.length ? h("ul", { class: "keys", role: "list", "aria-label": `Keys of ${a.name}` }, a.keys.map((k) => keyRow(ctx, drive.id, a, k)))
      : para("keys hint", "No key: it cannot sign in until you give it one."),
    div("keys", newKey), err);
  return row;
}

function createForm(ctx, driveId) {
  const name = field({ label: "Name", name: "name", required: true, maxlength: 100, autocomplete: "off", placeholder: "e.g. Helper" });
  const role = h("select", { name: "role" }, roleOptions("MEMBER"));
  const err = errorBox();
  const form = h("form", { class: "inline-form", "aria-label": "New agent" }, name, field({ label: "Role", control: role }),
    submitButton("Create agent"));
  const submit = form.querySelector("button");
  submit.id = "create-agent";
  onSubmit(form, async () => {
    err.show("");
    const n = name.input.value.trim();
    if (!n) return err.show("Give the agent a name.");
    try {
      const made = await busy(form, () => ctx.api.call("POST", uri`/api/drives/${driveId}/agents`, { name: n, role: role.value }));
      name.input.value = "";
      await ctx.store.refetch.agents(driveId);
      showKey(ctx, made.agent.name, made.token, submit.id);
    } catch (e) {
      err.show(words(e)); // the name and role stay for another try
    }
  });
  return h("section", { class: "panel", "aria-labelledby": "new-agent" }, h("h2", { id: "new-agent" }, "New agent"),
    para("hint", "It gets a key to sign in with, and in this drive the rights of its role; nothing elsewhere."), err, form);
}

/** agentsView shows the agents of a drive and their keys, to its owner and admins. */
export async function agentsView(ctx, driveId) {
  const { store, alive, main } = ctx;
  if (store.state.driveId !== driveId || store.state.agents === null) replace(main, loading("the agents"));
  const drive = await driveOrNotFound(ctx, driveId);
  if (!drive) return;
  if (drive.role === "OWNER" || drive.role === "ADMIN") await store.refetch.agents(driveId);
  if (!alive()) return;
  setTitle("Agents", drive.name);
  const form = createForm(ctx, driveId);
  const list = h("div");
  let shown = null;
  const render = (s) => {
    const d = store.drive(driveId);
    const ag = s.agents?.driveId === driveId ? s.agents : null;
    if (!d || (shown && shown[0] === ag && shown[1] === d.role)) return;
    shown = [ag, d.role];
    const manage = d.role === "OWNER" || d.role === "ADMIN";
    form.hidden = !manage || !ag || !!ag.error;
    const focused = list.contains(document.activeElement) && document.activeElement.id;
    if (!manage) replace(list, para("empty", ONLY));
    else if (!ag) store.refetch.agents(driveId); // the role came back: read them
    else if (ag.error) {
      replace(list, para("form-error", words(ag.error)), button("btn", "Try again", () => busy(list, () => store.refetch.agents(driveId))));
    } else if (ag.list.length === 0) {
      replace(list, para("empty", "No agents yet. ", button("link", "Create one", () => form.querySelector("input").focus()),
        " to let a bot work in this drive with a key of its own."));
    } else replace(list, h("ul", { class: "members", role: "list" }, ag.list.map((a) => agentRow(ctx, d, a))));
    if (focused) focusId(focused);
  };
  const unsub = store.subscribe((s) => (alive() ? render(s) : unsub()));
  // Keys have no events: another admin's new or revoked key shows when the reader comes back.
  const onFocus = () => (alive() ? store.refetch.agents(driveId) : window.removeEventListener("focus", onFocus));
  on(window, "focus", onFocus);
  render(store.state);
  replace(main, div("view", para("crumbs", h("a", { href: paths.drive(driveId) }, drive.name), " · ", h("a", { href: paths.members(driveId) }, "Members")),
    heading("Agents"), list, form));
  focusHeading(main);
}
