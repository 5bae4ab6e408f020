package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Close reasons passed to Handler.OnClose. The first five are those of the official server.
const (
	ReasonTransportClose = "transport close"      // the client closed the transport or sent a close packet
	ReasonTransportError = "transport error"      // a protocol violation or a failed transport
	ReasonPingTimeout    = "ping timeout"         // no pong within PingTimeout
	ReasonForcedClose    = "forced close"         // a conventional reason for Conn.Close
	ReasonParseError     = "parse error"          // the client sent an invalid packet
	ReasonQueueFull      = "outbound queue full"  // the client could not keep up
	ReasonServerShutdown = "server shutting down" // Server.Shutdown
)

// Error codes of the JSON body of an HTTP 400/403 answer, as in the official server.
const (
	CodeTransportUnknown   = 0
	CodeUnknownSID         = 1
	CodeBadHandshakeMethod = 2
	CodeBadRequest         = 3
	CodeForbidden          = 4
	CodeUnsupportedVersion = 5
)

var codeMessages = [...]string{
	CodeTransportUnknown:   "Transport unknown",
	CodeUnknownSID:         "Session ID unknown",
	CodeBadHandshakeMethod: "Bad handshake method",
	CodeBadRequest:         "Bad request",
	CodeForbidden:          "Forbidden",
	CodeUnsupportedVersion: "Unsupported protocol version",
}

func (cfg Config) withDefaults() Config {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 25 * time.Second
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = 20 * time.Second
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = 1_000_000
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.UpgradeTimeout <= 0 {
		cfg.UpgradeTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CheckOrigin == nil {
		cfg.CheckOrigin = sameOrigin
	}
	return cfg
}

// sameOrigin accepts requests without an Origin header (non-browser clients) and those whose
// Origin host is the request's host.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// enter counts a request in, unless the server is shutting down.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

func writeError(w http.ResponseWriter, code int) {
	status := http.StatusBadRequest
	if code == CodeForbidden {
		status = http.StatusForbidden
	}
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, codeMessages[code]})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	transport := q.Get("transport")
	if transport != "polling" && transport != "websocket" {
		writeError(w, CodeTransportUnknown)
		return
	}
	if transport == "polling" && s.cors(w, r) {
		return
	}
	if q.Get("EIO") != "4" {
		writeError(w, CodeUnsupportedVersion)
		return
	}
	if !s.cfg.CheckOrigin(r) {
		writeError(w, CodeForbidden)
		return
	}
	sid := q.Get("sid")
	if transport == "websocket" {
		s.serveWebSocket(w, r, sid)
		return
	}
	if sid == "" {
		if r.Method != http.MethodGet {
			writeError(w, CodeBadHandshakeMethod)
			return
		}
		s.handshakePolling(w, r)
		return
	}
	c := s.lookup(sid)
	if c == nil {
		writeError(w, CodeUnknownSID)
		return
	}
	switch r.Method {
	case http.MethodGet:
		c.serveGet(w, r)
	case http.MethodPost:
		c.servePost(w, r)
	default:
		writeError(w, CodeBadRequest)
	}
}

// cors sets the CORS headers for an accepted origin and answers a preflight; it reports whether
// the request has been answered.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if s.cfg.CORSOrigin == nil || origin == "" || !s.cfg.CORSOrigin(origin) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	if r.Method != http.MethodOptions {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", rh)
	}
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// lookup finds a session that serves requests (see Conn.admit).
func (s *Server) lookup(sid string) *Conn {
	s.mu.Lock()
	c := s.conns[sid]
	s.mu.Unlock()
	if c == nil || !c.admit(time.Now()) {
		return nil
	}
	return c
}

func (s *Server) remove(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[c.id] == c {
		delete(s.conns, c.id)
	}
}

// register makes c findable by its sid, counts it open and arms its heartbeat. t, if not nil, is
// the WebSocket the session was opened on. It fails once the server is shutting down.
func (s *Server) register(c *Conn, t *wsTransport) bool {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return false
	}
	s.conns[c.id] = c
	s.open.Add(1)
	s.wg.Add(1) // the OnClose call
	c.mu.Lock()
	c.ws = t
	c.startHeartbeat()
	c.mu.Unlock()
	s.mu.Unlock()
	return true
}

func newSID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) newConn(r *http.Request, transport string) *Conn {
	c := &Conn{
		srv:       s,
		id:        newSID(),
		req:       r.Clone(context.WithoutCancel(r.Context())),
		transport: transport,
		busy:      true, // until OnOpen has returned
	}
	if transport == "polling" {
		// Only long-polling GETs wait on done and wake; a session opened on WebSocket never has one.
		c.done = make(chan struct{})
		c.wake = make(chan struct{}, 1)
	}
	return c
}

func (s *Server) openPacket(c *Conn, upgrades []string) Packet {
	data, _ := json.Marshal(struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}{c.id, upgrades, s.cfg.PingInterval.Milliseconds(), s.cfg.PingTimeout.Milliseconds(), s.cfg.MaxPayload})
	return Packet{Type: PacketOpen, Data: data}
}
