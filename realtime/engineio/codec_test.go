package engineio_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pagespace/pagespace/realtime/engineio"
)

func TestDecodePayload(t *testing.T) {
	pkts, err := engineio.DecodePayload([]byte("4hello\x1e2\x1e4world\x1ebAQIDBA==\x1e6"))
	if err != nil {
		t.Fatal(err)
	}
	want := []engineio.Packet{
		{Type: engineio.PacketMessage, Data: []byte("hello")},
		{Type: engineio.PacketPing, Data: []byte{}},
		{Type: engineio.PacketMessage, Data: []byte("world")},
		{Type: engineio.PacketMessage, Data: []byte{1, 2, 3, 4}, Binary: true},
		{Type: engineio.PacketNoop, Data: []byte{}},
	}
	if len(pkts) != len(want) {
		t.Fatalf("got %d packets", len(pkts))
	}
	for i := range want {
		if !samePacket(pkts[i], want[i]) {
			t.Errorf("packet %d: %+v, want %+v", i, pkts[i], want[i])
		}
	}
	for _, bad := range []string{"", "\x1e", "4a\x1e", "7", "x", "b!!", "4\xc3", "42\x1e\x1e43"} {
		if _, err := engineio.DecodePayload([]byte(bad)); !errors.Is(err, engineio.ErrInvalidPacket) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestEncodePayload(t *testing.T) {
	got := engineio.EncodePayload([]engineio.Packet{
		{Type: engineio.PacketMessage, Data: []byte("hello")},
		{Type: engineio.PacketMessage, Data: []byte{1, 2, 3, 4}, Binary: true},
		{Type: engineio.PacketPing},
	})
	if string(got) != "4hello\x1ebAQIDBA==\x1e2" {
		t.Fatalf("got %q", got)
	}
}

func samePacket(a, b engineio.Packet) bool {
	return a.Type == b.Type && a.Binary == b.Binary && bytes.Equal(a.Data, b.Data)
}

// FuzzDecodePayload checks that decoding never panics and that whatever decodes survives an
// encode/decode round trip unchanged.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4hello", "4test1\x1e4test2\x1e4test3", "4hello\x1ebAQIDBA==", "2", "3", "1", "6", "2probe", "abc", "", "b", "4\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pkts, err := engineio.DecodePayload(body)
		if err != nil {
			if pkts != nil {
				t.Fatal("packets with an error")
			}
			return
		}
		if len(pkts) > len(body)+1 {
			t.Fatalf("%d packets from %d bytes", len(pkts), len(body))
		}
		again, err := engineio.DecodePayload(engineio.EncodePayload(pkts))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if len(again) != len(pkts) {
			t.Fatalf("round trip: %d packets, want %d", len(again), len(pkts))
		}
		for i := range pkts {
			if !samePacket(pkts[i], again[i]) {
				t.Fatalf("round trip: %+v, want %+v", again[i], pkts[i])
			}
		}
	})
}

// FuzzDecodePacket does the same for single packets (WebSocket text frames).
func FuzzDecodePacket(f *testing.F) {
	for _, s := range []string{"4hello", "2probe", "5", "bAQIDBA==", "0{}", "9", "", "4\xe2\x82"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := engineio.DecodePacket(b)
		if err != nil {
			return
		}
		if len(p.Data) > len(b) {
			t.Fatalf("%d bytes of data from %d", len(p.Data), len(b))
		}
		again, err := engineio.DecodePacket(engineio.AppendPacket(nil, p))
		if err != nil || !samePacket(p, again) {
			t.Fatalf("round trip: %+v %v, want %+v", again, err, p)
		}
	})
}

var benchPackets = []engineio.Packet{
	{Type: engineio.PacketMessage, Data: []byte(`2["chat:message",{"pageId":"123","text":"hello there, how are you?"}]`)},
	{Type: engineio.PacketMessage, Data: bytes.Repeat([]byte{7}, 256), Binary: true},
	{Type: engineio.PacketPing},
	{Type: engineio.PacketMessage, Data: []byte(`2["presence",{"users":["a","b","c"]}]`)},
}

func BenchmarkEncodePayload(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = engineio.EncodePayload(benchPackets)
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	body := engineio.EncodePayload(benchPackets)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := engineio.DecodePayload(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePacket(b *testing.B) {
	frame := engineio.AppendPacket(nil, benchPackets[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := engineio.DecodePacket(frame); err != nil {
			b.Fatal(err)
		}
	}
}
