package socketio

import "github.com/pagespace/pagespace/realtime/engineio"

// EngineConn exposes the connection interface to the black-box tests.
type EngineConn = engineConn

// NewTestServer returns a server without Engine.IO transports; tests drive it with fake conns.
func NewTestServer(cfg Config) *Server { return newServer(cfg) }

// Open plays Engine.IO's OnOpen.
func (s *Server) Open(c EngineConn) { s.onOpen(c) }

// Message plays Engine.IO's OnMessage.
func (s *Server) Message(c EngineConn, m engineio.Message) { s.onMessage(c, m) }

// Closed plays Engine.IO's OnClose.
func (s *Server) Closed(c EngineConn, reason string) { s.onClose(c, reason) }
