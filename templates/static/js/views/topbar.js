// views/topbar.js: the live parts of the top bar: who else is viewing the open page (avatars from
// the join_page ack and viewers_updated) and the connection state (live / reconnecting with the
// next try / offline, or "not live" while the socket cannot connect and the views are refetched
// by REST), both rendered from the store.

import { span, h, replace, avatar } from "../dom.js";

const MAX_AVATARS = 3;

/** connText is the indicator's words for a socket state; now is Date.now(). */
export function connText(conn, now) {
  if (conn.status !== "connected" && conn.rest) return "Not live: refreshing every 10 s";
  switch (conn.status) {
    case "connected":
      return conn.transport === "polling" ? "Live (long-polling)" : "Live";
    case "reconnecting": {
      if (!conn.nextTryAt) return "Reconnecting…";
      const s = Math.max(0, Math.ceil((conn.nextTryAt - now) / 1000));
      return s > 0 ? `Reconnecting in ${s} s` : "Reconnecting…";
    }
    case "connecting":
      return "Connecting…";
    default:
      return "Offline";
  }
}

/** createTopbarLive returns {viewers, conn}: two elements that follow the store. */
export function createTopbarLive({ store, me }) {
  const viewers = h("div", { class: "viewers", role: "group", "aria-label": "Viewers of this page", hidden: true });
  const dot = h("span", { class: "conn-dot", "aria-hidden": "true" });
  const label = span("conn-text");
  const conn = h("div", { class: "conn", role: "status", "aria-live": "polite" }, dot, label);
  let tick = null;
  let lastViewers = null;

  function renderConn() {
    const c = store.state.conn;
    const text = connText(c, Date.now());
    conn.dataset.status = c.status;
    conn.dataset.recovered = String(!!c.recovered); // how the last connect caught up (tests read it)
    conn.dataset.rest = String(c.status !== "connected" && !!c.rest);
    if (label.textContent !== text) label.textContent = text;
    conn.title = c.status === "connected" ? "Changes by others appear as they happen" :
      c.rest ? "The live connection can't be made: what you write is saved as usual, and others' changes show when the page refreshes" :
        c.status === "offline" || c.status === "reconnecting" ? "Offline: what you write is kept and sent when the connection is back" : "";
    conn.setAttribute("aria-label", `Connection: ${text}`);
    // Count the seconds down while waiting for the next try.
    if (c.status === "reconnecting" && c.nextTryAt && !tick) tick = setInterval(renderConn, 500);
    if (c.status !== "reconnecting" && tick) {
      clearInterval(tick);
      tick = null;
    }
  }

  let lastLive = null;

  function renderViewers() {
    // Who is here is only known while connected: offline, the avatars would be a guess.
    const up = store.state.conn.status === "connected";
    const v = up ? store.state.viewers : null;
    if (v === lastViewers && up === lastLive) return;
    lastViewers = v;
    lastLive = up;
    const self = me() ? me().id : null;
    const others = v ? v.list.filter((x) => x.userId !== self) : [];
    viewers.hidden = others.length === 0;
    const shown = others.slice(0, MAX_AVATARS);
    const rest = others.length - shown.length;
    viewers.setAttribute("aria-label", `Also viewing: ${others.map((x) => x.name).join(", ")}`);
    replace(viewers, shown.map((x) => avatar(x.userId, x.name, { title: x.name, role: "img", "aria-label": x.name })),
      rest > 0 ? h("span", { class: "avatar more", title: others.slice(MAX_AVATARS).map((x) => x.name).join(", "), role: "img", "aria-label": `and ${rest} more` }, `+${rest}`) : null);
  }

  store.subscribe(() => {
    renderConn();
    renderViewers();
  });
  renderConn();
  renderViewers();
  return { viewers, conn };
}
