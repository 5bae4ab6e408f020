package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// A request whose client went away answers 499, not 500, and logs no failure; the same error on
// a live request is still an internal error.
func TestCanceledRequestIsNotInternal(t *testing.T) {
	var logged int
	log := slog.New(countingHandler{n: &logged})
	e := echo.New()
	handle := errorHandler(log)
	cause := fmt.Errorf("pages: list: %w", context.Canceled)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	handle(cause, e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx), rec))
	if rec.Code != statusClientClosed || logged != 0 {
		t.Fatalf("client gone: status %d, %d error logs; want %d and none", rec.Code, logged, statusClientClosed)
	}

	rec = httptest.NewRecorder()
	handle(cause, e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec))
	if rec.Code != http.StatusInternalServerError || logged != 1 {
		t.Fatalf("live request: status %d, %d error logs; want 500 and one", rec.Code, logged)
	}
}

type countingHandler struct{ n *int }

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(context.Context, slog.Record) error {
	*h.n++
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }
