// errors.js: the API's error codes in words a person understands (issue 9, item 10). Pure, so it
// runs in Node's tests as in the page.

/** ApiError is a failed API call: the HTTP status and the body's error code, message, details. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code || "";
    this.details = details || null;
  }
}

const words = {
  invalid_request: "Some of what you entered isn't valid.",
  unauthorized: "You're signed out. Sign in again to continue.",
  invalid_token: "Your session has ended. Sign in again to continue.",
  token_expired: "Your session has ended. Sign in again to continue.",
  token_reused: "For your safety you were signed out (your session was used elsewhere). Sign in again.",
  forbidden: "You don't have permission to do that.",
  share_required: "Only someone who can share this page may move it where more people would see it.",
  cross_origin: "This request was refused because it did not come from this site. Reload the page and try again.",
  not_found: "It's not there any more, or you no longer have access to it.",
  conflict: "That conflicts with a change made meanwhile. Reload and try again.",
  payload_too_large: "That is too large to save.",
  rate_limited: "Too many attempts. Wait a minute, then try again.",
  request_timeout: "The connection was too slow. Try again.",
  unavailable: "The server is busy. Try again in a moment.",
  internal: "Something went wrong on the server. Try again; if it keeps happening, tell your administrator.",
};

const fieldNames = { email: "Email", password: "Password", name: "Name", title: "Title", type: "Type", role: "Role", expiresAt: "The end date",
  description: "Description", assigneeId: "The assignee", dueDate: "The due date", priority: "Priority", status: "Status", position: "Position" };

function sentence(s) {
  s = String(s || "").trim();
  if (!s) return s;
  s = s[0].toUpperCase() + s.slice(1);
  return /[.!?]$/.test(s) ? s : s + ".";
}

/**
 * describe returns the words for err: an ApiError, a network failure (TypeError from fetch) or
 * anything else. overrides maps codes to words for the form at hand (login's "unauthorized" means
 * a wrong password, not a lost session).
 */
export function describe(err, overrides = {}) {
  if (err instanceof ApiError) {
    if (overrides[err.code]) return overrides[err.code];
    const fields = err.details?.fields;
    if (err.code === "invalid_request" && fields && Object.keys(fields).length > 0) {
      return Object.entries(fields)
        .map(([f, why]) => `${fieldNames[f] || f} ${why}`)
        .map(sentence)
        .join(" ");
    }
    // Conflicts carry a message written for people ("delete your drives ... first").
    if (err.code === "conflict" && err.message) return sentence(err.message);
    if (err.code === "invalid_request" && err.message && err.message !== "invalid request") {
      return sentence(err.message);
    }
    return words[err.code] || `Something went wrong (${err.status}). Try again.`;
  }
  if (err instanceof TypeError) return "Can't reach the server. Check your connection, then try again.";
  return "Something went wrong. Try again.";
}

/** fieldErrors returns {field: words} from a 400's details, for messages next to the inputs. */
export function fieldErrors(err) {
  const fields = err instanceof ApiError && err.details?.fields;
  if (!fields) return {};
  const out = {};
  for (const [f, why] of Object.entries(fields)) out[f] = sentence(`${fieldNames[f] || f} ${why}`);
  return out;
}
