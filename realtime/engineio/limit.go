package engineio

import (
	"encoding/json"
	"net/http"
	"net/netip"
)

// Pending sessions per client address.
//
// A handshake costs the server a session (its queue, timers, and for WebSocket two goroutines)
// before the client has proven anything. Config.MaxPendingPerAddr caps how many such sessions one
// client address holds at once: a session counts from its handshake until the layer above calls
// Conn.Admit (Socket.IO: a namespace connect that passed its middleware, i.e. authentication) or
// until it closes. Admitted sessions are the layer above's to limit (per user, say), so many
// users behind one NAT are not refused because they share an address.

// tooManyMessage is the message of the HTTP 429 answer to a handshake over the cap.
const tooManyMessage = "Too many unauthenticated sessions from this address"

// addrKey is the client address a session counts against: the peer's IP (forwarded headers are
// not trusted), and for IPv6 its /64, which one client usually holds whole.
func addrKey(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// reserve counts a new session of c's address in, unless the address is at the cap. It reports
// whether the session may open. Every reservation is undone by release.
func (s *Server) reserve(c *Conn) bool {
	max := s.cfg.MaxPendingPerAddr
	if max <= 0 {
		return true
	}
	c.addr = addrKey(c.req)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending[c.addr] >= max {
		return false
	}
	s.pending[c.addr]++
	c.counted = true
	return true
}

// release stops counting c against its address; safe to call more than once.
func (s *Server) release(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.counted {
		return
	}
	c.counted = false
	if s.pending[c.addr] <= 1 {
		delete(s.pending, c.addr)
	} else {
		s.pending[c.addr]--
	}
}

// Admit tells the server that the session's client has proven itself (the Socket.IO layer calls
// it once a namespace connect succeeds): the session no longer counts against
// Config.MaxPendingPerAddr, and its handshake request is let go (Request returns nil from now
// on). Safe to call more than once and concurrently.
func (c *Conn) Admit() {
	c.srv.release(c)
	c.mu.Lock()
	c.req = nil
	c.mu.Unlock()
}

// writeTooMany answers a handshake over the cap: HTTP 429 with the official error body shape, code
// 4 (Forbidden) as the reference server answers a refused handshake, and a message that says why.
func writeTooMany(w http.ResponseWriter) {
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{CodeForbidden, tooManyMessage})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(body)
}
