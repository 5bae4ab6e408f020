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
// Two rules shape it. A connection that cannot keep up is closed ("outbound queue full"), never
// blocked on and never silently dropped, so that the client reconnects and replays. And Shutdown
// cuts transports without a close packet, so that official clients reconnect rather than give up.
package engineio
