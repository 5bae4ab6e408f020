package socketio_test

import (
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/pagespace/pagespace/realtime/socketio"
)

type recoverCall struct {
	pid, offset string
	user        any
}

func recoveryServer(t *testing.T) (*socketio.Server, chan recoverCall) {
	calls := make(chan recoverCall, 4)
	var n atomic.Uint64
	srv := newTestServer(t, socketio.Config{Recovery: &socketio.RecoveryConfig{
		NewPID: func(s *socketio.Socket) string {
			return "pid-" + itoa(n.Add(1))
		},
		Recover: func(s *socketio.Socket, pid, offset string) bool {
			user := s.Data()
			calls <- recoverCall{pid, offset, user}
			if pid != "pid-1" {
				return false
			}
			// What the product does: restore rooms and replay what was missed.
			s.Join("page:1")
			_ = s.EmitWithOffset("missed", "8", "m8")
			return true
		},
	}})
	srv.Of("/").Use(func(s *socketio.Socket, auth json.RawMessage) error {
		s.SetData("u1")
		return nil
	})
	return srv, calls
}

func TestRecoveryFreshPID(t *testing.T) {
	srv, calls := recoveryServer(t)
	c := dial(t, srv)
	r := c.connect("/", `{"token":"t"}`)
	if r.PID != "pid-1" {
		t.Fatalf("pid %q", r.PID)
	}
	select {
	case call := <-calls:
		t.Fatalf("Recover called without a pid: %+v", call)
	default:
	}
	s, _ := srv.Of("/").Socket(r.SID)
	if s.PID() != "pid-1" || s.Recovered() {
		t.Fatal(s.PID(), s.Recovered())
	}
	if err := s.EmitWithOffset("page_updated", "7", map[string]string{"pageId": "1"}); err != nil {
		t.Fatal(err)
	}
	c.expectText(`2["page_updated",{"pageId":"1"},"7"]`)
}

func TestRecoverySamePID(t *testing.T) {
	srv, calls := recoveryServer(t)
	auths := make(chan json.RawMessage, 1)
	srv.Of("/").OnConnect(func(s *socketio.Socket) { auths <- s.Handshake().Auth })
	c := dial(t, srv)
	c.send(`0{"token":"t","pid":"pid-1","offset":"7"}`)
	p := c.next()
	var r connectReply
	if p.Type != socketio.PacketConnect || json.Unmarshal(p.Data, &r) != nil || r.PID != "pid-1" {
		t.Fatalf("reply %s", p.Data)
	}
	// The replay comes after the CONNECT reply.
	c.expectText(`2["missed","m8","8"]`)
	call := recv(t, calls)
	if call != (recoverCall{"pid-1", "7", "u1"}) {
		t.Fatalf("%+v", call)
	}
	s, _ := srv.Of("/").Socket(r.SID)
	if !s.Recovered() || srv.Of("/").RoomSize("page:1") != 1 {
		t.Fatal("not recovered")
	}
	if auth := recv(t, auths); string(auth) != `{"token":"t","pid":"pid-1","offset":"7"}` {
		t.Fatalf("auth %s", auth)
	}
}

func TestRecoveryRefused(t *testing.T) {
	srv, calls := recoveryServer(t)
	c := dial(t, srv)
	r := c.connect("/", `{"pid":"unknown","offset":"3"}`)
	if r.PID == "unknown" || r.PID == "" {
		t.Fatalf("pid %q", r.PID)
	}
	if call := recv(t, calls); call.pid != "unknown" || call.offset != "3" {
		t.Fatalf("%+v", call)
	}
	// A pid without an offset (no event received yet) still reaches the hook, offset "".
	c2 := dial(t, srv)
	c2.connect("/", `{"pid":"x"}`)
	if call := recv(t, calls); call.pid != "x" || call.offset != "" {
		t.Fatalf("%+v", call)
	}
	// A pid that is not a string does not.
	c3 := dial(t, srv)
	c3.connect("/", `{"pid":5,"offset":"3"}`)
	select {
	case call := <-calls:
		t.Fatalf("Recover called: %+v", call)
	default:
	}
}

func TestRecoveryRefusedByMiddleware(t *testing.T) {
	calls := make(chan string, 1)
	srv := newTestServer(t, socketio.Config{Recovery: &socketio.RecoveryConfig{
		Recover: func(s *socketio.Socket, pid, offset string) bool { calls <- pid; return true },
	}})
	srv.Of("/").Use(func(s *socketio.Socket, auth json.RawMessage) error {
		return &socketio.ConnectError{Message: "unauthorized"}
	})
	c := dial(t, srv)
	c.send(`0{"pid":"p","offset":"1"}`)
	c.expectText(`4{"message":"unauthorized"}`)
	select {
	case pid := <-calls:
		t.Fatalf("Recover ran for a refused socket: %s", pid)
	default:
	}
}

func TestRecoveryDefaultPID(t *testing.T) {
	srv := newTestServer(t, socketio.Config{Recovery: &socketio.RecoveryConfig{}})
	a := dial(t, srv).connect("/", "")
	b := dial(t, srv).connect("/", `{"pid":"whatever","offset":"1"}`)
	if len(a.PID) < 16 || a.PID == b.PID || b.PID == "whatever" {
		t.Fatalf("pids %q %q", a.PID, b.PID)
	}
}
