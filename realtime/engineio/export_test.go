package engineio

import "net"

// SetWebSocketWrapper makes s wrap the connection that gorilla reads and writes for each
// WebSocket it serves through melody (for a probe, above the probe's own wrapper): a test can
// delay melody's writes there. Call it before s serves a request.
func SetWebSocketWrapper(s *Server, wrap func(net.Conn) net.Conn) {
	s.testWrapWebSocket = wrap
}

// Backlogged is how many of s's WebSockets have frames waiting for room in melody's channel.
func Backlogged(s *Server) int64 { return s.backlogged.Load() }
