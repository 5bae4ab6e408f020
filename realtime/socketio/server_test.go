package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pagespace/pagespace/realtime/socketio"
)

func TestConnectMainNamespace(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	sockets := make(chan *socketio.Socket, 1)
	handshakes := make(chan socketio.Handshake, 1)
	srv.Of("/").OnConnect(func(s *socketio.Socket) {
		handshakes <- s.Handshake()
		sockets <- s
	})
	c := dial(t, srv)
	r := c.connect("/", "")
	s := recv(t, sockets)
	if s.ID() != r.SID || r.PID != "" {
		t.Fatalf("reply %+v, socket %s", r, s.ID())
	}
	if hs := recv(t, handshakes); !s.Connected() || s.Namespace().Name() != "/" || hs.Request == nil || hs.Auth != nil || hs.Time.IsZero() {
		t.Fatalf("socket state: %v %v", s.Connected(), hs)
	}
	if !slices.Equal(s.Rooms(), []string{s.ID()}) || srv.Of("/").RoomSize(s.ID()) != 1 {
		t.Fatalf("rooms %v", s.Rooms())
	}
	if got, ok := srv.Of("/").Socket(s.ID()); !ok || got != s {
		t.Fatal("Socket(id)")
	}
}

func TestConnectAuthAndMiddleware(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	ns := srv.Of("/")
	ns.Use(func(s *socketio.Socket, auth json.RawMessage) error {
		var a struct{ Token string }
		if err := json.Unmarshal(auth, &a); err != nil {
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]string{"code": "invalid_token"}}
		}
		switch a.Token {
		case "good":
			s.SetData("u1")
			s.Join("user:u1")
			return nil
		case "plain":
			return errors.New("plain refusal")
		}
		return &socketio.ConnectError{Message: "unauthorized", Data: map[string]string{"code": "token_expired"}}
	})
	connected := make(chan *socketio.Socket, 1)
	auths := make(chan json.RawMessage, 1)
	ns.OnConnect(func(s *socketio.Socket) {
		auths <- s.Handshake().Auth
		connected <- s
	})

	c := dial(t, srv)
	c.send(`0{"token":"old"}`)
	c.expectText(`4{"message":"unauthorized","data":{"code":"token_expired"}}`)
	c.send(`0`)
	c.expectText(`4{"message":"unauthorized","data":{"code":"invalid_token"}}`)
	c.send(`0{"token":"plain"}`)
	c.expectText(`4{"message":"plain refusal"}`)
	if ns.RoomSize("user:u1") != 0 || len(ns.Sockets()) != 0 {
		t.Fatal("refused sockets left traces")
	}
	c.connect("/", `{"token":"good"}`)
	s := recv(t, connected)
	if v := s.Data(); v != "u1" {
		t.Fatal("SetData/Data", v)
	}
	if auth := recv(t, auths); string(auth) != `{"token":"good"}` {
		t.Fatalf("auth %s", auth)
	}
	if ns.RoomSize("user:u1") != 1 {
		t.Fatal("middleware join lost")
	}
}

// The handshake's request and auth are inputs of the connect: a connected socket lets them go,
// and a namespace joined after the connection's first has no request (the connection was
// admitted, engineio.Conn.Request), though it has its own auth while it connects.
func TestHandshakeLetGoAfterConnect(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	handshakes := make(chan socketio.Handshake, 4)
	record := func(s *socketio.Socket, _ socketio.Args, _ socketio.AckFunc) { handshakes <- s.Handshake() }
	srv.Of("/").On("check", record)
	custom := srv.Of("/custom")
	custom.OnConnect(func(s *socketio.Socket) { handshakes <- s.Handshake() })
	custom.On("check", record)

	c := dial(t, srv)
	c.connect("/", `{"token":"t"}`)
	c.send(`2["check"]`) // handled after the connect has finished
	if hs := recv(t, handshakes); hs.Auth != nil || hs.Request != nil || hs.Time.IsZero() {
		t.Fatalf("after connect: %+v", hs)
	}
	c.connect("/custom", `{"token":"c"}`)
	if hs := recv(t, handshakes); string(hs.Auth) != `{"token":"c"}` || hs.Request != nil {
		t.Fatalf("second namespace while connecting: %+v", hs)
	}
	c.send(`2/custom,["check"]`)
	if hs := recv(t, handshakes); hs.Auth != nil || hs.Request != nil {
		t.Fatalf("second namespace after connect: %+v", hs)
	}
}

func TestNamespaces(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	custom := srv.Of("custom") // leading slash added
	if custom.Name() != "/custom" {
		t.Fatal(custom.Name())
	}
	got := make(chan string, 2)
	custom.On("hi", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) { got <- "custom" })
	srv.Of("/").On("hi", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) { got <- "main" })

	c := dial(t, srv)
	c.send(`0/nope,`)
	c.expectText(`4/nope,{"message":"Invalid namespace"}`)
	c.connect("/custom", "")
	c.send(`2/custom,["hi"]`)
	if v := recv(t, got); v != "custom" {
		t.Fatal(v)
	}
	c.send(`2["hi"]`) // main namespace not joined: ignored
	c.connect("/", "")
	c.send(`2["hi"]`)
	if v := recv(t, got); v != "main" {
		t.Fatal(v)
	}
}

func TestEventsAndAcks(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	ns := srv.Of("/")
	type call struct {
		args socketio.Args
		ack  socketio.AckFunc
	}
	calls := make(chan call, 4)
	ns.On("msg", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		calls <- call{args, ack}
		if ack != nil {
			if err := ack(args.Values()...); err != nil {
				t.Error(err)
			}
			if err := ack(); !errors.Is(err, socketio.ErrAckSent) {
				t.Errorf("second ack: %v", err)
			}
		}
	})
	anys := make(chan string, 8)
	ns.OnAny(func(s *socketio.Socket, event string, args socketio.Args, ack socketio.AckFunc) { anys <- event })

	c := dial(t, srv)
	c.connect("/", "")
	c.send(`2["msg",1,{"a":"b"}]`)
	cl := recv(t, calls)
	var n int
	var obj map[string]string
	if cl.ack != nil || cl.args.Len() != 2 || cl.args.Decode(0, &n) != nil || n != 1 || cl.args.Decode(1, &obj) != nil || obj["a"] != "b" {
		t.Fatalf("args %v", cl.args)
	}
	c.send(`27["msg","x"]`)
	recv(t, calls)
	c.expectText(`37["x"]`)

	// Binary event with ack: the ack echoes the bytes as a BINARY_ACK.
	c.send(`51-13["msg",{"_placeholder":true,"num":0}]`)
	c.sendBin([]byte{1, 2, 3})
	cl = recv(t, calls)
	var b []byte
	if err := cl.args.Decode(0, &b); err != nil || !slices.Equal(b, []byte{1, 2, 3}) {
		t.Fatal(b, err)
	}
	p := c.next()
	if p.Type != socketio.PacketBinaryAck || p.ID != 13 || string(p.Data) != `[{"_placeholder":true,"num":0}]` || !slices.Equal(p.Attachments[0], []byte{1, 2, 3}) {
		t.Fatalf("binary ack %+v", p)
	}

	c.send(`2["unhandled"]`)
	for _, want := range []string{"msg", "msg", "msg", "unhandled"} {
		if got := recv(t, anys); got != want {
			t.Fatalf("OnAny got %s want %s", got, want)
		}
	}
}

func TestEmitAndEmitWithAck(t *testing.T) {
	srv := newTestServer(t, socketio.Config{AckTimeout: -1})
	sockets := make(chan *socketio.Socket, 1)
	srv.Of("/").OnConnect(func(s *socketio.Socket) { sockets <- s })
	c := dial(t, srv)
	c.connect("/", "")
	s := recv(t, sockets)

	if err := s.Emit("plain", "a", 2, []byte("bin")); err != nil {
		t.Fatal(err)
	}
	p := c.next()
	if p.Type != socketio.PacketBinaryEvent || string(p.Data) != `["plain","a",2,{"_placeholder":true,"num":0}]` || string(p.Attachments[0]) != "bin" {
		t.Fatalf("%+v %s", p, p.Data)
	}
	if err := s.Emit("disconnect"); err == nil {
		t.Fatal("reserved event emitted")
	}

	type result struct {
		args socketio.Args
		err  error
	}
	results := make(chan result, 1)
	go func() {
		a, err := s.EmitWithAck(context.Background(), "ask", "q")
		results <- result{a, err}
	}()
	p = c.next()
	if p.Type != socketio.PacketEvent || !p.HasID || string(p.Data) != `["ask","q"]` {
		t.Fatalf("%+v", p)
	}
	c.send(`3` + itoa(p.ID) + `["answer"]`)
	r := recv(t, results)
	var answer string
	if r.err != nil || r.args.Decode(0, &answer) != nil || answer != "answer" {
		t.Fatal(r.err, answer)
	}

	// Binary ack from the client.
	go func() {
		a, err := s.EmitWithAck(context.Background(), "ask")
		results <- result{a, err}
	}()
	p = c.next()
	c.send(`61-` + itoa(p.ID) + `[{"_placeholder":true,"num":0}]`)
	c.sendBin([]byte("yes"))
	r = recv(t, results)
	if b, ok := r.args.Bytes(0); r.err != nil || !ok || string(b) != "yes" {
		t.Fatal(r.err, b)
	}

	// The context ends first.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := s.EmitWithAck(ctx, "ask")
		results <- result{err: err}
	}()
	c.next()
	cancel()
	if r := recv(t, results); !errors.Is(r.err, context.Canceled) {
		t.Fatal(r.err)
	}

	// The socket goes away while waiting.
	go func() {
		_, err := s.EmitWithAck(context.Background(), "ask")
		results <- result{err: err}
	}()
	c.next()
	c.send(`1`)
	if r := recv(t, results); !errors.Is(r.err, socketio.ErrDisconnected) {
		t.Fatal(r.err)
	}
	if err := s.Emit("late"); !errors.Is(err, socketio.ErrDisconnected) {
		t.Fatal(err)
	}
}

func TestEmitWithAckTimeout(t *testing.T) {
	srv := newTestServer(t, socketio.Config{AckTimeout: time.Millisecond})
	sockets := make(chan *socketio.Socket, 1)
	srv.Of("/").OnConnect(func(s *socketio.Socket) { sockets <- s })
	c := dial(t, srv)
	c.connect("/", "")
	s := recv(t, sockets)
	if _, err := s.EmitWithAck(context.Background(), "ask"); !errors.Is(err, socketio.ErrAckTimeout) {
		t.Fatal(err)
	}
	// A late answer is ignored.
	p := c.next()
	c.send(`3` + itoa(p.ID) + `[]`)
	if err := s.Emit("still-alive"); err != nil {
		t.Fatal(err)
	}
	c.expectText(`2["still-alive"]`)
}

func TestEmitWithAckInsideHandler(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	srv.Of("/").On("start", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		a, err := s.EmitWithAck(context.Background(), "question")
		if err != nil {
			t.Error(err)
			return
		}
		_ = ack(a.Values()...)
	})
	c := dial(t, srv)
	c.connect("/", "")
	c.send(`21["start"]`)
	p := c.next()
	if string(p.Data) != `["question"]` {
		t.Fatalf("%s", p.Data)
	}
	c.send(`3` + itoa(p.ID) + `[42]`)
	c.expectText(`31[42]`)
}

func TestRoomsAndBroadcast(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	ns := srv.Of("/")
	ns.On("join", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		var room string
		_ = args.Decode(0, &room)
		s.Join(room)
		_ = ack()
	})
	ns.On("shout", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		_ = s.Broadcast().Emit("shouted", s.ID())
		_ = s.To("r1").Emit("to-r1", s.ID())
		_ = ack()
	})
	var cs [3]*testClient
	var ids [3]string
	for i := range cs {
		cs[i] = dial(t, srv)
		ids[i] = cs[i].connect("/", "").SID
	}
	// c0 in r1, c1 in r1 and r2, c2 in r2.
	joins := [][]string{{"r1"}, {"r1", "r2"}, {"r2"}}
	for i, rooms := range joins {
		for _, r := range rooms {
			cs[i].send(`21["join","` + r + `"]`)
			cs[i].expectText(`31[]`)
		}
	}
	if ns.RoomSize("r1") != 2 || ns.RoomSize("r2") != 2 || ns.RoomSize("none") != 0 {
		t.Fatal("room sizes")
	}
	if got := ns.In("r1", "r2").Sockets(); len(got) != 3 {
		t.Fatalf("union: %d sockets", len(got))
	}

	if err := ns.To("r1", "r2").Except("r2").Emit("a", 1); err != nil {
		t.Fatal(err)
	}
	cs[0].expectText(`2["a",1]`)
	if err := ns.To("r2").Except(ids[1]).Emit("b"); err != nil {
		t.Fatal(err)
	}
	cs[2].expectText(`2["b"]`)
	if err := ns.Emit("all"); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		c.expectText(`2["all"]`)
	}
	if err := ns.To("r1").EmitWithOffset("evt", "17", map[string]int{"x": 1}); err != nil {
		t.Fatal(err)
	}
	cs[0].expectText(`2["evt",{"x":1},"17"]`)
	cs[1].expectText(`2["evt",{"x":1},"17"]`)

	// Sender exclusion: c1 shouts.
	cs[1].send(`22["shout"]`)
	cs[0].expectText(`2["shouted","` + ids[1] + `"]`)
	cs[2].expectText(`2["shouted","` + ids[1] + `"]`)
	cs[0].expectText(`2["to-r1","` + ids[1] + `"]`)
	cs[1].expectText(`32[]`) // c1 got nothing before its ack

	// Bulk join/leave.
	ns.In("r2").SocketsJoin("r3")
	if ns.RoomSize("r3") != 2 {
		t.Fatal("SocketsJoin")
	}
	ns.In("r3").SocketsLeave("r3", "r1")
	if ns.RoomSize("r3") != 0 || ns.RoomSize("r1") != 1 {
		t.Fatal("SocketsLeave")
	}
	s0, _ := ns.Socket(ids[0])
	s0.Leave("r1")
	if ns.RoomSize("r1") != 0 || !slices.Equal(s0.Rooms(), []string{ids[0]}) {
		t.Fatal("Leave")
	}
}

// A socket's id names a room that holds it alone, from its connect to its disconnect: To, Except
// and RoomSize find it by its id, alone or beside rooms it joined, and it cannot leave it.
func TestSocketIDRoom(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	ns := srv.Of("/")
	var cs [2]*testClient
	var socks [2]*socketio.Socket
	for i := range cs {
		cs[i] = dial(t, srv)
		socks[i], _ = ns.Socket(cs[i].connect("/", "").SID)
	}
	a, b := socks[0], socks[1]
	b.Join("room", a.ID()) // joining another socket's id room is joining a room of that name
	a.Join(a.ID())         // a no-op: a is in it already
	a.Leave(a.ID())        // a no-op: a stays in it
	if n := ns.RoomSize(a.ID()); n != 2 {
		t.Fatalf("RoomSize(a's id) = %d, want a and b", n)
	}
	if !slices.Equal(a.Rooms(), []string{a.ID()}) {
		t.Fatalf("a's rooms %v", a.Rooms())
	}
	if err := ns.To(b.ID()).Emit("direct"); err != nil {
		t.Fatal(err)
	}
	cs[1].expectText(`2["direct"]`)
	// a's id room and a room b is in: each socket once.
	if err := ns.To(a.ID(), "room").Emit("both"); err != nil {
		t.Fatal(err)
	}
	cs[0].expectText(`2["both"]`)
	cs[1].expectText(`2["both"]`)
	if err := ns.Except(b.ID()).Emit("not-b"); err != nil {
		t.Fatal(err)
	}
	cs[0].expectText(`2["not-b"]`)
	if err := ns.To(b.ID()).Emit("end"); err != nil {
		t.Fatal(err)
	}
	cs[1].expectText(`2["end"]`) // not "not-b" first
	if got := ns.In(a.ID()).Sockets(); len(got) != 2 {
		t.Fatalf("In(a's id): %d sockets", len(got))
	}
	a.Disconnect(false)
	cs[0].expectText(`1`)
	if n := ns.RoomSize(a.ID()); n != 1 {
		t.Fatalf("RoomSize(a's id) after a left = %d, want b only", n)
	}
	if _, ok := ns.Socket(a.ID()); ok {
		t.Fatal("Socket(a's id) after a left")
	}
}

func TestDisconnectSockets(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	ns := srv.Of("/")
	other := srv.Of("/other")
	reasons := make(chan string, 4)
	ns.OnDisconnect(func(s *socketio.Socket, reason string) { reasons <- reason })
	other.OnDisconnect(func(s *socketio.Socket, reason string) { reasons <- "other: " + reason })
	ns.OnConnect(func(s *socketio.Socket) { s.Join("room") })

	a, b := dial(t, srv), dial(t, srv)
	a.connect("/", "")
	b.connect("/", "")
	b.connect("/other", "")

	ns.In("room").Except(a.connect("/other", "").SID).DisconnectSockets(false) // a's /other sid is not in "/"
	a.expectText(`1`)
	b.expectText(`1`)
	for range 2 {
		if r := recv(t, reasons); r != socketio.ReasonServerNamespaceDisconnect {
			t.Fatal(r)
		}
	}
	if ns.RoomSize("room") != 0 || len(ns.Sockets()) != 0 {
		t.Fatal("sockets remain")
	}
	// The transport stays open: b can join again and use /other.
	b.connect("/", "")
	other.In().DisconnectSockets(true) // every /other socket, with its transport
	for range 3 {
		r := recv(t, reasons)
		if r != socketio.ReasonServerNamespaceDisconnect && r != "other: "+socketio.ReasonServerNamespaceDisconnect {
			t.Fatal(r)
		}
	}
	a.closed()
	b.closed()
}

func TestClientDisconnect(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	ns := srv.Of("/")
	ns.OnConnect(func(s *socketio.Socket) { s.Join("room") })
	reasons := make(chan string, 2)
	ns.OnDisconnect(func(s *socketio.Socket, reason string) {
		if len(s.Rooms()) != 0 {
			t.Error("rooms kept after disconnect")
		}
		reasons <- reason
	})
	c := dial(t, srv)
	c.connect("/", "")
	c.send(`1`)
	if r := recv(t, reasons); r != socketio.ReasonClientNamespaceDisconnect {
		t.Fatal(r)
	}
	if ns.RoomSize("room") != 0 {
		t.Fatal("room kept")
	}
	c.connect("/", "") // the transport is still usable
	c.conn.Close("transport close")
	if r := recv(t, reasons); r != "transport close" {
		t.Fatal(r)
	}
}

func TestInvalidPacketsCloseTheConnection(t *testing.T) {
	for _, in := range []string{`2{}`, `2[]`, `9`, `4{"message":"x"}`, `0"x"`, `3[]`} {
		t.Run(in, func(t *testing.T) {
			srv := newTestServer(t, socketio.Config{})
			reasons := make(chan string, 1)
			srv.Of("/").OnDisconnect(func(s *socketio.Socket, reason string) { reasons <- reason })
			c := dial(t, srv)
			c.connect("/", "")
			c.send(in)
			if r := c.closed(); r != socketio.ReasonParseError {
				t.Fatal(r)
			}
			if r := recv(t, reasons); r != socketio.ReasonParseError {
				t.Fatal(r)
			}
		})
	}
}

func TestBinaryAttachmentExpected(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	c := dial(t, srv)
	c.connect("/", "")
	c.send(`51-["a",{"_placeholder":true,"num":0}]`)
	c.send(`2["b"]`)
	if r := c.closed(); r != socketio.ReasonParseError {
		t.Fatal(r)
	}
}

func TestConnectTimeout(t *testing.T) {
	srv := newTestServer(t, socketio.Config{ConnectTimeout: time.Millisecond})
	c := dial(t, srv)
	if r := c.closed(); r != "connect timeout" {
		t.Fatal(r)
	}
}

func TestConnectTimeoutOffOnceConnected(t *testing.T) {
	srv := newTestServer(t, socketio.Config{ConnectTimeout: 50 * time.Millisecond})
	block := make(chan struct{})
	srv.Of("/").On("wait", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		<-block // outlives the connect timeout
		_ = ack()
	})
	c := dial(t, srv)
	c.connect("/", "")
	c.send(`21["wait"]`)
	time.AfterFunc(200*time.Millisecond, func() { close(block) })
	c.expectText(`31[]`) // the connection was not closed meanwhile
}

func TestShutdown(t *testing.T) {
	srv := socketio.NewTestServer(socketio.Config{})
	reasons := make(chan string, 2)
	srv.Of("/").OnDisconnect(func(s *socketio.Socket, reason string) { reasons <- reason })
	a, b := dial(t, srv), dial(t, srv)
	a.connect("/", "")
	b.connect("/", "")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testClient{a, b} {
		if r := c.closed(); r != socketio.ReasonServerShuttingDown {
			t.Fatal(r)
		}
		select {
		case m := <-c.conn.out:
			t.Fatalf("sent %q on shutdown", m.Data)
		default:
		}
	}
	for range 2 {
		if r := recv(t, reasons); r != socketio.ReasonServerShuttingDown {
			t.Fatal(r)
		}
	}
	if srv.Count() != 0 {
		t.Fatal(srv.Count())
	}
}

func TestHandlerPanicClosesConnection(t *testing.T) {
	srv := newTestServer(t, socketio.Config{Logger: discardLogger()})
	srv.Of("/").On("boom", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) { panic("boom") })
	c := dial(t, srv)
	c.connect("/", "")
	c.send(`2["boom"]`)
	if r := c.closed(); r != "server error" {
		t.Fatal(r)
	}
}

func TestTooManyPendingPackets(t *testing.T) {
	srv := newTestServer(t, socketio.Config{MaxPendingPackets: 2})
	block := make(chan struct{})
	srv.Of("/").On("slow", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) { <-block })
	c := dial(t, srv)
	c.connect("/", "")
	for range 4 {
		c.send(`2["slow"]`)
	}
	if r := c.closed(); r != "too many pending packets" {
		t.Fatal(r)
	}
	close(block)
}

func TestEmitDuringMiddlewareIsSentAfterConnect(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	srv.Of("/").Use(func(s *socketio.Socket, auth json.RawMessage) error {
		s.Join("early")
		_ = s.Emit("hello")
		return s.Namespace().To("early").Emit("room")
	})
	c := dial(t, srv)
	c.connect("/", "")
	c.expectText(`2["hello"]`)
	c.expectText(`2["room"]`)
}

func itoa(n uint64) string { return string(appendUint(nil, n)) }

func appendUint(b []byte, n uint64) []byte {
	if n >= 10 {
		b = appendUint(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// OnClose runs for every socket a middleware saw pass: refused by a later middleware (no
// OnDisconnect there), and after OnDisconnect for one that connected.
func TestOnCloseRunsForRefusedAndConnectedSockets(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	ns := srv.Of("/")
	events := make(chan string, 8)
	ns.Use(func(s *socketio.Socket, auth json.RawMessage) error {
		s.OnClose(func() { events <- "close " + string(auth) })
		return nil
	})
	ns.Use(func(s *socketio.Socket, auth json.RawMessage) error {
		if string(auth) == `{"refuse":true}` {
			return errors.New("refused")
		}
		return nil
	})
	ns.OnDisconnect(func(s *socketio.Socket, reason string) { events <- "disconnect" })

	c := dial(t, srv)
	c.send(`0{"refuse":true}`)
	c.expectText(`4{"message":"refused"}`)
	if got := recv(t, events); got != `close {"refuse":true}` {
		t.Fatalf("refused socket: %q", got)
	}
	c.connect("/", `{"ok":1}`)
	c.send(`1`)
	for _, want := range []string{"disconnect", `close {"ok":1}`} {
		if got := recv(t, events); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	select {
	case extra := <-events:
		t.Fatalf("ran twice: %q", extra)
	default:
	}
}
