package modules

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Routes are the two route sets a module mounts on: Public needs no identity, Authed runs behind
// the authentication middleware, so handlers there always find an Identity in the context.
type Routes struct {
	Public *Router
	Authed *Router
}

// Router registers routes on a group with middleware applied per route, so that unknown paths
// and wrong methods still answer 404 and 405 rather than running the middleware.
type Router struct {
	g  *echo.Group
	mw []echo.MiddlewareFunc
}

// NewRouter returns a Router on g that wraps every route in mw. Every route also refuses path
// parameters that cannot be ids (invalid UTF-8, control characters, over 128 bytes) with 404,
// before any handler or query sees them.
func NewRouter(g *echo.Group, mw ...echo.MiddlewareFunc) *Router {
	return &Router{g: g, mw: append([]echo.MiddlewareFunc{validParams}, mw...)}
}

func validParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, v := range c.ParamValues() {
			if !ValidID(v) {
				return E(KindNotFound, "not found")
			}
		}
		// Query values reach queries too (filters, cursors): no invalid UTF-8 or NUL, which
		// PostgreSQL refuses in a text parameter.
		for name, values := range c.QueryParams() {
			for _, v := range values {
				if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 || len(v) > 4096 {
					return Invalid("query parameter "+strconv.Quote(name)+" is not valid text", nil)
				}
			}
		}
		return next(c)
	}
}

// ValidID reports whether s can be an id: non-empty, at most 128 bytes of valid UTF-8 without
// control characters. Anything else cannot exist, so callers answer not found.
func ValidID(s string) bool {
	if s == "" || len(s) > 128 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// IDParam reads the path parameter name as an id, answering notFound (the caller's sentinel,
// e.g. "drive not found") when it cannot be one. Behind a Router such a value never reaches the
// handler; the check keeps odd bytes (NUL, invalid UTF-8) away from the database even so.
func IDParam(c echo.Context, name string, notFound error) (string, error) {
	if v := c.Param(name); ValidID(v) {
		return v, nil
	}
	return "", notFound
}

// GET registers a GET route; mw run after the router's own middleware.
func (r *Router) GET(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.g.GET(path, h, append(r.mw[:len(r.mw):len(r.mw)], mw...)...)
}

// POST registers a POST route.
func (r *Router) POST(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.g.POST(path, h, append(r.mw[:len(r.mw):len(r.mw)], mw...)...)
}

// PUT registers a PUT route.
func (r *Router) PUT(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.g.PUT(path, h, append(r.mw[:len(r.mw):len(r.mw)], mw...)...)
}

// PATCH registers a PATCH route.
func (r *Router) PATCH(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.g.PATCH(path, h, append(r.mw[:len(r.mw):len(r.mw)], mw...)...)
}

// DELETE registers a DELETE route.
func (r *Router) DELETE(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.g.DELETE(path, h, append(r.mw[:len(r.mw):len(r.mw)], mw...)...)
}

// Module is a domain module that serves HTTP routes.
type Module interface {
	// Mount registers the module's routes.
	Mount(r Routes)
}
