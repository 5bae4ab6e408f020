package modules

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// Kind classifies an error for the caller. Each kind has one public code and one HTTP status.
type Kind int

// The kinds every module returns. KindInternal hides its cause from the caller.
const (
	KindInternal Kind = iota
	KindInvalid
	KindUnauthorized
	KindForbidden
	KindNotFound
	KindConflict
	KindTooLarge
	KindRateLimited
	KindUnavailable
	KindTimeout
)

var kindInfo = map[Kind]struct {
	code   string
	status int
}{
	KindInternal:     {"internal", http.StatusInternalServerError},
	KindInvalid:      {"invalid_request", http.StatusBadRequest},
	KindUnauthorized: {"unauthorized", http.StatusUnauthorized},
	KindForbidden:    {"forbidden", http.StatusForbidden},
	KindNotFound:     {"not_found", http.StatusNotFound},
	KindConflict:     {"conflict", http.StatusConflict},
	KindTooLarge:     {"payload_too_large", http.StatusRequestEntityTooLarge},
	KindRateLimited:  {"rate_limited", http.StatusTooManyRequests},
	KindUnavailable:  {"unavailable", http.StatusServiceUnavailable},
	KindTimeout:      {"request_timeout", http.StatusRequestTimeout},
}

// Code is the public error code of the kind, e.g. "not_found".
func (k Kind) Code() string { return kindInfo[k].code }

// Status is the HTTP status of the kind.
func (k Kind) Status() int { return kindInfo[k].status }

// Error is an error meant for the caller: a kind, a human message and optional details.
// Packages declare their sentinels as *Error values (pages.ErrNotFound) and wrap them with
// context; errors.Is matches the sentinel and errors.As finds the *Error for the response.
type Error struct {
	Kind    Kind
	Message string
	Details map[string]any
	// Code overrides Kind.Code() when set, for a more specific public code (e.g. "token_expired").
	Code string
	// RetryAfter, on a rate_limited error, is how long the caller should wait before trying
	// again; the HTTP answer carries it as a Retry-After header.
	RetryAfter time.Duration

	base *Error
}

// Unwrap lets a detailed copy match its sentinel with errors.Is.
func (e *Error) Unwrap() error {
	if e.base == nil {
		return nil
	}
	return e.base
}

func (e *Error) Error() string { return e.Message }

// PublicCode is the code the caller sees.
func (e *Error) PublicCode() string {
	if e.Code != "" {
		return e.Code
	}
	return e.Kind.Code()
}

// E returns a new *Error.
func E(kind Kind, message string) *Error { return &Error{Kind: kind, Message: message} }

// WithDetails returns a copy of e with details added; the copy still matches e with errors.Is.
func (e *Error) WithDetails(details map[string]any) error {
	return &Error{Kind: e.Kind, Message: e.Message, Details: details, Code: e.Code, RetryAfter: e.RetryAfter, base: e}
}

// Retry returns a copy of e that tells the caller to wait d before trying again: RetryAfter
// set, and details.retryAfterMs (whole milliseconds, rounded up) added to e's details. The copy
// still matches e with errors.Is.
func (e *Error) Retry(d time.Duration) error {
	details := make(map[string]any, len(e.Details)+1)
	for k, v := range e.Details {
		details[k] = v
	}
	details["retryAfterMs"] = (d + time.Millisecond - 1).Milliseconds()
	return &Error{Kind: e.Kind, Message: e.Message, Details: details, Code: e.Code, RetryAfter: d, base: e}
}

// As returns the *Error that err carries, or nil when it carries none (an internal error).
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Invalid is a 400 invalid_request error with optional details.
func Invalid(message string, details map[string]any) error {
	return &Error{Kind: KindInvalid, Message: message, Details: details}
}

// Generic sentinels for errors that need no package-specific message.
var (
	ErrUnauthorized = E(KindUnauthorized, "authentication required")
	ErrForbidden    = E(KindForbidden, "forbidden")
	ErrNotFound     = E(KindNotFound, "not found")
	ErrTooLarge     = E(KindTooLarge, "request body too large")
	ErrRateLimited  = E(KindRateLimited, "too many requests")
	// ErrBodyTimeout is a request body that did not arrive within the server's read timeout.
	ErrBodyTimeout = E(KindTimeout, "request body not received in time")
)

// IsUniqueViolation reports whether err is a database's refusal of a duplicate key, from SQLite
// ("UNIQUE constraint failed") or PostgreSQL ("duplicate key value violates unique constraint"),
// so that a store can answer a conflict instead of an internal error.
func IsUniqueViolation(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "unique") || strings.Contains(msg, "duplicate key")
}
