package socketio_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pagespace/pagespace/realtime/engineio"
	"github.com/pagespace/pagespace/realtime/socketio"
)

type pageUpdated struct {
	EventID string `json:"eventId"`
	PageID  string `json:"pageId"`
	DriveID string `json:"driveId"`
	ActorID string `json:"actorId"`
	Title   string `json:"title"`
}

var benchPayload = pageUpdated{EventID: "123456789", PageID: "p1", DriveID: "d1", ActorID: "u1", Title: "A page title of ordinary length"}

func BenchmarkEncodeEvent(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := socketio.EncodeEvent("/", "page_updated", benchPayload, "123456789"); err != nil {
			b.Fatal(err)
		}
	}
}

// sinkConn takes the bytes and counts the messages, nothing else.
type sinkConn struct {
	id  string
	srv *socketio.Server
	n   atomic.Int64
}

func (c *sinkConn) ID() string             { return c.id }
func (c *sinkConn) Request() *http.Request { return nil }
func (c *sinkConn) Close(reason string)    { c.srv.Closed(c, reason) }
func (c *sinkConn) Send(msgs ...engineio.Message) error {
	c.n.Add(int64(len(msgs)))
	return nil
}

func BenchmarkBroadcastRoom10k(b *testing.B) {
	const n = 10_000
	srv := socketio.NewTestServer(socketio.Config{})
	ns := srv.Of("/")
	var wg sync.WaitGroup
	wg.Add(n)
	ns.OnConnect(func(s *socketio.Socket) { s.Join("page:1"); wg.Done() })
	conns := make([]*sinkConn, n)
	for i := range conns {
		conns[i] = &sinkConn{id: "c" + strconv.Itoa(i), srv: srv}
		srv.Open(conns[i])
		srv.Message(conns[i], engineio.Message{Data: []byte("0")})
	}
	wg.Wait()
	if got := ns.RoomSize("page:1"); got != n {
		b.Fatal(got)
	}
	op := ns.To("page:1")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := op.EmitWithOffset("page_updated", "123456789", benchPayload); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if conns[0].n.Load() < 2 { // CONNECT reply and at least one event
		b.Fatal("nothing sent")
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDecodeEvent decodes the text packet BenchmarkEncodeEvent produces (validation and the
// split into arguments included; unmarshalling an argument is the handler's cost).
func BenchmarkDecodeEvent(b *testing.B) {
	msgs, err := socketio.EncodeEvent("/", "page_updated", benchPayload, "123456789")
	if err != nil || len(msgs) != 1 {
		b.Fatal(msgs, err)
	}
	b.SetBytes(int64(len(msgs[0].Data)))
	b.ReportAllocs()
	for b.Loop() {
		var d socketio.Decoder
		p, err := d.Add(msgs[0])
		if err != nil || p == nil {
			b.Fatal(p, err)
		}
	}
}

// BenchmarkDecodeBinaryEvent decodes an event with one 4 KiB attachment (two Engine.IO messages).
func BenchmarkDecodeBinaryEvent(b *testing.B) {
	msgs, err := socketio.EncodeEvent("/", "upload", "name.bin", make([]byte, 4096))
	if err != nil || len(msgs) != 2 {
		b.Fatal(len(msgs), err)
	}
	b.SetBytes(int64(len(msgs[0].Data) + len(msgs[1].Data)))
	b.ReportAllocs()
	for b.Loop() {
		var d socketio.Decoder
		if p, err := d.Add(msgs[0]); err != nil || p != nil {
			b.Fatal(p, err)
		}
		if p, err := d.Add(msgs[1]); err != nil || p == nil || len(p.Attachments) != 1 {
			b.Fatal(p, err)
		}
	}
}
