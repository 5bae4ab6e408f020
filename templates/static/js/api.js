// api.js: the REST API for the page, with browser sessions (docs/api.md, "Browser sessions").
//
// The refresh token lives in the httpOnly ps_refresh cookie, which page scripts cannot read; the
// access token lives here, in memory only, and is renewed a minute before it expires (and at
// once when a call answers token_expired). Refreshes are serialised across tabs with the Web
// Locks API: two tabs spending the same refresh token at once would end the session for both
// (the server treats a spent token as stolen). A boolean hint in localStorage says whether this
// browser has signed in, so that a signed-out visit does not start with a failing refresh.

import { ApiError } from "./errors.js";
import { uri } from "./router.js";

const HINT = "pagespace.signedIn";
const LOCK = "pagespace-refresh";

/**
 * createApi returns the API client. Options (tests replace them): fetch, storage (localStorage),
 * locks (navigator.locks), setTimeout/clearTimeout, onSignedOut(reason) called when the session is
 * gone (refresh refused), onSession(session) called with every new access token (the socket will
 * send it as refresh_auth).
 */
export function createApi(opts = {}) {
  const doFetch = opts.fetch || ((...a) => globalThis.fetch(...a));
  const storage = opts.storage !== undefined ? opts.storage : globalThis.localStorage;
  const locks = opts.locks !== undefined ? opts.locks : globalThis.navigator?.locks;
  const setTimer = opts.setTimeout || ((f, ms) => globalThis.setTimeout(f, ms));
  const clearTimer = opts.clearTimeout || ((t) => globalThis.clearTimeout(t));
  const onSignedOut = opts.onSignedOut || (() => {});
  const sessionListeners = new Set();
  if (opts.onSession) sessionListeners.add(opts.onSession);

  let session = null; // {user, accessToken, expiresIn}
  let renewTimer = null;
  let refreshing = null;

  function hint(on) {
    try {
      if (on) storage.setItem(HINT, "1");
      else storage.removeItem(HINT);
    } catch {
      /* storage disabled: every visit tries the cookie */
    }
  }
  function hinted() {
    try {
      return storage.getItem(HINT) === "1";
    } catch {
      return true;
    }
  }

  async function send(method, path, { body, token, cookie } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    if (cookie) headers["X-Auth-Mode"] = "cookie";
    const res = await doFetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    if (res.status === 204) return null;
    let data = null;
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const e = data?.error || {};
      throw new ApiError(res.status, e.code, e.message, e.details);
    }
    return data;
  }

  function adopt(s) {
    session = s;
    hint(true);
    if (renewTimer) clearTimer(renewTimer);
    // A minute before expiry (a fifth of the lifetime for tokens of two minutes or less).
    const secs = Math.max(1, s.expiresIn > 120 ? s.expiresIn - 60 : s.expiresIn * 0.8);
    renewTimer = setTimer(() => {
      refresh().catch(() => {});
    }, secs * 1000);
    for (const f of sessionListeners) f(s);
    return s.user;
  }

  function drop(reason) {
    const had = session !== null;
    session = null;
    hint(false);
    if (renewTimer) clearTimer(renewTimer);
    renewTimer = null;
    if (had && reason) onSignedOut(reason);
  }

  async function refreshNow() {
    try {
      return adopt(await send("POST", "/api/auth/refresh", { cookie: true }));
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 400)) drop(err.code || "signed_out");
      throw err;
    }
  }

  /** refresh renews the access token through the cookie; one at a time, across tabs too. */
  function refresh() {
    if (!refreshing) {
      const run = () => refreshNow();
      refreshing = (locks ? locks.request(LOCK, run) : run()).finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  /** call makes an authenticated call, refreshing once when the access token has expired. */
  async function call(method, path, body) {
    if (!session) await refresh();
    try {
      return await send(method, path, { body, token: session.accessToken });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && (err.code === "token_expired" || err.code === "invalid_token")) {
        await refresh(); // a refused refresh signs out and throws
        return send(method, path, { body, token: session.accessToken });
      }
      throw err;
    }
  }

  /**
   * listAll follows nextCursor to the end of a list. onPage, if given, gets the items so far
   * after every page but the last (to show a long list as it arrives).
   */
  async function listAll(path, onPage) {
    const items = [];
    let cursor = null;
    const sep = path.includes("?") ? "&" : "?";
    do {
      const page = await call("GET", `${path}${sep}limit=200${cursor ? uri`&cursor=${cursor}` : ""}`);
      items.push(...page.items);
      cursor = page.nextCursor;
      if (cursor && onPage) onPage(items.slice());
    } while (cursor);
    return items;
  }

  return {
    call,
    listAll,
    refresh,
    /** user is the signed-in user, or null. */
    user: () => (session ? session.user : null),
    /** accessToken is the current access token (for the socket's auth), or null. */
    accessToken: () => (session ? session.accessToken : null),
    /** onSession registers f(session) for every new access token; it returns an unsubscribe. */
    onSession(f) {
      sessionListeners.add(f);
      return () => sessionListeners.delete(f);
    },
    /** resume signs in with the cookie when this browser has a session; it returns the user or null. */
    async resume() {
      if (!hinted()) return null;
      try {
        return await refresh();
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 400)) return null;
        throw err;
      }
    },
    async signup(fields) {
      return adopt(await send("POST", "/api/auth/signup", { body: fields, cookie: true }));
    },
    async login(fields) {
      return adopt(await send("POST", "/api/auth/login", { body: fields, cookie: true }));
    },
    /** logout ends the session on the server (by the cookie) and here. */
    async logout() {
      try {
        await send("POST", "/api/auth/logout", {});
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 400)) throw err; // 400: no cookie left
      } finally {
        drop(null);
      }
    },
    async deleteAccount(password) {
      await call("DELETE", "/api/auth/me", { password });
      drop(null);
    },
  };
}
