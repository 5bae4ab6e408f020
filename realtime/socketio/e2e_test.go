package socketio_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pagespace/pagespace/realtime/engineio"
	"github.com/pagespace/pagespace/realtime/socketio"
)

// startServer serves srv at /socket.io/ on a real HTTP server, shut down with the test.
func startServer(t *testing.T, cfg socketio.Config) (*socketio.Server, *httptest.Server) {
	t.Helper()
	srv := socketio.NewServer(cfg)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
	})
	return srv, hs
}

// wsClient speaks Engine.IO over a gorilla WebSocket and answers pings.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	dec  socketio.Decoder
}

func dialWS(t *testing.T, hs *httptest.Server) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn}
	typ, data := c.frame()
	if typ != websocket.TextMessage || len(data) == 0 || data[0] != '0' {
		t.Fatalf("open packet %q", data)
	}
	return c
}

func (c *wsClient) frame() (int, []byte) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	typ, data, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return typ, data
}

func (c *wsClient) send(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte("4"+s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) sendBin(b []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next Socket.IO packet, answering Engine.IO pings on the way.
func (c *wsClient) next() *socketio.Packet {
	c.t.Helper()
	for {
		typ, data := c.frame()
		var m engineio.Message
		if typ == websocket.BinaryMessage {
			m = engineio.Message{Binary: true, Data: data}
		} else {
			switch {
			case string(data) == "2":
				_ = c.conn.WriteMessage(websocket.TextMessage, []byte("3"))
				continue
			case len(data) > 0 && data[0] == '4':
				m = engineio.Message{Data: data[1:]}
			default:
				c.t.Fatalf("unexpected Engine.IO packet %q", data)
			}
		}
		p, err := c.dec.Add(m)
		if err != nil {
			c.t.Fatalf("invalid packet from the server: %v", err)
		}
		if p != nil {
			return p
		}
	}
}

func expectPacket(t *testing.T, p *socketio.Packet, typ socketio.PacketType, data string) {
	t.Helper()
	if p.Type != typ || string(p.Data) != data {
		t.Fatalf("got %v %s, want %v %s", p.Type, p.Data, typ, data)
	}
}

func e2eNamespace(srv *socketio.Server) {
	ns := srv.Of("/")
	ns.Use(func(s *socketio.Socket, auth json.RawMessage) error {
		var a struct{ Token string }
		if json.Unmarshal(auth, &a) != nil || a.Token != "secret" {
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]string{"code": "invalid_token"}}
		}
		return nil
	})
	ns.OnConnect(func(s *socketio.Socket) { s.Join("everyone") })
	ns.On("message", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		_ = s.Emit("message-back", args.Values()...)
	})
	ns.On("message-with-ack", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		if ack != nil {
			_ = ack(args.Values()...)
		}
	})
	ns.On("shout", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		_ = s.Broadcast().To("everyone").Emit("shouted", args.Values()...)
	})
}

func TestE2EWebSocket(t *testing.T) {
	srv, hs := startServer(t, socketio.Config{})
	e2eNamespace(srv)

	c := dialWS(t, hs)
	c.send(`0{"token":"bad"}`)
	expectPacket(t, c.next(), socketio.PacketConnectError, `{"message":"unauthorized","data":{"code":"invalid_token"}}`)
	c.send(`0{"token":"secret"}`)
	p := c.next()
	var r connectReply
	if p.Type != socketio.PacketConnect || json.Unmarshal(p.Data, &r) != nil || r.SID == "" || r.PID != "" {
		t.Fatalf("connect reply %s", p.Data)
	}

	c.send(`2["message",1,"2",{"3":[true]}]`)
	expectPacket(t, c.next(), socketio.PacketEvent, `["message-back",1,"2",{"3":[true]}]`)

	c.send(`21["message-with-ack",1,"2"]`)
	p = c.next()
	expectPacket(t, p, socketio.PacketAck, `[1,"2"]`)
	if p.ID != 1 {
		t.Fatal(p.ID)
	}

	// Binary both ways: attachments travel as binary frames.
	c.send(`51-2["message-with-ack",{"_placeholder":true,"num":0}]`)
	c.sendBin([]byte{1, 2, 3})
	p = c.next()
	expectPacket(t, p, socketio.PacketBinaryAck, `[{"_placeholder":true,"num":0}]`)
	if p.ID != 2 || !bytes.Equal(p.Attachments[0], []byte{1, 2, 3}) {
		t.Fatalf("%+v", p)
	}

	// A second client receives the first one's broadcast; the sender does not.
	c2 := dialWS(t, hs)
	c2.send(`0{"token":"secret"}`)
	c2.next()
	// OnConnect (which joins "everyone") runs on c2's own goroutine, possibly after the CONNECT
	// reply; an ack round trip on c2 orders it before the shout.
	c2.send(`21["message-with-ack",1]`)
	c2.next()
	c.send(`2["shout","hi"]`)
	expectPacket(t, c2.next(), socketio.PacketEvent, `["shouted","hi"]`)

	// Server to client with ack.
	s, ok := srv.Of("/").Socket(r.SID)
	if !ok {
		t.Fatal("socket not found")
	}
	results := make(chan error, 1)
	go func() {
		a, err := s.EmitWithAck(context.Background(), "question", 42)
		var n int
		if err == nil {
			err = a.Decode(0, &n)
		}
		if err == nil && n != 43 {
			err = io.ErrUnexpectedEOF
		}
		results <- err
	}()
	p = c.next()
	expectPacket(t, p, socketio.PacketEvent, `["question",42]`)
	c.send(`3` + itoa(p.ID) + `[43]`)
	if err := recv(t, results); err != nil {
		t.Fatal(err)
	}

	// An invalid packet closes the transport.
	c2.send(`2{"not":"an array"}`)
	for {
		_ = c2.conn.SetReadDeadline(time.Now().Add(wait))
		_, data, err := c2.conn.ReadMessage()
		if err != nil {
			break
		}
		if string(data) == "2" {
			continue
		}
		if string(data) != "1" { // the Engine.IO close packet may precede the close frame
			t.Fatalf("unexpected %q after an invalid packet", data)
		}
	}
}

func TestE2EShutdownClosesWithoutDisconnect(t *testing.T) {
	srv := socketio.NewServer(socketio.Config{})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	reasons := make(chan string, 1)
	srv.Of("/").OnDisconnect(func(s *socketio.Socket, reason string) { reasons <- reason })
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &wsClient{t: t, conn: conn}
	c.frame()
	c.send(`0`)
	c.next()

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := recv(t, reasons); r != socketio.ReasonServerShuttingDown {
		t.Fatal(r)
	}
	for {
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		_, data, err := conn.ReadMessage()
		if err != nil {
			break
		}
		if bytes.HasPrefix(data, []byte("41")) || string(data) == "1" {
			t.Fatalf("shutdown sent %q", data)
		}
	}
}

// pollClient speaks Engine.IO long-polling.
type pollClient struct {
	t   *testing.T
	url string
	dec socketio.Decoder
	buf []*socketio.Packet
}

func dialPolling(t *testing.T, hs *httptest.Server) *pollClient {
	t.Helper()
	base := hs.URL + "/socket.io/?EIO=4&transport=polling"
	body := httpDo(t, http.MethodGet, base, "")
	if !strings.HasPrefix(body, "0") {
		t.Fatalf("open %q", body)
	}
	var open struct{ SID string }
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil || open.SID == "" {
		t.Fatalf("open %q: %v", body, err)
	}
	return &pollClient{t: t, url: base + "&sid=" + open.SID}
}

func httpDo(t *testing.T, method, url, body string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %q %v", method, resp.StatusCode, b, err)
	}
	return string(b)
}

// send posts Socket.IO packets (text, already encoded), several in one body.
func (c *pollClient) send(pkts ...string) {
	c.t.Helper()
	parts := make([]string, len(pkts))
	for i, p := range pkts {
		parts[i] = "4" + p
	}
	if got := httpDo(c.t, http.MethodPost, c.url, strings.Join(parts, "\x1e")); got != "ok" {
		c.t.Fatalf("POST answered %q", got)
	}
}

// next returns the next Socket.IO packet, polling as needed and answering pings.
func (c *pollClient) next() *socketio.Packet {
	c.t.Helper()
	for len(c.buf) == 0 {
		body := httpDo(c.t, http.MethodGet, c.url, "")
		for _, part := range strings.Split(body, "\x1e") {
			var m engineio.Message
			switch {
			case part == "2":
				if got := httpDo(c.t, http.MethodPost, c.url, "3"); got != "ok" {
					c.t.Fatalf("pong answered %q", got)
				}
				continue
			case part == "6":
				continue
			case strings.HasPrefix(part, "b"):
				b, err := base64.StdEncoding.DecodeString(part[1:])
				if err != nil {
					c.t.Fatal(err)
				}
				m = engineio.Message{Binary: true, Data: b}
			case strings.HasPrefix(part, "4"):
				m = engineio.Message{Data: []byte(part[1:])}
			default:
				c.t.Fatalf("unexpected Engine.IO packet %q", part)
			}
			p, err := c.dec.Add(m)
			if err != nil {
				c.t.Fatalf("invalid packet from the server: %v", err)
			}
			if p != nil {
				c.buf = append(c.buf, p)
			}
		}
	}
	p := c.buf[0]
	c.buf = c.buf[1:]
	return p
}

func TestE2EPolling(t *testing.T) {
	srv, hs := startServer(t, socketio.Config{Recovery: &socketio.RecoveryConfig{
		Recover: func(s *socketio.Socket, pid, offset string) bool {
			if pid != "known" {
				return false
			}
			_ = s.EmitWithOffset("missed", "6", "replayed")
			return true
		},
	}})
	e2eNamespace(srv)
	srv.Of("/custom")

	c := dialPolling(t, hs)
	c.send(`0{"token":"secret","pid":"known","offset":"5"}`, `0/custom,`)
	p := c.next()
	var r connectReply
	if p.Type != socketio.PacketConnect || json.Unmarshal(p.Data, &r) != nil || r.PID != "known" {
		t.Fatalf("connect reply %s", p.Data)
	}
	expectPacket(t, c.next(), socketio.PacketEvent, `["missed","replayed","6"]`)
	p = c.next()
	if p.Type != socketio.PacketConnect || p.Namespace != "/custom" {
		t.Fatalf("custom connect %+v", p)
	}

	c.send(`21["message-with-ack","x"]`)
	expectPacket(t, c.next(), socketio.PacketAck, `["x"]`)

	// Binary over polling: the attachment is base64 with a "b" prefix.
	c.send(`51-["message",{"_placeholder":true,"num":0}]`)
	if got := httpDo(t, http.MethodPost, c.url, "b"+base64.StdEncoding.EncodeToString([]byte("bin"))); got != "ok" {
		t.Fatal(got)
	}
	p = c.next()
	expectPacket(t, p, socketio.PacketBinaryEvent, `["message-back",{"_placeholder":true,"num":0}]`)
	if string(p.Attachments[0]) != "bin" {
		t.Fatalf("%q", p.Attachments[0])
	}

	if err := srv.Of("/").To("everyone").EmitWithOffset("page_updated", "7", map[string]string{"pageId": "p"}); err != nil {
		t.Fatal(err)
	}
	expectPacket(t, c.next(), socketio.PacketEvent, `["page_updated",{"pageId":"p"},"7"]`)

	srv.Of("/custom").DisconnectSockets(false)
	p = c.next()
	if p.Type != socketio.PacketDisconnect || p.Namespace != "/custom" {
		t.Fatalf("%+v", p)
	}
}
