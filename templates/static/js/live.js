// live.js: the socket of the signed-in page (socket.js) and the one place where server events
// become state (store.js). Views tell it what is open (setView); it joins drive:<id> and
// page:<id>, applies events to the store, and after a reconnect the store catches up: the
// replayed events do it when the session was recovered, a refetch of the open views otherwise.
// Streamed messages grow with their deltas (agent-state.js), read again after a gap and after
// every reconnect, since deltas are not replayed; agents' statuses come with the page's join and
// replace those shown.
// When the socket cannot connect at all (the realtime endpoint blocked or failing), the UI goes
// on by REST: the open views are refetched every REST_EVERY ms and when the window gets the
// focus, until the socket connects again.

import { Socket } from "./socket.js";
import { applyPageEvent } from "./tree.js";
import { applyMessageEvent, withPage, withTyping, messagesOf } from "./channel-state.js";
import { createAssembler, withStatus } from "./agent-state.js";
import { applyTaskEvent, withTasks } from "./task-state.js";
import { ApiError } from "./errors.js";
import { withPresence } from "./store.js";
import { uri } from "./router.js";

const TYPING_TTL = 7000; // a typing mark without news goes by itself (the server stops at 5 s)

/** REST_EVERY is how often (ms) the open views are refetched while the socket cannot connect. */
export const REST_EVERY = 10000;

// REST_AFTER is how many attempts in a row the socket fails before the views are refetched by
// REST: a blip (a server restart) reconnects and recovers before that.
const REST_AFTER = 2;

/**
 * createLive returns the live connection of the page. onPageGone(pageId, reason, title) is called
 * once when the open page may no longer be seen (access revoked, trashed or deleted);
 * onDriveGone(driveId) when the open drive may no longer be seen.
 */
export function createLive({ api, store, onPageGone, onDriveGone }) {
  let socket = null;
  let view = { driveId: null, pageId: null };
  let joined = { driveId: null, pageId: null };
  let everConnected = false;
  const typingTimers = new Map();
  const unsubs = [];

  const me = () => (api.user() ? api.user().id : null);

  // Streamed messages of the open channel grow with their deltas, fetched again after a gap.
  const streams = createAssembler({
    get: (id) => messagesOf(store.state.channel).find((m) => m.id === id),
    put: (m) => {
      const ch = store.state.channel;
      if (ch?.pageId === m.pageId) store.set({ channel: applyMessageEvent(ch, "message_updated", { message: m }) });
    },
    fetch: (m) => api.call("GET", uri`/api/pages/${m.pageId}/messages/${m.id}`),
  });

  /** withAgents applies f to the open channel's agent statuses, when it is pageId. */
  function withAgents(pageId, f) {
    const ch = store.state.channel;
    if (ch?.pageId === pageId) store.set({ channel: { ...ch, agents: f(ch.agents) } });
  }

  function join(kind, id) {
    if (!socket || !id) return;
    const ev = kind === "page" ? "join_page" : "join_drive";
    socket.timeout(15000).emitWithAck(ev, id).then((ack) => {
      if (!ack || !ack.ok) {
        if (kind === "page" && view.pageId === id && ack?.error && (ack.error.code === "not_found" || ack.error.code === "forbidden")) {
          pageGone(id, "permission_changed");
        }
        return;
      }
      if (kind === "page" && view.pageId === id) {
        store.set({ viewers: { pageId: id, list: ack.viewers || [] } });
        // The ack's statuses are current: they replace those shown.
        withAgents(id, () => (ack.agentStatuses || []).reduce((all, st) => withStatus(all, st), {}));
      }
      if (kind === "drive" && view.driveId === id && ack.members) store.set({ presence: withPresence(null, id, ack.members) });
    }).catch(() => {}); // dropped with the connection: the reconnect rejoins or recovers
  }

  function leave(kind, id) {
    if (!socket || !id || !socket.connected) return;
    socket.emit(kind === "page" ? "leave_page" : "leave_drive", id);
  }

  // syncRooms joins and leaves rooms to match the view. Only while connected: the connect
  // handler brings the rooms up to date (all of them on a new session, the difference on a
  // recovered one, whose rooms the server restored).
  function syncRooms(force = false) {
    if (!socket || !socket.connected) return;
    if (force || joined.driveId !== view.driveId) {
      if (!force) leave("drive", joined.driveId);
      join("drive", view.driveId);
    }
    if (force || joined.pageId !== view.pageId) {
      if (!force) leave("page", joined.pageId);
      join("page", view.pageId);
    }
    joined = { ...view };
  }

  const leaving = new Set(); // pages the reader is trashing: their own view takes them away

  function pageGone(pageId, reason) {
    if (view.pageId !== pageId) return;
    const open = store.state.page;
    const title = open?.id === pageId ? open.title : null;
    view = { ...view, pageId: null };
    joined = { ...joined, pageId: null };
    store.set({ viewers: null, channel: null, tasks: null, page: null });
    if (!leaving.has(pageId)) onPageGone(pageId, reason, title);
  }

  /** refreshPage reads the open page again (its access may have changed); a 404 is a lost page. */
  function refreshPage() {
    const pageId = view.pageId;
    if (!pageId) return Promise.resolve();
    return api.call("GET", uri`/api/pages/${pageId}`).then((page) => {
      if (view.pageId === pageId) store.set({ page });
    }, (err) => {
      if (err instanceof ApiError && err.status === 404) pageGone(pageId, "permission_changed");
    });
  }

  /**
   * catchUp refetches what is open: after a reconnect that did not recover the session, and
   * while the socket cannot connect. It reports whether the server answered.
   */
  async function catchUp() {
    const s = store.state;
    const jobs = [store.refetch.drives()];
    if (s.driveId) jobs.push(store.refetch.pages(s.driveId));
    if (s.driveId && s.trash !== null) jobs.push(store.refetch.trash(s.driveId));
    if (s.driveId) jobs.push(store.refetch.people(s.driveId));
    if (s.grants) jobs.push(store.refetch.grants(s.grants.pageId));
    const pageId = view.pageId;
    if (pageId) {
      jobs.push(refreshPage());
      const ch = s.channel;
      if (ch?.pageId === pageId && ch.items !== null) {
        jobs.push(api.call("GET", uri`/api/pages/${pageId}/messages?limit=50`).then((page) => {
          const now = store.state.channel;
          if (now?.pageId === pageId) store.set({ channel: withPage(now, page, { fresh: true }) });
        }));
      }
      if (s.tasks?.pageId === pageId && s.tasks.items !== null) {
        jobs.push(api.listAll(uri`/api/pages/${pageId}/tasks`).then((items) => {
          const now = store.state.tasks;
          if (now?.pageId === pageId) store.set({ tasks: withTasks(now, items) });
        }));
      }
    }
    const [drives] = await Promise.allSettled(jobs);
    return drives.status === "fulfilled";
  }

  // REST mode: {timer, ok (the last refetch got answers), busy} while the socket cannot connect.
  let rest = null;

  function publishConn() {
    if (!socket) return;
    const st = socket.state;
    store.set({ conn: { status: st.status, nextTryAt: st.nextTryAt, transport: st.transport, recovered: socket.recovered, rest: !!rest?.ok } });
  }

  async function restPoll() {
    const r = rest;
    if (!r || r.busy || document.visibilityState === "hidden") return;
    r.busy = true;
    const ok = await catchUp();
    r.busy = false;
    if (rest !== r) return;
    if (ok !== r.ok) {
      r.ok = ok;
      publishConn();
    }
  }
  const restNow = () => restPoll();

  function restStart() {
    if (rest) return;
    rest = { timer: setInterval(restPoll, REST_EVERY), ok: false, busy: false };
    window.addEventListener("focus", restNow);
    document.addEventListener("visibilitychange", restNow);
    restPoll();
  }

  /** restStop leaves REST mode; it reports whether it was on. */
  function restStop() {
    if (!rest) return false;
    clearInterval(rest.timer);
    rest = null;
    window.removeEventListener("focus", restNow);
    document.removeEventListener("visibilitychange", restNow);
    return true;
  }

  function onPageEvent(type, p) {
    const s = store.state;
    if (p.driveId === s.driveId && s.pages !== null) {
      const next = applyPageEvent(s.pages, type, p);
      if (next === null) store.refetch.pages(s.driveId).catch(() => {});
      else store.set({ pages: next });
      if (s.trash !== null && (type === "page_deleted" || type === "page_restored")) store.refetch.trash(s.driveId).catch(() => {});
    }
    const open = view.pageId;
    if (!open) return;
    if (type === "page_deleted" && (p.pageIds || [p.pageId]).includes(open)) {
      pageGone(open, p.permanent ? "page_deleted_permanently" : "page_deleted");
    } else if ((type === "page_updated" || type === "page_moved") && p.pageId === open && s.page?.id === open) {
      store.set({ page: { ...s.page, ...p.page } });
    }
  }

  function onRevoked({ room, reason }) {
    const [kind, id] = String(room).split(/:(.*)/s);
    const s = store.state;
    if (kind === "page") {
      // Only that page: the server says so for each page lost, and a page below it that is still
      // visible (by a grant) stays, at the top of the tree as the server shows it (detached).
      if (s.pages !== null && s.pages.some((n) => n.id === id)) store.set({ pages: s.pages.filter((n) => n.id !== id) });
      pageGone(id, reason);
    } else if (kind === "drive") {
      if (joined.driveId === id) joined = { ...joined, driveId: null };
      store.refetch.drives().catch(() => {});
      if (view.driveId === id) {
        if (view.pageId) pageGone(view.pageId, reason);
        onDriveGone(id, reason);
      }
    } else if (kind === "user" && reason === "token_expired") {
      // The server disconnects a socket whose token expired: come back with a fresh one.
      api.refresh().then(() => socket?.connect(), () => {});
    }
  }

  function onTyping(p, typing) {
    const ch = store.state.channel;
    if (!ch || ch.pageId !== p.pageId || p.userId === me()) return;
    clearTimeout(typingTimers.get(p.userId));
    if (typing) {
      typingTimers.set(p.userId, setTimeout(() => onTyping(p, false), TYPING_TTL));
    } else {
      typingTimers.delete(p.userId);
    }
    store.set({ channel: withTyping(ch, p.userId, typing ? p.name || "Someone" : null) });
  }

  function onPresence(p, gone) {
    const pr = store.state.presence;
    if (pr?.driveId === p.driveId) store.set({ presence: withPresence(pr, p.driveId, p.members, gone) });
  }

  // Activity: the first input after a quiet minute tells the server the reader is not idle.
  let pinged = 0;
  const ping = () => {
    if (socket?.connected && Date.now() - pinged >= 60000) {
      pinged = Date.now();
      socket.emit("activity");
    }
  };

  function wire(s) {
    s.on("state", (st) => {
      if (s !== socket) return;
      if (st.status !== "connected" && st.attempt >= REST_AFTER) restStart();
      publishConn();
    });
    s.on("connect", () => {
      const first = !everConnected;
      everConnected = true;
      const wasRest = restStop();
      publishConn();
      // Statuses changed while away are not replayed: those that hold come again (as events
      // right after a recovered connect, or in the join acks). Deltas are not replayed either.
      withAgents(view.pageId, () => ({}));
      for (const m of messagesOf(store.state.channel)) if (m.status === "streaming") streams.refetch(m);
      if (s.recovered) {
        const d = joined.driveId;
        syncRooms(); // rooms restored and missed events replayed: only what changed meanwhile
        if (d && d === view.driveId) join("drive", d); // presence is not replayed: its ack has it now
        return;
      }
      syncRooms(true);
      if (!first || wasRest) catchUp();
    });
    s.on("connect_error", (err) => {
      const code = err?.data?.code;
      if (code === "token_expired" || code === "invalid_token") {
        api.refresh().then(() => s.connect(), () => {}); // a refused refresh signs out
      }
    });
    // The socket's token is about to expire. The API client renews its token before then by
    // itself (and onSession hands the new one over); when it already has, hand that one over now.
    // Refreshing here as well would renew twice, or, with tokens shorter than the server's
    // one-minute notice, in a loop.
    s.on("auth_expiring", () => {
      const t = api.accessToken();
      if (t && t !== socketToken) sendToken(t);
    });
    for (const t of ["page_created", "page_updated", "page_moved", "page_deleted", "page_restored"]) s.on(t, (p) => onPageEvent(t, p));
    for (const t of ["drive_created", "drive_updated", "drive_deleted", "member_added", "member_removed", "member_role_changed"]) {
      s.on(t, (p) => {
        store.refetch.drives().then(() => {
          if (view.driveId && view.driveId === p.driveId && !store.drive(view.driveId)) onDriveGone(view.driveId, t);
        }, () => {});
        if (!t.startsWith("member_")) return;
        if (t === "member_removed") onPresence({ driveId: p.driveId }, p.userId);
        if (p.driveId && p.driveId === store.state.driveId) {
          store.refetch.pages(p.driveId).catch(() => {});
          store.refetch.people(p.driveId);
        }
        if (p.userId === me()) refreshPage(); // the open page's rights follow the role
      });
    }
    // An account deleted, or an agent removed: it leaves the drives' members (and agents).
    s.on("user_deleted", (p) => {
      const d = store.state.driveId;
      if (!(p.driveIds || []).includes(d)) return;
      onPresence({ driveId: d }, p.userId);
      store.refetch.people(d);
    });
    // Grants: a sharer's dialog follows; the grantee's drives, tree and open page follow.
    for (const t of ["permission_granted", "permission_revoked"]) {
      s.on(t, (p) => {
        const g = store.state.grants;
        if (g?.pageId === p.pageId) store.refetch.grants(p.pageId).catch(() => {});
        if (p.userId !== me()) return;
        store.refetch.drives().catch(() => {});
        if (p.driveId === store.state.driveId) store.refetch.pages(p.driveId).catch(() => {});
        refreshPage();
      });
    }
    s.on("access_revoked", onRevoked);
    for (const t of ["new_message", "message_updated", "message_deleted"]) {
      s.on(t, (p) => {
        const ch = store.state.channel;
        if (!ch) return;
        if (t === "new_message" && p.message?.author) onTyping({ pageId: p.pageId, userId: p.message.author.id }, false);
        const next = applyMessageEvent(store.state.channel, t, p);
        if (next !== store.state.channel) store.set({ channel: next, lastEvent: { type: t, message: p.message } });
      });
    }
    for (const t of ["task_created", "task_updated", "task_completed", "task_deleted"]) {
      s.on(t, (p) => {
        const ts = store.state.tasks;
        if (ts) store.set({ tasks: applyTaskEvent(ts, t, p), lastEvent: { type: t, task: p.task, actorId: p.actorId } });
      });
    }
    s.on("message_delta", (d) => streams.delta(d)); // of a message of the open channel
    s.on("agent_status", (p) => withAgents(p.pageId, (all) => withStatus(all, p)));
    s.on("agent_status_cleared", (p) => withAgents(p.pageId, (all) => withStatus(all, p, true)));
    s.on("user_typing", (p) => onTyping(p, true));
    s.on("user_stopped_typing", (p) => onTyping(p, false));
    s.on("presence_changed", (p) => onPresence(p));
    s.on("viewers_updated", (p) => {
      if (p.pageId === view.pageId) store.set({ viewers: { pageId: p.pageId, list: p.viewers || [] } });
    });
  }

  let socketToken = null; // the token the server holds for this socket

  function sendToken(token) {
    if (!socket || !socket.connected) return;
    socketToken = token;
    socket.emit("refresh_auth", { token });
  }

  const online = () => socket?.connect();
  // The browser knows the network is gone: an open WebSocket would only notice at the next
  // missed ping, half a minute later. Close the transport now (as a drop, not a disconnect), so
  // the indicator tells the truth and the socket retries, and recovers, once the network is back.
  const offline = () => {
    if (socket?.engine) socket.engine.close();
  };

  return {
    /** start opens the socket (signed in). */
    start() {
      if (socket) return;
      socket = new Socket(location.origin, {
        auth: (cb) => {
          socketToken = api.accessToken();
          cb({ token: socketToken || "" });
        },
      });
      wire(socket);
      publishConn();
      // A new access token goes to the server on the live socket (refresh_auth).
      unsubs.push(api.onSession((sess) => {
        sendToken(sess.accessToken);
      }));
      window.addEventListener("online", online);
      window.addEventListener("offline", offline);
      window.addEventListener("keydown", ping, true);
      window.addEventListener("pointerdown", ping, true);
    },
    /** stop closes the socket (signed out). */
    stop() {
      if (!socket) return;
      const s = socket;
      socket = null; // first: its last state change is no news
      restStop();
      s.disconnect();
      store.set({ conn: { status: "offline", nextTryAt: null, transport: null, rest: false } });
      for (const u of unsubs.splice(0)) u();
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      window.removeEventListener("keydown", ping, true);
      window.removeEventListener("pointerdown", ping, true);
      view = { driveId: null, pageId: null };
      joined = { driveId: null, pageId: null };
      everConnected = false;
    },
    /** setView says which drive and page are on screen (null for none); rooms follow. */
    setView({ driveId = null, pageId = null } = {}) {
      if (view.pageId !== pageId) store.set({ viewers: null, ...(pageId ? {} : { page: null, channel: null, tasks: null }) });
      view = { driveId, pageId };
      if (socket) syncRooms();
    },
    /**
     * leavingPage(id, true) says the reader is trashing page id (their view says so and moves
     * on, no notice needed); leavingPage(id, false) when that failed.
     */
    leavingPage(id, on) {
      if (on) leaving.add(id);
      else leaving.delete(id);
    },
    /** emit sends an event when connected (typing is worth nothing later). */
    emitNow(event, arg) {
      if (socket?.connected) socket.emit(event, arg);
    },
    /** transport is the socket (null when signed out), for a document's DocClient. */
    transport: () => socket,
    /** connected reports whether the socket is live. */
    connected: () => !!socket?.connected,
    /** onConnect registers f for every connect; it returns an unsubscribe. */
    onConnect(f) {
      if (!socket) return () => {};
      socket.on("connect", f);
      return () => socket?.off("connect", f);
    },
  };
}
