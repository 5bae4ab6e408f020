package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The baseline's two WebSocket layers, without a database: the access check is a stub that lets
// every user read page "p1" only.
var socketLayers = []struct {
	name string
	new  func(mayRead func(ctx context.Context, userID, pageID string) error, queue int) baselineSockets
}{
	{"gorilla", func(f func(context.Context, string, string) error, q int) baselineSockets {
		return newGorillaSockets(f, q)
	}},
	{"melody", func(f func(context.Context, string, string) error, q int) baselineSockets {
		return newMelodySockets(f, q)
	}},
}

func onlyP1(_ context.Context, _, pageID string) error {
	if pageID != "p1" {
		return sql.ErrNoRows
	}
	return nil
}

// serveSockets serves s on a test server and returns a dial function.
func serveSockets(t *testing.T, s baselineSockets) func() *websocket.Conn {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, "u1")
	}))
	t.Cleanup(func() {
		s.closeAll()
		srv.Close()
	})
	return func() *websocket.Conn {
		t.Helper()
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		return ws
	}
}

func readWithin(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

func TestBaselineSocketsJoinAndBroadcast(t *testing.T) {
	for _, layer := range socketLayers {
		t.Run(layer.name, func(t *testing.T) {
			s := layer.new(onlyP1, 16)
			dial := serveSockets(t, s)
			in, out := dial(), dial()
			for ws, page := range map[*websocket.Conn]string{in: "p1", out: "p2"} {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(page)); err != nil {
					t.Fatal(err)
				}
			}
			if got := readWithin(t, in); got != `{"joined":"p1"}` {
				t.Fatalf("join p1: %s", got)
			}
			if got := readWithin(t, out); got != `{"error":"not_found"}` {
				t.Fatalf("join p2: %s", got)
			}
			if err := s.broadcast("p1", []byte("hello")); err != nil {
				t.Fatal(err)
			}
			if got := readWithin(t, in); got != "hello" {
				t.Fatalf("broadcast: %s", got)
			}
			// The refused socket is in no room: a frame sent to it now is the next it reads.
			if err := out.WriteMessage(websocket.TextMessage, []byte("p1")); err != nil {
				t.Fatal(err)
			}
			if got := readWithin(t, out); got != `{"joined":"p1"}` {
				t.Fatalf("second join: %s", got)
			}
		})
	}
}

// A socket that does not read is closed once its buffer is full: it receives an unbroken prefix
// of the frames and then the end of the connection, never a gap.
func TestBaselineSocketsFullBufferCloses(t *testing.T) {
	for _, layer := range socketLayers {
		t.Run(layer.name, func(t *testing.T) {
			s := layer.new(onlyP1, 4)
			ws := serveSockets(t, s)()
			if err := ws.WriteMessage(websocket.TextMessage, []byte("p1")); err != nil {
				t.Fatal(err)
			}
			if got := readWithin(t, ws); got != `{"joined":"p1"}` {
				t.Fatalf("join: %s", got)
			}
			// Far more than the loopback connection's buffers hold while the client reads nothing.
			const frames = 1000
			pad := strings.Repeat("x", 64<<10)
			for i := range frames {
				if err := s.broadcast("p1", []byte(strconv.Itoa(i)+" "+pad)); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; ; i++ {
				_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, msg, err := ws.ReadMessage()
				if err != nil {
					if i == frames {
						t.Fatalf("all %d frames delivered: the buffer never filled", frames)
					}
					if strings.Contains(err.Error(), "timeout") {
						t.Fatalf("after %d frames: the socket was not closed: %v", i, err)
					}
					return
				}
				want := fmt.Sprintf("%d ", i)
				if !strings.HasPrefix(string(msg), want) {
					t.Fatalf("frame %d: got %.10q", i, msg)
				}
			}
		})
	}
}
