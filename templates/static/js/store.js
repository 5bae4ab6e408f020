// store.js: the UI's state and the functions that refetch it. Views render from the state and
// re-render when it changes; they never patch themselves from a server answer. Live updates plug
// in here: a socket handler calls the same refetch functions (or applies an event to the state
// with set), and every view showing that state follows.

import { uri } from "./router.js";

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * withPresence returns the drive presence p ({driveId, byId: {userId: entry}}) with entries (of
 * join_drive's ack or presence_changed) replacing the earlier entries of their members; without p,
 * or for another drive, the entries alone. A member removed (gone) is dropped.
 */
export function withPresence(p, driveId, entries, gone) {
  const byId = p && p.driveId === driveId ? { ...p.byId } : {};
  for (const e of entries || []) byId[e.userId] = e;
  delete byId[gone];
  return { driveId, byId };
}

/** createStore returns a store reading through api (api.js). */
export function createStore(api) {
  const state = {
    user: null,
    drives: null, // [drive] once loaded
    driveId: null, // the drive in view
    pages: null, // the tree listing of driveId: [Node]
    trash: null, // the trash listing of driveId
    page: null, // the open page (a Page), kept current by live events
    channel: null, // the open channel (channel-state.js)
    tasks: null, // the open task list (task-state.js)
    viewers: null, // {pageId, list: [{userId, name}]} of the open page
    members: null, // {driveId, list: [member]} of driveId, or {driveId, error} (a grantee may not list them)
    agents: null, // {driveId, list: [agent with its keys]} of driveId, or {driveId, error}, once the agents view asked
    presence: null, // who is online in the joined drive (withPresence), from the socket
    grants: null, // {pageId, list: [grant]} of the page whose sharing dialog is open
    conn: { status: "connecting", nextTryAt: null, transport: null }, // the socket's state
  };
  const listeners = new Set();

  /**
   * readList reads a list of the drive's (its members, its agents) into state[key], as {driveId,
   * list}, or {driveId, error} when refused (a grantee may not list the members); an answer like
   * the one shown is not stored again, so the view under the reader's focus stays as it is.
   */
  async function readList(key, driveId, read) {
    let v;
    try {
      v = { driveId, list: await read() };
    } catch (error) {
      v = { driveId, error };
    }
    if (driveId === state.driveId && !same(state[key], v)) set({ [key]: v });
    return v;
  }

  function set(patch) {
    Object.assign(state, patch);
    for (const f of listeners) f(state);
  }

  return {
    state,
    set,
    /** subscribe calls f(state) after every change; it returns an unsubscribe. */
    subscribe(f) {
      listeners.add(f);
      return () => listeners.delete(f);
    },
    /** refetch functions: each reads one part of the state from the API and stores it. */
    refetch: {
      async drives() {
        set({ drives: await api.listAll("/api/drives") });
        return state.drives;
      },
      /**
       * pages reads the drive's tree listing. A first load shows the tree as it arrives (the
       * listing comes roots first; a page whose parent has not arrived yet waits for it), and
       * onShown() is called once something is on screen.
       */
      async pages(driveId, onShown = () => {}) {
        let shown = null; // the partial listing on screen during a first load
        const onPage = state.pages === null && driveId === state.driveId ? (part) => {
          if (driveId !== state.driveId || state.pages !== shown) return; // moved on, or an event changed it
          const ids = new Set(part.map((n) => n.id));
          shown = part.filter((n) => n.parentId == null || ids.has(n.parentId));
          set({ pages: shown });
          onShown();
        } : undefined;
        let pages;
        try {
          pages = await api.listAll(uri`/api/drives/${driveId}/pages`, onPage);
        } catch (err) {
          if (shown && state.pages === shown) set({ pages: null }); // half a tree: load it again next time
          throw err;
        }
        // Unchanged (live events got there first): no re-render under the reader's focus.
        if (driveId === state.driveId && !(state.pages && same(state.pages, pages))) set({ pages });
        return pages;
      },
      members: (driveId) => readList("members", driveId, () => api.listAll(uri`/api/drives/${driveId}/members`)),
      /** agents reads the drive's agents with their keys (its owner and admins may). */
      agents: (driveId) => readList("agents", driveId, () => api.call("GET", uri`/api/drives/${driveId}/agents`).then((r) => r.items)),
      /** people reads again the drive's members and agents, those loaded, while the drive is in view. */
      async people(driveId) {
        if (driveId !== state.driveId) return;
        await Promise.all([state.members && this.members(driveId), state.agents && this.agents(driveId)]);
      },
      async grants(pageId) {
        const list = await api.listAll(uri`/api/pages/${pageId}/permissions`);
        if (state.grants && state.grants.pageId === pageId) set({ grants: { pageId, list } });
        return list;
      },
      async trash(driveId) {
        const trash = await api.listAll(uri`/api/drives/${driveId}/trash`);
        if (driveId === state.driveId) set({ trash });
        return trash;
      },
    },
    /**
     * openDrive makes driveId the drive in view, loading its tree when it changes. It returns
     * once the tree is on screen, at least its first part: the rest follows (a large drive).
     */
    async openDrive(driveId) {
      if (state.driveId !== driveId) {
        set({ driveId, pages: null, trash: null, members: null, agents: null });
      }
      if (state.pages !== null) return;
      await new Promise((resolve, reject) => {
        this.refetch.pages(driveId, resolve).then(resolve, (err) => (state.pages === null ? reject(err) : resolve()));
      });
    },
    /** drive returns the drive with id from the loaded list, or null. */
    drive(id) {
      return (state.drives || []).find((d) => d.id === id) || null;
    },
    /** reset forgets everything (sign out). */
    reset() {
      set({ user: null, drives: null, driveId: null, pages: null, trash: null, page: null, channel: null, tasks: null, viewers: null, members: null, agents: null, presence: null, grants: null });
    },
  };
}
