package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait on the server; the tests never sleep.
const wait = 5 * time.Second

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startReference serves the reference handler on 127.0.0.1:0 until the test ends.
func startReference(t *testing.T) string {
	t.Helper()
	ref := newReference(options{engineIO: true, logger: quietLogger()})
	ts := httptest.NewServer(ref)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := ref.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
	})
	return ts.URL
}

// wsClient is a raw WebSocket client speaking Engine.IO packets.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

type frame struct {
	binary bool
	data   string
}

func dialWS(t *testing.T, base, path string) *wsClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + path + "?EIO=4&transport=websocket"
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn}
	open := c.next()
	if !strings.HasPrefix(open.data, "0{") {
		t.Fatalf("first frame %q, want an open packet", open.data)
	}
	return c
}

func (c *wsClient) send(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("send binary: %v", err)
	}
}

// read returns the next frame, answering pings on the way unless keepPings is set.
func (c *wsClient) read(keepPings bool) (frame, error) {
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(wait))
		typ, data, err := c.conn.ReadMessage()
		if err != nil {
			return frame{}, err
		}
		f := frame{binary: typ == websocket.BinaryMessage, data: string(data)}
		if !f.binary && f.data == "2" && !keepPings {
			if err := c.conn.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
				return frame{}, err
			}
			continue
		}
		return f, nil
	}
}

func (c *wsClient) next() frame {
	c.t.Helper()
	f, err := c.read(false)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

func (c *wsClient) expect(want string) {
	c.t.Helper()
	if f := c.next(); f.binary || f.data != want {
		c.t.Fatalf("got %q (binary %v), want %q", f.data, f.binary, want)
	}
}

func (c *wsClient) expectBinary(want []byte) {
	c.t.Helper()
	if f := c.next(); !f.binary || f.data != string(want) {
		c.t.Fatalf("got %q (binary %v), want binary %v", f.data, f.binary, want)
	}
}

// expectClosed waits for the server to end the connection, answering pings meanwhile.
func (c *wsClient) expectClosed() {
	c.t.Helper()
	for {
		f, err := c.read(false)
		if err == nil {
			if !f.binary && f.data == "1" { // an Engine.IO close packet precedes the close frame
				continue
			}
			c.t.Fatalf("got %q, want the connection closed", f.data)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatal("connection still open")
		}
		return
	}
}

// connect joins nsp ("/" or "/custom") with auth ("" for none) and checks the CONNECT reply and
// the auth event that follows it.
func (c *wsClient) connect(nsp, auth, wantAuth string) {
	c.t.Helper()
	ns := ""
	if nsp != "/" {
		ns = nsp + ","
	}
	c.send("40" + ns + auth)
	f := c.next()
	if !strings.HasPrefix(f.data, "40"+ns) {
		c.t.Fatalf("connect %s: got %q", nsp, f.data)
	}
	var reply map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(f.data, "40"+ns)), &reply); err != nil {
		c.t.Fatalf("connect reply %q: %v", f.data, err)
	}
	if _, ok := reply["sid"].(string); !ok || len(reply) != 1 {
		c.t.Fatalf("connect reply %q: want only a string sid (recovery off)", f.data)
	}
	c.expect("42" + ns + `["auth",` + wantAuth + `]`)
}

func TestHandshakeSettings(t *testing.T) {
	base := startReference(t)
	for _, path := range []string{"/socket.io/", "/engine.io/"} {
		req, _ := http.NewRequest(http.MethodGet, base+path+"?EIO=4&transport=polling", nil)
		req.Header.Set("Origin", "https://suite.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || body[0] != '0' {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://suite.example" {
			t.Errorf("%s: Access-Control-Allow-Origin %q", path, got)
		}
		var open struct {
			SID          string   `json:"sid"`
			Upgrades     []string `json:"upgrades"`
			PingInterval int      `json:"pingInterval"`
			PingTimeout  int      `json:"pingTimeout"`
			MaxPayload   int      `json:"maxPayload"`
		}
		if err := json.Unmarshal(body[1:], &open); err != nil {
			t.Fatal(err)
		}
		if open.SID == "" || len(open.Upgrades) != 1 || open.Upgrades[0] != "websocket" ||
			open.PingInterval != 300 || open.PingTimeout != 200 || open.MaxPayload != 1_000_000 {
			t.Errorf("%s: open packet %s", path, body)
		}
	}
	resp, err := http.Get(base + "/socket.io/?EIO=abc&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("EIO=abc: %d, want 400", resp.StatusCode)
	}
}

func TestSocketIONamespaces(t *testing.T) {
	base := startReference(t)

	c := dialWS(t, base, "/socket.io/")
	c.connect("/", "", "{}")
	c.connect("/custom", `{"token":"abc"}`, `{"token":"abc"}`)
	c.send("40/random")
	c.expect(`44/random,{"message":"Invalid namespace"}`)

	// Leaving /custom keeps the connection and the main namespace.
	c.send("41/custom")
	c.send(`42["message","to main"]`)
	c.expect(`42["message-back","to main"]`)

	// Leaving the last namespace keeps the connection too: the next thing is a ping.
	c.send("41")
	if f, err := c.read(true); err != nil || f.data != "2" {
		t.Fatalf("after 41: %q, %v; want a ping", f.data, err)
	}
}

func TestSocketIOMessages(t *testing.T) {
	base := startReference(t)
	c := dialWS(t, base, "/socket.io/")
	c.connect("/", `{"token":"123"}`, `{"token":"123"}`)

	c.send(`42["message",1,"2",{"3":[true]}]`)
	c.expect(`42["message-back",1,"2",{"3":[true]}]`)

	c.send(`42456["message-with-ack",1,"2",{"3":[false]}]`)
	c.expect(`43456[1,"2",{"3":[false]}]`)

	c.send(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.sendBinary([]byte{4, 5, 6})
	c.expect(`452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.expectBinary([]byte{1, 2, 3})
	c.expectBinary([]byte{4, 5, 6})

	c.send(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.sendBinary([]byte{4, 5, 6})
	c.expect(`462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.expectBinary([]byte{1, 2, 3})
	c.expectBinary([]byte{4, 5, 6})
}

func TestSocketIOInvalidPacketsClose(t *testing.T) {
	base := startReference(t)
	for _, pkt := range []string{"4abc", "42{}", `42abc["message-with-ack",1]`} {
		t.Run(pkt, func(t *testing.T) {
			c := dialWS(t, base, "/socket.io/")
			c.connect("/", "", "{}")
			c.send(pkt)
			c.expectClosed()
		})
	}
}

func TestSocketIOConnectTimeout(t *testing.T) {
	base := startReference(t)
	c := dialWS(t, base, "/socket.io/")
	// Pings are answered, so only the connect timeout can close a connection that never sends
	// CONNECT. (No assertion on when: timing is for benchmarks, not tests.)
	c.expectClosed()
}

func TestEngineIOEcho(t *testing.T) {
	base := startReference(t)

	c := dialWS(t, base, "/engine.io/")
	c.send("4hello")
	c.expect("4hello")
	c.sendBinary([]byte{1, 2, 3, 4})
	c.expectBinary([]byte{1, 2, 3, 4})

	resp, err := http.Get(base + "/engine.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var open struct{ SID string }
	if err := json.Unmarshal(body[1:], &open); err != nil {
		t.Fatalf("handshake %q: %v", body, err)
	}
	u := base + "/engine.io/?EIO=4&transport=polling&sid=" + open.SID
	resp, err = http.Post(u, "text/plain;charset=UTF-8", strings.NewReader("4hello\x1ebAQIDBA=="))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("post: %d %q", resp.StatusCode, body)
	}
	resp, err = http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, []byte("4hello\x1ebAQIDBA==")) {
		t.Fatalf("poll: %q", body)
	}
}

// TestRunStopsGracefully plays SIGTERM: run returns nil and open sessions are cut without a
// close packet, so that clients would reconnect.
func TestRunStopsGracefully(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, options{engineIO: true, logger: quietLogger()}) }()

	c := dialWS(t, "http://"+ln.Addr().String(), "/socket.io/")
	c.connect("/", "", "{}")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("run did not return")
	}
	for {
		f, err := c.read(false)
		if err != nil {
			break
		}
		if f.data == "1" || strings.HasPrefix(f.data, "41") {
			t.Fatalf("got %q on shutdown, want the transport cut", f.data)
		}
	}
}
