package auth

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
)

// Browser sessions keep the refresh token where page scripts cannot read it: in an httpOnly,
// SameSite=Strict cookie that only the auth routes receive. The page keeps the access token in
// memory and renews it through POST /api/auth/refresh, which the cookie authenticates.
const (
	// RefreshCookie is the cookie that carries a browser session's refresh token.
	RefreshCookie = "ps_refresh"
	// CookiePath scopes the cookie to the auth routes: no other request carries it.
	CookiePath = "/api/auth"
	// ModeHeader set to ModeCookie asks signup, login and refresh for cookie mode: the refresh
	// token goes into RefreshCookie and is left out of the JSON body.
	ModeHeader = "X-Auth-Mode"
	// ModeCookie is ModeHeader's value for cookie mode.
	ModeCookie = "cookie"
)

// ErrCrossOrigin refuses a cookie-mode or cookie-authenticated request that a browser did not
// send from the server's own pages (nor from ALLOWED_ORIGINS): the CSRF check.
var ErrCrossOrigin = &modules.Error{Kind: modules.KindForbidden, Code: "cross_origin",
	Message: "the session cookie is accepted only from this server's own pages"}

// cookieSession is a session body in cookie mode: the refresh token stays in the cookie.
type cookieSession struct {
	User        View   `json:"user"`
	AccessToken string `json:"accessToken"`
	ExpiresIn   int    `json:"expiresIn"`
}

// wantsCookie reports whether the request asks for cookie mode, refusing it (ErrCrossOrigin)
// from another site.
func (h *Handler) wantsCookie(c echo.Context) (bool, error) {
	if !strings.EqualFold(strings.TrimSpace(c.Request().Header.Get(ModeHeader)), ModeCookie) {
		return false, nil
	}
	if !modules.SameOrigin(c.Request(), h.origins) {
		return false, ErrCrossOrigin
	}
	return true, nil
}

// cookieToken is the refresh token of the request's cookie ("" without one), refused
// (ErrCrossOrigin) when the request does not come from the server's own pages.
func (h *Handler) cookieToken(c echo.Context) (string, error) {
	ck, err := c.Cookie(RefreshCookie)
	if err != nil || ck.Value == "" {
		return "", nil
	}
	if !modules.SameOrigin(c.Request(), h.origins) {
		return "", ErrCrossOrigin
	}
	return ck.Value, nil
}

// respond answers a session: the whole body for programs, or in cookie mode the refresh token as
// the cookie and the rest as the body.
func (h *Handler) respond(c echo.Context, status int, s Session, cookie bool) error {
	if !cookie {
		return c.JSON(status, s)
	}
	h.setCookie(c, s.RefreshToken, h.svc.cfg.RefreshTTL)
	return c.JSON(status, cookieSession{User: s.User, AccessToken: s.AccessToken, ExpiresIn: s.ExpiresIn})
}

// setCookie sets the refresh cookie; ttl <= 0 deletes it. It is Secure when the request came over
// TLS or from an https page (a TLS-terminating proxy in front): a browser on plain http, as in
// local development, would refuse a Secure cookie.
func (h *Handler) setCookie(c echo.Context, value string, ttl time.Duration) {
	r := c.Request()
	ck := &http.Cookie{Name: RefreshCookie, Value: value, Path: CookiePath, HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		Secure:   r.TLS != nil || strings.HasPrefix(r.Header.Get("Origin"), "https://")}
	if ttl > 0 {
		ck.MaxAge = int(ttl.Seconds())
		ck.Expires = time.Now().Add(ttl)
	} else {
		ck.MaxAge = -1 // Max-Age=0: delete it now
		ck.Value = ""
	}
	c.SetCookie(ck)
}

// clearCookie deletes the refresh cookie when the request carried one.
func (h *Handler) clearCookie(c echo.Context) {
	if _, err := c.Cookie(RefreshCookie); err == nil {
		h.setCookie(c, "", 0)
	}
}
