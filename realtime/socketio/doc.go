// Package socketio is a Socket.IO v5 server (the protocol of socket.io 3.x and 4.x) on top of the
// Engine.IO v4 transports of package engineio. The official socket.io-client connects to it
// unchanged, over long-polling, WebSocket, or polling upgraded to WebSocket.
//
// # Shape
//
// A Server is an http.Handler. Server.Of returns a Namespace ("/" always exists); a CONNECT to a
// namespace that was never created is answered `44/nsp,{"message":"Invalid namespace"}`.
// A Namespace has connect middleware (Use), life-cycle hooks (OnConnect, OnDisconnect), event
// handlers (On, OnAny) and a room index. A Socket is one client in one namespace: Emit,
// EmitWithAck, EmitWithOffset, Join/Leave, a per-socket value (SetData/Data), Disconnect.
//
//	srv := socketio.NewServer(socketio.Config{})
//	ns := srv.Of("/")
//	ns.Use(func(s *socketio.Socket, auth json.RawMessage) error {
//		user, err := verify(auth)
//		if err != nil {
//			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]string{"code": "invalid_token"}}
//		}
//		s.SetData(user)
//		s.Join("user:" + user.ID)
//		return nil
//	})
//	ns.On("join_page", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
//		var pageID string
//		if err := args.Decode(0, &pageID); err != nil || ack == nil {
//			return
//		}
//		s.Join("page:" + pageID)
//		ack(map[string]any{"ok": true})
//	})
//	ns.To("page:1").Except(senderID).Emit("page_updated", payload)
//	http.Handle("/socket.io/", srv)
//
// # Rooms and broadcasting
//
// Every socket is in the room named by its id. Rooms are indexed room → sockets in sharded maps
// (a socket's own id room is found in the namespace's table of sockets by id instead, so that an
// idle socket costs no index entry); a broadcast (Namespace.To, Socket.Broadcast, Operator) looks
// up its rooms, encodes the packet once and queues the same bytes on each socket's connection. Queuing never blocks: a connection
// whose outbound queue is full is closed by the transport, so the client reconnects and recovers
// instead of silently missing events.
//
// # Arguments
//
// Emitted arguments are marshalled with encoding/json; a top-level []byte travels as a binary
// attachment and a json.RawMessage as is. Received arguments arrive as Args, decoded on demand.
//
// # Callbacks and concurrency
//
// The callbacks of one connection (middleware, the recovery hook, OnConnect, event handlers,
// OnDisconnect) run one at a time on a goroutine of that connection, in packet order. A slow
// handler delays only its own connection; the acknowledgements a handler waits for with
// EmitWithAck are matched on the transport's read path, so waiting inside a handler is safe.
// A client that sends faster than its handlers run (Config.MaxPendingPackets) is disconnected.
// A panicking handler closes its connection and is logged.
//
// # Protocol strictness
//
// Any packet that upstream's parser would reject, and a few more (an EVENT must be a non-empty
// array headed by a string, an ACK an array, a CONNECT payload an object; attachment counts and
// sizes are bounded; ack ids must fit a JavaScript number), closes the whole connection with
// reason "parse error".
//
// # Connection state recovery
//
// With Config.Recovery set, the CONNECT reply carries a pid. A server event may carry an offset
// as its last argument (EmitWithOffset); the official client records the last string argument of
// every event as its offset (it does not strip it: handlers see it too) and, on reconnecting,
// merges {pid, offset} into its CONNECT auth. RecoveryConfig.Recover then decides: true repeats
// the pid in the reply (the client sets socket.recovered), false sends a fresh pid from
// RecoveryConfig.NewPID. Recover runs after the middleware, so it can use what the middleware
// stored; what the socket emits while Recover runs is sent right after the CONNECT reply.
// Upstream also restores the socket id on recovery; here the socket id is always new.
//
// # Shutdown
//
// Server.Shutdown closes the transports without DISCONNECT packets: the official client treats
// that as a transport loss and reconnects, whereas a DISCONNECT (Socket.Disconnect) tells it not
// to.
package socketio
