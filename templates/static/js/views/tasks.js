// views/tasks.js: a TASK_LIST page: add, complete (the circle), edit (title, description, status,
// priority, assignee, due date), delete, reorder by drag (the handle) and by keyboard (Alt+↑/↓ on
// a task), filter by status and assignee. Writes show at once and are confirmed or rolled back
// with a message; the list's state lives in the store (live.js applies the socket's events).

import { option, div, span, para, on, h, replace, field, errorBox, busy, confirmInline, button, submitButton, onSubmit, skeleton, avatar } from "../dom.js";
import { describe } from "../errors.js";
import { uri } from "../router.js";
import { emptyTasks, withTasks, applyTaskEvent, withoutTask, overlaid, matches, placeAt } from "../task-state.js";

const STATUS = { todo: "To do", in_progress: "In progress", done: "Done" };
const PRIORITY = { none: "No priority", low: "Low", medium: "Medium", high: "High", urgent: "Urgent" };
const filters = new Map(); // pageId → {status, assignee}, kept across views
let tempSeq = 0;

const taskPath = (pageId, id) => uri`/api/pages/${pageId}/tasks` + (id ? uri`/${id}` : "");
const select = (options, value, attrs = {}) => h("select", attrs, Object.entries(options).map(([v, text]) => option(v, text, v === value)));
const dueDay = (iso) => (iso ? iso.slice(0, 10) : ""); // a due date is a day, kept as UTC midnight

/** taskView returns the element of the task list page and keeps it live while the view is. */
export function taskView(ctx, page) {
  const { api, store, alive } = ctx;
  const pageId = page.id;
  const me = api.user();
  const canEdit = !!page.access.canEdit;
  if (!store.state.tasks || store.state.tasks.pageId !== pageId) store.set({ tasks: emptyTasks(pageId) });
  if (!filters.has(pageId)) filters.set(pageId, { status: "", assignee: "" });
  const f = filters.get(pageId);
  const overlay = new Map(); // id → [changes of each write on the way], shown over the server's copy
  const memo = new Map();
  const cache = new Map(); // id → {task, busy, el}
  let editing = null; // the task whose editor is open
  let dragging = null; // the task being dragged

  const state = () => (store.state.tasks?.pageId === pageId ? store.state.tasks : null);
  const local = (type, task) => {
    const s = state();
    if (s) store.set({ tasks: applyTaskEvent(s, type, { task }) });
  };
  // The tasks as the reader sees them: the server's, with the reader's writes on the way.
  const items = () => (state() && state().items ? overlaid(state().items, overlay, memo) : []);
  const find = (id) => items().find((t) => t.id === id);

  const announcer = h("div", { class: "visually-hidden", "aria-live": "polite" });
  const say = (text) => replace(announcer, h("p", {}, text));
  const errLine = errorBox();
  const hint = h("p", { id: `move-hint-${pageId}`, class: "visually-hidden" }, "Drag to move, or press Alt+Up or Alt+Down.");
  const list = h("ul", { class: "tasks", "aria-label": `Tasks in ${page.title}` });
  const count = para("muted task-count");

  // Filters.
  const statusF = field({ label: "Status", control: select({ "": "All", open: "Not done", ...STATUS }, f.status) });
  const whoF = field({ label: "Assignee", control: h("select") });
  on(statusF.input, "change", () => { f.status = statusF.input.value; render(); });
  on(whoF.input, "change", () => { f.assignee = whoF.input.value; render(); });
  let whoKey = "";
  function people() {
    const ms = store.state.members;
    const out = new Map((ms?.driveId === page.driveId && ms.list || []).map((m) => [m.userId, m.name]));
    for (const t of items()) if (t.assignee) out.set(t.assignee.id, t.assignee.name);
    if (me && !out.has(me.id)) out.set(me.id, me.name);
    return out;
  }
  function renderWho() {
    const opts = { "": "Anyone", none: "Unassigned", ...Object.fromEntries(people()) };
    const key = JSON.stringify(opts);
    if (key === whoKey) return;
    whoKey = key;
    replace(whoF.input, [...select(opts, f.assignee).children]);
    whoF.input.value = f.assignee;
  }
  const clear = button("btn", "Clear filters", () => {
    f.status = f.assignee = "";
    statusF.input.value = whoF.input.value = "";
    render();
  });
  const filterBar = h("div", { class: "task-filters", role: "group", "aria-label": "Filter tasks" }, statusF, whoF, clear);

  // A write shows at once (over the server's copy) and goes when the one before it on the same
  // task is answered: two in flight at once could commit in the other order. A refusal takes it
  // off the screen with a message.
  const queues = new Map(); // id → the last write's promise
  function write(t, changes, what, request = () => api.call("PATCH", taskPath(pageId, t.id), changes)) {
    overlay.set(t.id, [...(overlay.get(t.id) || []), changes]);
    errLine.show("");
    render();
    const send = async () => {
      try {
        local("task_updated", await request());
      } catch (e) {
        errLine.show(`${what}: ${describe(e)}`);
      }
      const rest = overlay.get(t.id).slice(1);
      if (rest.length) overlay.set(t.id, rest);
      else overlay.delete(t.id);
      if (queues.get(t.id) === done) queues.delete(t.id);
      render();
    };
    const done = (queues.get(t.id) || Promise.resolve()).then(send);
    queues.set(t.id, done);
  }

  function move(t, to) {
    const all = items();
    const shown = all.filter((x) => matches(x, f));
    const { afterId, position } = placeAt(all, shown, t.id, to);
    // The server picks the position (and renumbers the list when no number is left between).
    write(t, position === null ? {} : { position }, `“${t.title}” was not moved`,
      () => api.call("POST", `${taskPath(pageId, t.id)}/move`, { afterId }));
    say(`Moved “${t.title}” to position ${to + 1} of ${shown.length}.`);
  }

  function drag(e, t, li) {
    if (e.button !== 0 || editing) return;
    e.preventDefault();
    const handle = e.currentTarget;
    handle.setPointerCapture(e.pointerId);
    dragging = t.id;
    let to = null;
    li.classList.add("dragging");
    const rows = () => [...list.children].filter((r) => r.classList.contains("task") && r !== li);
    const unmark = () => rows().forEach((r) => r.classList.remove("drop-before", "drop-after"));
    const onMove = (ev) => {
      const rs = rows();
      to = rs.findIndex((r) => { const b = r.getBoundingClientRect(); return ev.clientY < b.top + b.height / 2; });
      if (to < 0) to = rs.length;
      unmark();
      const r = rs[Math.min(to, rs.length - 1)];
      if (r) r.classList.add(to < rs.length ? "drop-before" : "drop-after");
    };
    const end = (ev) => {
      handle.removeEventListener("pointermove", onMove);
      handle.removeEventListener("pointerup", end);
      handle.removeEventListener("pointercancel", end);
      dragging = null;
      li.classList.remove("dragging");
      unmark();
      const now = find(t.id);
      if (ev.type === "pointerup" && now && to !== null && to !== [...list.children].indexOf(li)) move(now, to);
      else render();
    };
    on(handle, "pointermove", onMove);
    on(handle, "pointerup", end);
    on(handle, "pointercancel", end);
  }

  function row(t, isBusy) {
    const done = t.status === "done";
    const li = h("li", { class: `task${done ? " done" : ""}${isBusy ? " pending" : ""}`, dataset: { id: t.id }, "aria-busy": isBusy ? "true" : null });
    const check = h("input", { type: "checkbox", class: "check", checked: done, disabled: !canEdit, "aria-label": `Done: ${t.title}`, dataset: { role: "check" } });
    on(check, "change", () => write(t, { status: check.checked ? "done" : "todo" },
      check.checked ? `“${t.title}” was not marked done` : `“${t.title}” was not reopened`));
    const title = canEdit
      ? button("task-title", t.title, { "aria-expanded": "false", "aria-describedby": hint.id, dataset: { role: "title" }, on: { click: () => openEditor(t, li) } })
      : span("task-title", t.title);
    let handle = null;
    if (canEdit) {
      handle = button("handle", "⠿", { "aria-label": `Move “${t.title}”`, "aria-describedby": hint.id, dataset: { role: "handle" } });
      on(handle, "pointerdown", (e) => drag(e, t, li));
      on(handle, "click", () => say("Press Alt+Up or Alt+Down to move the task, or drag it."));
    }
    li.append(handle || "", check, div("task-main", title,
      t.description ? para("task-desc muted", t.description) : null,
      div("chips", chips(t))));
    return li;
  }

  function openEditor(t, li) {
    if (editing) closeEditor(true);
    editing = t.id;
    const title = field({ label: "Title", value: t.title, required: true, maxlength: 500, autocomplete: "off" });
    const desc = field({ label: "Description", control: h("textarea", { rows: "3", maxlength: "10000" }) });
    desc.input.value = t.description || "";
    const status = field({ label: "Status", control: select(STATUS, t.status) });
    const prio = field({ label: "Priority", control: select(PRIORITY, t.priority) });
    const who = field({ label: "Assignee", control: select({ "": "Unassigned", ...Object.fromEntries(people()) }, t.assigneeId || "") });
    const due = field({ label: "Due date", type: "date", value: dueDay(t.dueDate) });
    const err = errorBox();
    const del = button("btn danger-text", "Delete…", () => confirmInline(del, `Delete “${t.title}”?`, "Delete", async () => {
      await api.call("DELETE", taskPath(pageId, t.id));
      editing = null;
      local("task_deleted", t);
      say(`Deleted “${t.title}”.`);
      addInput.focus();
    }));
    const form = h("form", { class: "task-editor", "aria-label": `Edit “${t.title}”` }, title, desc,
      div("task-fields", status, prio, who, due), err,
      div("row", submitButton("Save"),
        button("btn", "Cancel", () => closeEditor()), del));
    on(form, "keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        closeEditor();
      }
    });
    onSubmit(form, async (e) => {
      err.show("");
      // Only what the reader changed: a field someone else changed meanwhile keeps their value.
      const body = {};
      const text = title.input.value.trim();
      if (!text) return err.show("Give the task a title.");
      if (text !== t.title) body.title = text;
      if (desc.input.value !== (t.description || "")) body.description = desc.input.value;
      if (status.input.value !== t.status) body.status = status.input.value;
      if (prio.input.value !== t.priority) body.priority = prio.input.value;
      if (who.input.value !== (t.assigneeId || "")) body.assigneeId = who.input.value || null;
      if (due.input.value !== dueDay(t.dueDate)) body.dueDate = due.input.value ? `${due.input.value}T00:00:00.000Z` : null;
      if (!Object.keys(body).length) return closeEditor();
      try {
        const res = await busy(form, () => api.call("PATCH", taskPath(pageId, t.id), body));
        local("task_updated", res);
        closeEditor();
        say(`Saved “${res.title}”.`);
      } catch (e2) {
        err.show(describe(e2, { not_found: "This task was deleted meanwhile." }));
      }
    });
    li.classList.add("editing");
    li.querySelector(".task-title").setAttribute("aria-expanded", "true");
    li.append(form);
    title.input.focus();
  }

  function closeEditor(quiet) {
    const id = editing;
    editing = null;
    cache.delete(id);
    render();
    const title = !quiet && list.querySelector(`li[data-id="${CSS.escape(id)}"] .task-title`);
    if (title) title.focus();
  }

  function render() {
    const s = state();
    if (!s) return;
    if (s.items === null) {
      replace(list, skeleton("li"));
      return;
    }
    renderWho();
    if (editing && !find(editing)) {
      editing = null;
      errLine.show("The task you were editing was deleted by someone else.");
    }
    // The task being edited stays on screen even if a change takes it out of the filter.
    const all = items();
    const shown = all.filter((t) => matches(t, f) || t.id === editing);
    const filtered = f.status || f.assignee;
    clear.hidden = !filtered;
    count.textContent = filtered ? `${shown.length} of ${all.length} tasks` : `${all.length} ${all.length === 1 ? "task" : "tasks"}`;
    if (shown.length === 0) {
      cache.clear();
      replace(list, h("li", { class: "empty" }, all.length ? "No tasks match these filters." : canEdit ? "No tasks yet. Add the first one above." : "No tasks yet."));
      return;
    }
    if (list.querySelector(".empty, .skeleton-lines")) replace(list);
    // The focused control, to find again if its task is drawn anew or moved.
    const active = document.activeElement;
    const at = list.contains(active) && active.closest("li.task");
    const back = at && active.dataset.role ? [at.dataset.id, active.dataset.role] : null;
    const want = shown.map((t) => {
      const isBusy = overlay.has(t.id) || t.id.startsWith("new-");
      let c = cache.get(t.id);
      if (!c || (editing !== t.id && dragging !== t.id && (c.task !== t || c.busy !== isBusy))) {
        c = { task: t, busy: isBusy, el: row(t, isBusy) };
        cache.set(t.id, c);
      }
      return c.el;
    });
    const ids = new Set(shown.map((t) => t.id));
    for (const id of cache.keys()) if (!ids.has(id)) cache.delete(id);
    want.forEach((el, i) => {
      if (list.children[i] !== el) list.insertBefore(el, list.children[i] || null);
    });
    while (list.children.length > want.length) list.lastElementChild.remove();
    if (back && document.activeElement !== active) {
      const again = list.querySelector(`li[data-id="${CSS.escape(back[0])}"] [data-role="${back[1]}"]`);
      if (again) again.focus();
    }
  }

  // Alt+↑/↓ on a task moves it one place.
  on(list, "keydown", (e) => {
    if (!canEdit || !e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown") || e.target.closest("form")) return;
    const li = e.target.closest("li.task");
    const t = li && find(li.dataset.id);
    if (!t) return;
    e.preventDefault();
    const shown = items().filter((x) => matches(x, f));
    const to = shown.indexOf(t) + (e.key === "ArrowUp" ? -1 : 1);
    if (to < 0 || to >= shown.length) return say(to < 0 ? "Already at the top." : "Already at the bottom.");
    move(t, to);
  });

  // Adding a task: shown at once, removed with a message (and the title back in the box) if refused.
  let addInput = null;
  let addForm = null;
  if (canEdit) {
    addInput = h("input", { type: "text", name: "title", maxlength: "500", autocomplete: "off", placeholder: "Add a task", "aria-label": "New task title" });
    const addErr = errorBox();
    addForm = h("form", { class: "task-add", "aria-label": "Add a task" }, div("row", addInput, submitButton("Add")), addErr);
    onSubmit(addForm, async (e) => {
      addErr.show("");
      errLine.show("");
      const title = addInput.value.trim();
      if (!title) return addErr.show("Give the task a title.");
      const s = state();
      if (!s || s.items === null) return;
      const last = s.items[s.items.length - 1];
      const now = new Date().toISOString();
      const tmp = { id: `new-${++tempSeq}`, pageId, title, description: "", status: "todo", priority: "none", assigneeId: null, assignee: null,
        dueDate: null, position: last ? Math.floor(last.position) + 1 : 1, createdAt: now, updatedAt: now };
      local("task_created", tmp);
      addInput.value = "";
      try {
        const t = await api.call("POST", taskPath(pageId), { title });
        const st = state();
        if (st) store.set({ tasks: applyTaskEvent(withoutTask(st, tmp.id), "task_created", { task: t }) });
        say(matches(t, f) ? `Added “${t.title}”.` : `Added “${t.title}”; the filters hide it.`);
      } catch (e2) {
        const st = state();
        if (st) store.set({ tasks: withoutTask(st, tmp.id) });
        if (!addInput.value) addInput.value = title;
        addErr.show(`Not added: ${describe(e2)}`);
        addInput.focus();
      }
    });
  }

  // Others' changes are announced: added, completed, deleted (not every edit or move).
  const told = { task_created: "added", task_completed: "completed", task_deleted: "deleted" };
  let lastEvent = store.state.lastEvent;
  const unsub = store.subscribe((st) => {
    if (!alive()) return unsub();
    const ev = st.lastEvent;
    if (ev !== lastEvent && ev?.task?.pageId === pageId && told[ev.type] && (!me || ev.actorId !== me.id)) {
      say(`${people().get(ev.actorId) || "Someone"} ${told[ev.type]} “${ev.task.title}”.`);
    }
    lastEvent = ev;
    render();
  });

  const load = () => {
    errLine.show("");
    api.listAll(taskPath(pageId)).then((items) => {
      const s = state();
      if (s) store.set({ tasks: withTasks(s, items) });
    }, (e) => {
      errLine.show(`The tasks could not be loaded: ${describe(e)}`);
      errLine.append(" ", button("link", "Try again", load));
    });
  };
  if (store.state.tasks.items === null) load();
  // The drive's members may be assigned (kept current by live.js). A guest of the page may not
  // list them: they assign to who is known.
  const drive = store.drive(page.driveId);
  const ms = store.state.members;
  if (drive?.role && !(ms?.driveId === page.driveId)) store.refetch.members(page.driveId);
  render();
  return h("section", { class: "task-list", "aria-label": "Tasks" }, addForm,
    canEdit ? null : para("muted", "You can see these tasks but not change them."),
    div("task-bar", filterBar, count), errLine, list, hint, announcer);
}

/** chips are a task's small marks: in progress, priority, due date (overdue in red), assignee. */
function chips(t) {
  const out = [];
  if (t.status === "in_progress") out.push(span("chip status", "In progress"));
  if (t.priority && t.priority !== "none") out.push(span(`chip prio-${t.priority}`, PRIORITY[t.priority]));
  if (t.dueDate) {
    const day = dueDay(t.dueDate);
    const now = new Date();
    const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
    const late = day < today && t.status !== "done";
    const text = new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC", year: day.slice(0, 4) === today.slice(0, 4) ? undefined : "numeric" });
    out.push(span(`chip due${late ? " late" : ""}`, late ? `Overdue: ${text}` : `Due ${text}`));
  }
  if (t.assignee) {
    out.push(h("span", { class: "chip who", title: t.assignee.name },
      avatar(t.assignee.id, t.assignee.name),
      span("who-name", t.assignee.name)));
  }
  return out;
}
