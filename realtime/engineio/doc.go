// Package engineio is the Engine.IO protocol revision 4 server that the Socket.IO layer
// (realtime/socketio) runs on.
//
// It owns the transports and nothing above them: the handshake and session ids, HTTP
// long-polling (GET/POST, payload batching with the 0x1e separator, base64 binary), WebSocket
// through melody (one packet per frame, binary frames without a type prefix), the upgrade from
// polling to WebSocket, the server-driven ping/pong heartbeat, the per-connection outbound queue
// and the packet codec. It knows nothing of namespaces, events, rooms or identity; the Handler
// receives the messages of each connection in order.
//
// The outcome of a request must not depend on which connection the server happens to read first.
// A long-polling GET that arrives while a WebSocket probe is open waits until the client has
// answered a WebSocket ping sent on the probe after the GET arrived (fence.go): by then every
// frame the client sent before its GET, its upgrade packet included, has been read, so a GET sent
// after the upgrade packet always gets 400. The probe's 3probe is written by the read loop before
// it reads the next frame, so it reaches the client before anything the upgrade packet causes. A
// second WebSocket for a session that has one, or is being upgraded (after the same fence), is
// accepted and closed at once, and a client's close packet leaves the session for one more GET,
// as with the official server.
//
// Two rules shape it. A connection that cannot keep up is closed ("outbound queue full"), never
// blocked on and never silently dropped, so that the client reconnects and replays. And Shutdown
// cuts transports without a close packet, so that official clients reconnect rather than give up.
//
// An idle WebSocket is kept small, because a server holds thousands: melody's two goroutines
// (its read loop and its write loop) and nothing else. The upgrade runs on a goroutine of its own,
// so the HTTP request's goroutine and net/http's buffers are let go once the connection is
// hijacked, and that goroutine keeps nothing of the request; inbound messages are handled on a
// short-lived goroutine, so the read loop's parked stack stays at 4 KB; the read buffer is 256
// bytes and write buffers are pooled between messages; melody's own WebSocket pings are a
// five-minute backstop behind Engine.IO's heartbeat. The handshake request is kept only until the
// session is admitted (Conn.Admit); every connection's heartbeat is a deadline in one queue
// (internal/schedule) rather than a timer of its own; melody's per-session keys map is dropped
// once the transport is registered. A text message built once with NewText goes to every
// recipient as the same frame. docs/performance.md has the figures.
package engineio
