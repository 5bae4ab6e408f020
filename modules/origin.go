package modules

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// SameOrigin reports whether a browser sent r from this server's own pages, or from one of the
// allowed origins (ALLOWED_ORIGINS, exact "scheme://host[:port]" strings). It is the CSRF check of
// every request that a cookie authenticates: a browser attaches cookies to cross-site requests
// too, but it also says where a request comes from, and a page cannot forge that.
//
// With an Origin header (browsers send one on every POST, PUT, PATCH, DELETE, every CORS request
// and every WebSocket handshake), the origin must be allowed or name the request's own host. The
// scheme is not compared, so that a server behind a TLS-terminating proxy recognises its own
// https pages. Without one (a same-origin GET), only Sec-Fetch-Site: same-origin counts; a request
// with neither header is refused, so a cookie never authenticates a request of unknown origin.
func SameOrigin(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	if slices.Contains(allowed, origin) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false // includes the opaque origin "null" (sandboxed frames, data: URLs)
	}
	return strings.EqualFold(u.Host, r.Host)
}
