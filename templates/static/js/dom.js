// dom.js: small DOM helpers for the views. Text always goes in as text nodes, never as HTML.

import { describe } from "./errors.js";

const props = new Set(["value", "checked", "disabled", "hidden", "selected", "open", "tabIndex", "textContent"]);

/** h creates an element: h("a", {href, class, on: {click}}, "text", child, [more]). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) on(el, ev, fn);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (props.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

/** div, span and para are h with a class only: div("row", child) is h("div", {class: "row"}, child). */
const withClass = (tag) => (cls, ...children) => h(tag, { class: cls }, ...children);
export const div = withClass("div");
export const span = withClass("span");
export const para = withClass("p");

/** panel is a titled section of a view: its h2 (of id) names it. */
export const panel = (id, title, ...children) => h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title), ...children);

/** option is a select's choice: value, the text shown, and whether it is the selected one. */
export const option = (value, text, selected) => h("option", { value, selected }, text);

/** on adds a listener: on(el, "click", fn). */
export const on = (el, type, fn, opts) => el.addEventListener(type, fn, opts);

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** button is a button of class cls; onClick is a click listener, or more attributes for h. */
export function button(cls, label, onClick) {
  const attrs = typeof onClick === "function" ? { on: { click: onClick } } : onClick;
  return h("button", { type: "button", class: cls, ...attrs }, label);
}

/** submitButton is a form's submit button. */
export const submitButton = (label, cls = "btn primary") => h("button", { type: "submit", class: cls }, label);

/** replace puts children in place of el's content. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;

/**
 * field is a labelled input: {label, name, type, value, hint, required, autocomplete, ...}. It
 * returns the wrapper, with .input and .error (the message next to the input).
 */
export function field({ label, hint, control, ...attrs }) {
  const id = `f${++uid}`;
  const input = control || h("input", { id, type: "text", ...attrs });
  input.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  input.setAttribute("aria-describedby", [hintEl?.id, error.id].filter(Boolean).join(" "));
  const wrap = div("field", h("label", { for: id }, label), input, hintEl, error);
  wrap.input = input;
  wrap.error = error;
  return wrap;
}

/** setFieldError shows (or with "" hides) a field's own message. */
export function setFieldError(f, message) {
  f.error.textContent = message || "";
  f.error.hidden = !message;
  if (message) f.input.setAttribute("aria-invalid", "true");
  else f.input.removeAttribute("aria-invalid");
}

/** errorBox is a form's message region; show(text) fills it, show("") hides it, fail(err) describes err in it. */
export function errorBox() {
  const el = h("p", { class: "form-error", role: "alert", hidden: true });
  el.show = (text) => {
    el.textContent = text || "";
    el.hidden = !text;
  };
  el.fail = (e) => el.show(describe(e));
  return el;
}

/**
 * busy runs fn with the form's buttons disabled and aria-busy set, so a double click does not send
 * twice; what the person typed stays in the form whatever happens.
 */
export async function busy(form, fn) {
  const buttons = [...form.querySelectorAll("button")];
  form.setAttribute("aria-busy", "true");
  for (const b of buttons) b.disabled = true;
  try {
    return await fn();
  } finally {
    form.removeAttribute("aria-busy");
    for (const b of buttons) b.disabled = false;
  }
}

/**
 * confirmInline asks in place, after anchor: the question, a red action button and Cancel (which
 * gets the focus). onConfirm runs on the action; its error, if any, shows in the panel (in the words
 * of describeError, errors.js describe by default).
 */
export function confirmInline(anchor, question, actionLabel, onConfirm, describeError = describe) {
  const old = anchor.parentElement.querySelector(":scope > .confirm");
  if (old) old.remove();
  const err = errorBox();
  const cancel = button("btn", "Cancel");
  const action = submitButton(actionLabel, "btn danger");
  const panel = h("form", { class: "confirm", "aria-label": question }, h("p", {}, question), err, div("row", action, cancel));
  on(cancel, "click", () => {
    panel.remove();
    anchor.focus();
  });
  onSubmit(panel, async (e) => {
    try {
      await busy(panel, onConfirm);
      panel.remove();
    } catch (e2) {
      err.show(describeError(e2));
    }
  });
  anchor.after(panel);
  cancel.focus();
  return panel;
}

/** onSubmit handles a form's submit in place of the browser (which would load a page). */
export function onSubmit(form, fn) {
  on(form, "submit", (e) => {
    e.preventDefault();
    fn(e);
  });
}

/** skeleton is the grey lines shown while a list or a view loads. */
export const skeleton = (tag = "div") => h(tag, { class: "skeleton-lines", "aria-hidden": "true" }, h("span"), h("span"), h("span"));

/** setTitle names the view in the window's title: setTitle("Trash", "Team") → "Trash · Team · pagespace". */
export function setTitle(...parts) {
  document.title = [...parts, "pagespace"].join(" · ");
}

/** announce tells screen readers about a change (the page's aria-live region). */
export function announce(text) {
  const el = document.getElementById("announce");
  if (!el) return;
  el.textContent = "";
  // A new text node, even with the same words, is announced again.
  globalThis.setTimeout(() => {
    el.textContent = text;
  }, 50);
}

/** hue is a stable colour class (hue-0 … hue-11) for a user id: avatar, cursor, selection. */
export function hue(id) {
  let x = 0;
  for (const ch of String(id)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return `hue-${x % 12}`;
}

/** avatar is a user's initials on their colour (grey without a user id); hidden from screen readers unless attrs say. */
export function avatar(id, name, attrs = { "aria-hidden": "true" }) {
  return h("span", { class: `avatar ${id ? hue(id) : "hue-11"}`, ...attrs }, initials(name));
}

/** initials of a name, at most two letters. */
export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((p) => [...p][0].toUpperCase()).join("") || "?";
}

/** ago is a relative time in words ("just now", "5 minutes ago", or the date). */
export function ago(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const s = Math.round((now - t) / 1000);
  if (s < 45) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return m === 1 ? "a minute ago" : `${m} minutes ago`;
  const hr = Math.round(m / 60);
  if (hr < 24) return hr === 1 ? "an hour ago" : `${hr} hours ago`;
  return new Date(t).toLocaleDateString();
}

const SVG = "http://www.w3.org/2000/svg";
const iconPaths = {
  FOLDER: "M1.5 3.5h4.5l1.5 1.5h7v8.5h-13z",
  DOCUMENT: "M3.5 1.5h6l3 3v10h-9zM9.5 1.5v3h3M5.5 8.5h5M5.5 11h5",
  CHANNEL: "M6.5 2 5 14M11.5 2 10 14M2.5 5.5h11.5M2 10.5h11.5",
  TASK_LIST: "M2.5 2.5h11v11h-11zM5 8.2l2 2 4-4.2",
};

/** icon is the inline SVG glyph of a page type (decorative: hidden from screen readers). */
export function icon(type) {
  const svg = svgEl("svg", { viewBox: "0 0 16 16", width: 16, height: 16, "aria-hidden": "true", class: "icon" });
  svg.append(svgEl("path", { d: iconPaths[type] || "M4 8h8", fill: "none", stroke: "currentColor", "stroke-width": "1.4", "stroke-linejoin": "round", "stroke-linecap": "round" }));
  return svg;
}

function svgEl(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}
