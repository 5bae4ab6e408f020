package engineio

// EchoHandler sends every message back to its sender, text or binary. It is what the published
// Engine.IO protocol test suite expects of a server, and what this package's tests use.
type EchoHandler struct{}

// OnOpen does nothing.
func (EchoHandler) OnOpen(*Conn) {}

// OnMessage sends m back on c.
func (EchoHandler) OnMessage(c *Conn, m Message) { _ = c.Send(m) }

// OnClose does nothing.
func (EchoHandler) OnClose(*Conn, string) {}
