// socket-parser.js: Socket.IO v5 packet decoding, the reconnection back-off and the binary check
// of socket.js (issue 9, item 9).

/**
 * decodePacket parses a Socket.IO packet of namespace "/" (other namespaces give null).
 * Throws on malformed input.
 */
export function decodePacket(text) {
  let i = 0;
  const type = Number(text[i++]);
  if (!(type >= 0 && type <= 6)) throw new Error("unknown packet type");
  if (type === 5 || type === 6) {
    const dash = text.indexOf("-", i);
    if (dash < 0) throw new Error("bad attachments");
    i = dash + 1;
  }
  let nsp = "/";
  if (text[i] === "/") {
    const comma = text.indexOf(",", i);
    nsp = comma < 0 ? text.slice(i) : text.slice(i, comma);
    i = comma < 0 ? text.length : comma + 1;
  }
  let id;
  const start = i;
  while (i < text.length && text[i] >= "0" && text[i] <= "9") i++;
  if (i > start) id = Number(text.slice(start, i));
  const data = i < text.length ? JSON.parse(text.slice(i)) : undefined;
  return nsp === "/" ? { type, id, data } : null;
}

/** backoff returns the delay before attempt n (from 0): doubling, capped, with jitter. */
export function backoff(n, { reconnectionDelay: min, reconnectionDelayMax: max, randomizationFactor: factor }, random = Math.random) {
  let ms = min * Math.pow(2, Math.min(n, 30));
  if (factor > 0) ms += (random() * 2 - 1) * factor * ms;
  return Math.max(0, Math.min(Math.round(ms), max));
}

function isBinary(v) {
  return (
    (typeof ArrayBuffer !== "undefined" && (v instanceof ArrayBuffer || ArrayBuffer.isView(v))) ||
    (typeof Blob !== "undefined" && v instanceof Blob)
  );
}

/** hasBinary reports whether v holds an ArrayBuffer, a typed array, a DataView or a Blob. */
export function hasBinary(v, depth = 0) {
  if (v === null || typeof v !== "object" || depth > 64) return false;
  if (isBinary(v)) return true;
  if (typeof v.toJSON === "function") return false;
  for (const k of Object.keys(v)) if (hasBinary(v[k], depth + 1)) return true;
  return false;
}
