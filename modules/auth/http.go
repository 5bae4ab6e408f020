package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
)

// Handler serves /api/auth.
type Handler struct {
	svc     *Service
	limit   []echo.MiddlewareFunc
	origins []string
}

// NewHandler returns the auth routes. limit, when not nil, guards the credential routes (signup,
// login, refresh, and account deletion, which checks the password) against guessing and floods.
// origins (ALLOWED_ORIGINS) may use the refresh cookie besides the server's own pages.
func NewHandler(svc *Service, limit echo.MiddlewareFunc, origins []string) *Handler {
	h := &Handler{svc: svc, origins: origins}
	if limit != nil {
		h.limit = []echo.MiddlewareFunc{limit}
	}
	return h
}

var _ modules.Module = (*Handler)(nil)

// Mount registers the routes.
func (h *Handler) Mount(r modules.Routes) {
	r.Public.POST("/auth/signup", h.signup, h.limit...)
	r.Public.POST("/auth/login", h.login, h.limit...)
	r.Public.POST("/auth/refresh", h.refresh, h.limit...)
	r.Public.POST("/auth/logout", h.logout)
	r.Authed.GET("/auth/me", h.me)
	r.Authed.DELETE("/auth/me", h.deleteMe, h.limit...)
}

func (h *Handler) signup(c echo.Context) error {
	return serveSession(h, c, http.StatusCreated, h.svc.Signup)
}

func (h *Handler) login(c echo.Context) error {
	return serveSession(h, c, http.StatusOK, h.svc.Login)
}

// serveSession binds the credentials in the body, starts a session with them and answers it with
// status, its refresh token in a cookie when the client asked for one.
func serveSession[In any](h *Handler, c echo.Context, status int,
	start func(context.Context, In) (Session, error)) error {
	cookie, err := h.wantsCookie(c)
	if err != nil {
		return err
	}
	var in In
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	s, err := start(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return h.respond(c, status, s, cookie)
}

type refreshInput struct {
	RefreshToken string `json:"refreshToken"`
}

// refreshToken is the token of a refresh or logout: the body's refreshToken, or else the
// cookie's (fromCookie). The body may be absent when the cookie is used.
func (h *Handler) refreshToken(c echo.Context) (token string, fromCookie bool, err error) {
	var in refreshInput
	if err := modules.BindOptional(c, &in); err != nil {
		return "", false, err
	}
	if in.RefreshToken != "" {
		return in.RefreshToken, false, nil
	}
	token, err = h.cookieToken(c)
	return token, token != "", err
}

func (h *Handler) refresh(c echo.Context) error {
	cookie, err := h.wantsCookie(c)
	if err != nil {
		return err
	}
	token, fromCookie, err := h.refreshToken(c)
	if err != nil {
		return err
	}
	s, err := h.svc.Refresh(c.Request().Context(), token)
	if err != nil {
		// Spent, revoked, expired or malformed: the browser is signed out. Anything else (the
		// database away) keeps the cookie for the next try.
		if e := modules.As(err); fromCookie && e != nil && (e.Kind == modules.KindUnauthorized || e.Kind == modules.KindInvalid) {
			h.clearCookie(c)
		}
		return err
	}
	return h.respond(c, http.StatusOK, s, cookie || fromCookie)
}

func (h *Handler) logout(c echo.Context) error {
	token, fromCookie, err := h.refreshToken(c)
	if err != nil {
		return err
	}
	if err := h.svc.Logout(c.Request().Context(), token); err != nil {
		return err
	}
	if fromCookie {
		h.clearCookie(c)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) me(c echo.Context) error {
	u, err := h.svc.Me(c.Request().Context())
	return modules.Reply(c, http.StatusOK, u, err)
}

// Middleware requires a valid access token or agent key (Authorization: Bearer) whose user still exists and
// whose session has not been ended (logout, refresh-token reuse), and puts the caller's
// identity, with the user's name, in the request context. The session check is one
// primary-key lookup per request (Connecting).
func Middleware(svc *Service) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token, ok := bearer(c.Request())
			if !ok {
				return modules.ErrUnauthorized
			}
			id, _, err := svc.Verify(token)
			if err != nil {
				return err
			}
			if id.Name, _, err = svc.Connecting(c.Request().Context(), id); err != nil {
				return err
			}
			req := c.Request()
			c.SetRequest(req.WithContext(modules.WithIdentity(req.Context(), id)))
			return next(c)
		}
	}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get(echo.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

type deleteInput struct {
	Password string `json:"password"`
}

func (h *Handler) deleteMe(c echo.Context) error {
	var in deleteInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	if err := h.svc.Delete(c.Request().Context(), in.Password); err != nil {
		return err
	}
	h.clearCookie(c) // its session is gone with the account
	return c.NoContent(http.StatusNoContent)
}
