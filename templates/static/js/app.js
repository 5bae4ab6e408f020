// app.js: the web UI's entry point: boot (sign in through the refresh cookie), the client-side
// router (history.pushState; the server answers every UI path with this shell), the signed-in
// layout (top bar, drive sidebar, main) and the views. Views render from the store (store.js) and
// re-render when it changes.

import { createApi } from "./api.js";
import { createStore } from "./store.js";
import { parse, paths, publicRoute, safeNext } from "./router.js";
import { describe } from "./errors.js";
import { div, span, on, h, replace, errorBox, button, avatar } from "./dom.js";
import { authView, accountView } from "./views/auth.js";
import { homeView, driveView, trashView, pageView, notFoundView } from "./views/drive.js";
import { createSidebar } from "./views/sidebar.js";
import { createLive } from "./live.js";
import { createTopbarLive } from "./views/topbar.js";
import { flushOutboxes } from "./views/channel.js";
import { membersView } from "./views/members.js";

const root = document.getElementById("app");
let notice = ""; // shown once on the next sign-in view (e.g. "your session has ended")

const api = createApi({
  onSignedOut: () => {
    notice = "Your session has ended. Sign in again to continue.";
    store.reset();
    layout = null;
    go(paths.login(location.pathname + location.search), { replace: true });
  },
});
const store = createStore(api);
const live = createLive({
  api, store,
  onPageGone: (pageId, reason, title) => pageGone(pageId, reason, title),
  onDriveGone: (driveId) => {
    const route = parse(location.pathname);
    const shown = route.driveId === driveId || (route.name === "page" && store.state.driveId === driveId);
    if (!shown) return; // the reader has moved on (or deleted the drive themself)
    flashNext("You no longer have access to this drive or its pages.");
    go("/", { replace: true });
  },
});

let flashKeep = false; // the flash survives the next render (it explains a navigation)

function flashNext(text) {
  if (!layout) return;
  layout.flash(text);
  flashKeep = true;
}

/**
 * pageGone takes the reader off a page they may no longer see: its content leaves the screen at
 * once, a notice says why, and the drive view (or the drive list) takes its place.
 */
function pageGone(pageId, reason, title) {
  if (!layout) return;
  const route = parse(location.pathname);
  if (route.name !== "page" || route.pageId !== pageId) return;
  const deleted = reason === "page_deleted" || reason === "page_deleted_permanently";
  const what = title ? `“${title}”` : "This page";
  const text = deleted ? `${what} was moved to the trash or deleted. You are back in its drive.`
    : `You no longer have access to ${title ? what : "this page"}.`;
  renderSeq++; // a render of the page still under way stops writing
  replace(layout.main, div("view", h("h1", { tabindex: "-1" }, deleted ? "Page deleted" : "Access removed"), h("p", {}, text)));
  flashNext(text);
  const driveId = store.state.driveId;
  store.refetch.drives().catch(() => {}).then(() => {
    if (parse(location.pathname).pageId !== pageId) return; // the reader moved on
    flashNext(text);
    go(driveId && store.drive(driveId) ? paths.drive(driveId) : "/", { replace: true });
  });
}

let renderSeq = 0;
let layout = null; // the signed-in layout, built once per sign-in

/** go navigates without a reload; replace does not add a history entry. */
function go(path, { replace: rep = false } = {}) {
  if (path !== location.pathname + location.search) history[rep ? "replaceState" : "pushState"](null, "", path);
  render();
}

function onLinkClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download") || a.origin !== location.origin) return;
  if (a.pathname.startsWith("/api/") || a.pathname.startsWith("/static/")) return;
  e.preventDefault();
  go(a.pathname + a.search);
}

function buildLayout(user) {
  const main = h("main", { id: "main", tabindex: "-1" });
  const menu = h("button", { type: "button", class: "btn menu", "aria-controls": "sidebar", "aria-expanded": "false" },
    h("span", { "aria-hidden": "true" }, "☰"), " Menu");
  const sidebar = createSidebar({ api, store, go });
  const me = h("a", { href: paths.account(), class: "me" });
  const top = createTopbarLive({ store, me: () => api.user() });
  const flashText = h("p", {});
  const flash = h("div", { class: "flash", role: "alert", hidden: true }, flashText,
    button("btn", "Dismiss", () => { flash.hidden = true; main.focus(); }));
  const shell = div("shell",
    h("header", { class: "topbar" }, menu, h("a", { href: "/", class: "brand" }, "pagespace"), span("spacer"), top.viewers, top.conn, me),
    div("layout", sidebar.el, div("main-col", flash, main)));
  const setOpen = (open) => {
    shell.classList.toggle("drawer-open", open);
    menu.setAttribute("aria-expanded", String(open));
  };
  on(menu, "click", () => {
    const open = !shell.classList.contains("drawer-open");
    setOpen(open);
    if (open) sidebar.focus();
  });
  on(main, "click", () => {
    if (shell.classList.contains("drawer-open")) setOpen(false);
  });
  on(shell, "keydown", (e) => {
    if (e.key === "Escape" && shell.classList.contains("drawer-open")) {
      setOpen(false);
      menu.focus();
    }
  });
  const l = {
    shell, main, sidebar,
    setUser(u) {
      replace(me, avatar(u.id, u.name), span("me-name", u.name));
      me.setAttribute("aria-label", `Account: ${u.name}`);
    },
    closeDrawer: () => setOpen(false),
    /** flash shows a notice above the view ("" hides it). */
    flash(text) {
      flashText.textContent = text;
      flash.hidden = !text;
    },
    showSidebar(on) {
      shell.classList.toggle("with-sidebar", on);
      menu.hidden = !on;
    },
  };
  l.setUser(user);
  return l;
}

/** render shows the view of the current URL. A newer render makes an older one stop writing. */
async function render() {
  const seq = ++renderSeq;
  const alive = () => seq === renderSeq;
  const route = parse(location.pathname);
  const user = api.user();
  if (!user && !publicRoute(route)) {
    const here = location.pathname + location.search;
    history.replaceState(null, "", paths.login(route.name === "home" ? "" : here));
    return render();
  }
  if (user && publicRoute(route)) {
    history.replaceState(null, "", safeNext(new URLSearchParams(location.search).get("next")));
    return render();
  }
  root.removeAttribute("aria-busy");
  root.className = "";
  if (!user) {
    live.stop();
    layout = null;
    const shown = notice;
    notice = "";
    replace(root, authView({ mode: route.name, api, store, go, notice: shown }));
    return;
  }
  if (!layout) {
    layout = buildLayout(user);
    replace(root, layout.shell);
    live.start();
    // Messages written offline are sent when the connection is back, whatever view is up.
    live.onConnect(() => flushOutboxes({ api, store }));
  }
  layout.closeDrawer();
  if (flashKeep) flashKeep = false;
  else layout.flash("");
  // Until a page view has loaded its page, no page is open (its room is left, its state cleared).
  live.setView({ driveId: route.driveId || (route.name === "page" ? store.state.driveId : null) });
  const ctx = { api, store, go, alive, main: layout.main, layout, live, rerender: render };
  try {
    switch (route.name) {
      case "home":
        layout.showSidebar(false);
        await homeView(ctx);
        break;
      case "account":
        layout.showSidebar(false);
        await accountView(ctx);
        break;
      case "drive":
        await driveView(ctx, route.driveId);
        break;
      case "trash":
        await trashView(ctx, route.driveId);
        break;
      case "members":
        await membersView(ctx, route.driveId);
        break;
      case "agents": // loaded when first asked for: few visits need it
        await (await import("./views/agents.js")).agentsView(ctx, route.driveId);
        break;
      case "page":
        await pageView(ctx, route.pageId);
        break;
      default:
        layout.showSidebar(false);
        notFoundView(ctx, "There is no page at this address.");
    }
  } catch (err) {
    if (!alive() || !api.user()) return; // signed out meanwhile: onSignedOut took over
    const retry = button("btn", "Try again", () => render());
    const box = errorBox();
    box.fail(err);
    replace(layout.main, div("view", h("h1", { tabindex: "-1" }, "Something went wrong"), box, retry));
  }
}

async function boot() {
  on(document, "click", onLinkClick);
  on(window, "popstate", () => render());
  on(window, "online", () => api.user() && flushOutboxes({ api, store }));
  try {
    store.set({ user: await api.resume() });
  } catch (err) {
    notice = describe(err);
  }
  render();
}

boot();
