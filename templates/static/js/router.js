// router.js: the UI's paths, parsed and built. The server answers every one of them with the app
// shell (templates.UIPaths), so deep links and reloads land here.

const ID = "([^/]+)";
const routes = [
  ["home", /^\/$/],
  ["login", /^\/login$/],
  ["signup", /^\/signup$/],
  ["account", /^\/account$/],
  ["drive", new RegExp(`^/d/${ID}$`), "driveId"],
  ...["trash", "members", "agents"].map((view) => [view, new RegExp(`^/d/${ID}/${view}$`), "driveId"]),
  ["page", new RegExp(`^/p/${ID}$`), "pageId"],
];

/** parse returns {name, driveId?, pageId?} for a path; unknown paths are {name: "notfound"}. */
export function parse(pathname) {
  for (const [name, re, param] of routes) {
    const m = re.exec(pathname);
    if (!m) continue;
    const route = { name };
    if (param) {
      try {
        route[param] = decodeURIComponent(m[1]);
      } catch {
        return { name: "notfound" };
      }
    }
    return route;
  }
  return { name: "notfound" };
}

/** uri is a template tag for paths: uri`/api/pages/${id}/move` encodes each value put in. */
export const uri = (parts, ...values) => String.raw({ raw: parts }, ...values.map(encodeURIComponent));

/** Paths of the views. */
export const paths = {
  home: () => "/",
  login: (next) => (next && next !== "/" ? uri`/login?next=${next}` : "/login"),
  signup: () => "/signup",
  account: () => "/account",
  drive: (id) => uri`/d/${id}`,
  trash: (id) => uri`/d/${id}/trash`,
  members: (id) => uri`/d/${id}/members`,
  agents: (id) => uri`/d/${id}/agents`,
  page: (id) => uri`/p/${id}`,
};

/** publicRoute reports whether a route is for people who are signed out. */
export function publicRoute(route) {
  return route.name === "login" || route.name === "signup";
}

/** safeNext returns next when it is a path of this site, else "/" (no open redirect). */
export function safeNext(next) {
  if (typeof next !== "string" || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}
