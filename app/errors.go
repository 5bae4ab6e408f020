package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
)

// statusClientClosed is the status recorded (in the request log and metrics) for a request whose
// client closed the connection before the answer; nginx's 499, which nothing ever receives.
const statusClientClosed = 499

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// errorHandler is the one place errors become responses: a *modules.Error shows its kind, code,
// message and details; Echo's own errors (unknown route, wrong method) map to the same body;
// anything else is logged and answered as "internal error" without internals.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
			// The client went away mid-request (its context is what was canceled): nobody reads
			// the answer, and it is not a server failure, so it is neither logged nor a 500.
			_ = c.NoContent(statusClientClosed)
			return
		}
		status, body := toResponse(err)
		if e := modules.As(err); e != nil && e.RetryAfter > 0 {
			// Whole seconds, rounded up: the header has no finer unit (details.retryAfterMs has).
			c.Response().Header().Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
		}
		if status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed",
				"err", err.Error(), "method", c.Request().Method, "path", c.Path(),
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

func toResponse(err error) (int, errorBody) {
	if e := modules.As(err); e != nil {
		return e.Kind.Status(), errorBody{errorDetail{Code: e.PublicCode(), Message: e.Message, Details: e.Details}}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg, _ := he.Message.(string)
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, errorBody{errorDetail{Code: "not_found", Message: "route not found"}}
		case http.StatusMethodNotAllowed:
			return he.Code, errorBody{errorDetail{Code: "method_not_allowed", Message: "method not allowed"}}
		case http.StatusRequestEntityTooLarge:
			return he.Code, errorBody{errorDetail{Code: "payload_too_large", Message: "request body too large"}}
		case http.StatusUnauthorized:
			return he.Code, errorBody{errorDetail{Code: "unauthorized", Message: "authentication required"}}
		case http.StatusForbidden:
			return he.Code, errorBody{errorDetail{Code: "forbidden", Message: orDefault(msg, "forbidden")}}
		case http.StatusTooManyRequests:
			return he.Code, errorBody{errorDetail{Code: "rate_limited", Message: "too many requests"}}
		}
		if he.Code >= 400 && he.Code < 500 {
			return he.Code, errorBody{errorDetail{Code: "invalid_request", Message: orDefault(msg, http.StatusText(he.Code))}}
		}
	}
	return http.StatusInternalServerError, errorBody{errorDetail{Code: "internal", Message: "internal error"}}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
