package socketio_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pagespace/pagespace/realtime/engineio"
	"github.com/pagespace/pagespace/realtime/socketio"
)

func text(s string) engineio.Message { return engineio.Message{Data: []byte(s)} }
func bin(b ...byte) engineio.Message { return engineio.Message{Binary: true, Data: b} }

func TestDecodeValid(t *testing.T) {
	tests := []struct {
		name  string
		in    []engineio.Message
		want  socketio.Packet
		nargs int // -1: not checked
	}{
		{"connect main", []engineio.Message{text("0")}, socketio.Packet{Type: socketio.PacketConnect, Namespace: "/"}, -1},
		{"connect auth", []engineio.Message{text(`0{"token":"x"}`)}, socketio.Packet{Type: socketio.PacketConnect, Namespace: "/", Data: json.RawMessage(`{"token":"x"}`)}, -1},
		{"connect nsp with comma", []engineio.Message{text("0/custom,")}, socketio.Packet{Type: socketio.PacketConnect, Namespace: "/custom"}, -1},
		{"connect nsp without comma", []engineio.Message{text("0/custom")}, socketio.Packet{Type: socketio.PacketConnect, Namespace: "/custom"}, -1},
		{"connect nsp auth", []engineio.Message{text(`0/admin,{"a":1}`)}, socketio.Packet{Type: socketio.PacketConnect, Namespace: "/admin", Data: json.RawMessage(`{"a":1}`)}, -1},
		{"disconnect", []engineio.Message{text("1")}, socketio.Packet{Type: socketio.PacketDisconnect, Namespace: "/"}, -1},
		{"disconnect nsp", []engineio.Message{text("1/admin,")}, socketio.Packet{Type: socketio.PacketDisconnect, Namespace: "/admin"}, -1},
		{"event", []engineio.Message{text(`2["hello",1]`)}, socketio.Packet{Type: socketio.PacketEvent, Namespace: "/", Data: json.RawMessage(`["hello",1]`)}, 2},
		{"event ack id", []engineio.Message{text(`212["hello"]`)}, socketio.Packet{Type: socketio.PacketEvent, Namespace: "/", ID: 12, HasID: true, Data: json.RawMessage(`["hello"]`)}, 1},
		{"event nsp ack id", []engineio.Message{text(`2/admin,456["project:delete",123]`)}, socketio.Packet{Type: socketio.PacketEvent, Namespace: "/admin", ID: 456, HasID: true, Data: json.RawMessage(`["project:delete",123]`)}, 2},
		{"ack", []engineio.Message{text(`3/admin,456[]`)}, socketio.Packet{Type: socketio.PacketAck, Namespace: "/admin", ID: 456, HasID: true, Data: json.RawMessage(`[]`)}, 0},
		{"connect error obj", []engineio.Message{text(`4{"message":"Not authorized"}`)}, socketio.Packet{Type: socketio.PacketConnectError, Namespace: "/", Data: json.RawMessage(`{"message":"Not authorized"}`)}, -1},
		{"connect error string", []engineio.Message{text(`4"bad"`)}, socketio.Packet{Type: socketio.PacketConnectError, Namespace: "/", Data: json.RawMessage(`"bad"`)}, -1},
		{"binary event", []engineio.Message{text(`51-["hello",{"_placeholder":true,"num":0}]`), bin(1, 2, 3)},
			socketio.Packet{Type: socketio.PacketBinaryEvent, Namespace: "/", Data: json.RawMessage(`["hello",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3}}}, 2},
		{"binary ack nsp", []engineio.Message{text(`61-/admin,456[{"_placeholder":true,"num":0}]`), bin(3, 2, 1)},
			socketio.Packet{Type: socketio.PacketBinaryAck, Namespace: "/admin", ID: 456, HasID: true, Data: json.RawMessage(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{3, 2, 1}}}, 1},
		{"binary event nested placeholders", []engineio.Message{text(`52-["x",{"a":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]`), bin(1), bin(2)},
			socketio.Packet{Type: socketio.PacketBinaryEvent, Namespace: "/", Data: json.RawMessage(`["x",{"a":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}, {2}}}, 3},
		{"binary event zero attachments", []engineio.Message{text(`50-["x"]`)}, socketio.Packet{Type: socketio.PacketBinaryEvent, Namespace: "/", Data: json.RawMessage(`["x"]`)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d socketio.Decoder
			var got *socketio.Packet
			for i, m := range tt.in {
				p, err := d.Add(m)
				if err != nil {
					t.Fatalf("Add(%d): %v", i, err)
				}
				if i < len(tt.in)-1 && p != nil {
					t.Fatalf("Add(%d): packet before its attachments", i)
				}
				got = p
			}
			if got == nil {
				t.Fatal("no packet")
			}
			assertPacket(t, got, &tt.want)
			// Round trip: encode, decode again.
			msgs, err := got.Encode()
			if err != nil {
				t.Fatal(err)
			}
			var d2 socketio.Decoder
			var again *socketio.Packet
			for _, m := range msgs {
				if again, err = d2.Add(m); err != nil {
					t.Fatalf("re-decode: %v", err)
				}
			}
			assertPacket(t, again, &tt.want)
		})
	}
}

func assertPacket(t *testing.T, got, want *socketio.Packet) {
	t.Helper()
	if got.Type != want.Type || got.Namespace != want.Namespace || got.ID != want.ID || got.HasID != want.HasID ||
		!bytes.Equal(got.Data, want.Data) || len(got.Attachments) != len(want.Attachments) {
		t.Fatalf("got %+v (data %s), want %+v (data %s)", *got, got.Data, *want, want.Data)
	}
	for i := range got.Attachments {
		if !bytes.Equal(got.Attachments[i], want.Attachments[i]) {
			t.Fatalf("attachment %d: got %v want %v", i, got.Attachments[i], want.Attachments[i])
		}
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		p    socketio.Packet
		want []string // text, then attachments as strings
	}{
		{socketio.Packet{Type: socketio.PacketConnect, Namespace: "/", Data: json.RawMessage(`{"sid":"abc"}`)}, []string{`0{"sid":"abc"}`}},
		{socketio.Packet{Type: socketio.PacketConnect, Namespace: "/admin", Data: json.RawMessage(`{"sid":"abc"}`)}, []string{`0/admin,{"sid":"abc"}`}},
		{socketio.Packet{Type: socketio.PacketDisconnect, Namespace: "/admin"}, []string{`1/admin,`}},
		{socketio.Packet{Type: socketio.PacketDisconnect}, []string{`1`}},
		{socketio.Packet{Type: socketio.PacketAck, ID: 7, HasID: true, Data: json.RawMessage(`[]`)}, []string{`37[]`}},
		{socketio.Packet{Type: socketio.PacketBinaryEvent, Namespace: "/x", ID: 3, HasID: true, Data: json.RawMessage(`["a",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{[]byte("hi")}},
			[]string{`51-/x,3["a",{"_placeholder":true,"num":0}]`, "hi"}},
	}
	for _, tt := range tests {
		msgs, err := tt.p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != len(tt.want) {
			t.Fatalf("%s: %d messages, want %d", tt.want[0], len(msgs), len(tt.want))
		}
		for i, m := range msgs {
			if string(m.Data) != tt.want[i] || m.Binary != (i > 0) {
				t.Errorf("message %d: got %q binary=%v, want %q", i, m.Data, m.Binary, tt.want[i])
			}
		}
	}
}

func TestEncodeEvent(t *testing.T) {
	msgs, err := socketio.EncodeEvent("/", "hello", 1, "two", map[string]int{"three": 3}, []byte{4}, json.RawMessage(`{"raw":true}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `51-["hello",1,"two",{"three":3},{"_placeholder":true,"num":0},{"raw":true}]`
	if len(msgs) != 2 || string(msgs[0].Data) != want || !msgs[1].Binary || !bytes.Equal(msgs[1].Data, []byte{4}) {
		t.Fatalf("got %v", msgs)
	}
	msgs, err = socketio.EncodeEvent("/chat", "hi")
	if err != nil || len(msgs) != 1 || string(msgs[0].Data) != `2/chat,["hi"]` {
		t.Fatalf("got %v, %v", msgs, err)
	}
	for _, bad := range []string{"connect", "disconnect", "connect_error", "disconnecting", "newListener", "removeListener"} {
		if _, err := socketio.EncodeEvent("/", bad); err == nil {
			t.Errorf("reserved %q encoded", bad)
		}
	}
	if _, err := socketio.EncodeEvent("/", "x", func() {}); err == nil {
		t.Error("unmarshalable argument encoded")
	}
	if _, err := socketio.EncodeEvent("/", "x", json.RawMessage(`{`)); err == nil {
		t.Error("invalid raw JSON encoded")
	}
}

func TestEncodeInvalid(t *testing.T) {
	for _, p := range []socketio.Packet{
		{Type: 7},
		{Type: socketio.PacketEvent, Data: json.RawMessage(`["a"]`), Attachments: [][]byte{{1}}},
		{Type: socketio.PacketAck, ID: 1 << 60, HasID: true, Data: json.RawMessage(`[]`)},
	} {
		if _, err := p.Encode(); err == nil {
			t.Errorf("%+v encoded", p)
		}
	}
}

func TestDecodeInvalid(t *testing.T) {
	long := `2["` + strings.Repeat("a", 200) + `"]`
	tests := []struct {
		name string
		in   []engineio.Message
		dec  socketio.Decoder
	}{
		{"empty", []engineio.Message{text("")}, socketio.Decoder{}},
		{"unknown type", []engineio.Message{text("7")}, socketio.Decoder{}},
		{"letter type", []engineio.Message{text("a")}, socketio.Decoder{}},
		{"engine-level text", []engineio.Message{text("42[\"a\"]x")}, socketio.Decoder{}},
		{"binary first", []engineio.Message{bin(1)}, socketio.Decoder{}},
		{"connect array", []engineio.Message{text(`0["a"]`)}, socketio.Decoder{}},
		{"connect string", []engineio.Message{text(`0"a"`)}, socketio.Decoder{}},
		{"connect bad json", []engineio.Message{text(`0{"a":}`)}, socketio.Decoder{}},
		{"connect trailing garbage", []engineio.Message{text(`0{}x`)}, socketio.Decoder{}},
		{"connect ack id", []engineio.Message{text(`01{}`)}, socketio.Decoder{}},
		{"disconnect payload", []engineio.Message{text(`1{}`)}, socketio.Decoder{}},
		{"disconnect id", []engineio.Message{text(`11`)}, socketio.Decoder{}},
		{"event no payload", []engineio.Message{text(`2`)}, socketio.Decoder{}},
		{"event id no payload", []engineio.Message{text(`21`)}, socketio.Decoder{}},
		{"event object", []engineio.Message{text(`2{}`)}, socketio.Decoder{}},
		{"event empty array", []engineio.Message{text(`2[]`)}, socketio.Decoder{}},
		{"event number name", []engineio.Message{text(`2[1]`)}, socketio.Decoder{}},
		{"event null name", []engineio.Message{text(`2[null]`)}, socketio.Decoder{}},
		{"event null", []engineio.Message{text(`2null`)}, socketio.Decoder{}},
		{"event reserved name", []engineio.Message{text(`2["disconnect"]`)}, socketio.Decoder{}},
		{"event nested garbage", []engineio.Message{text(`2["a",{"b":[1,2}]`)}, socketio.Decoder{}},
		{"event trailing garbage", []engineio.Message{text(`2["a"]]`)}, socketio.Decoder{}},
		{"event nsp without comma", []engineio.Message{text(`2/chat["a"]`)}, socketio.Decoder{}},
		{"ack object", []engineio.Message{text(`31{}`)}, socketio.Decoder{}},
		{"ack without id", []engineio.Message{text(`3[]`)}, socketio.Decoder{}},
		{"ack id overflow", []engineio.Message{text(`399999999999999999999[]`)}, socketio.Decoder{}},
		{"ack id beyond 2^53", []engineio.Message{text(`39007199254740992[]`)}, socketio.Decoder{}},
		{"connect error array", []engineio.Message{text(`4[]`)}, socketio.Decoder{}},
		{"binary no dash", []engineio.Message{text(`51["a"]`)}, socketio.Decoder{}},
		{"binary no count", []engineio.Message{text(`5-["a"]`)}, socketio.Decoder{}},
		{"binary negative", []engineio.Message{text(`5-1-["a"]`)}, socketio.Decoder{}},
		{"binary huge count", []engineio.Message{text(`599999-["a"]`)}, socketio.Decoder{}},
		{"binary over limit", []engineio.Message{text(`511-["a"]`)}, socketio.Decoder{}},
		{"binary over custom limit", []engineio.Message{text(`52-["a"]`)}, socketio.Decoder{MaxAttachments: 1}},
		{"binary text instead of attachment", []engineio.Message{text(`51-["a",{"_placeholder":true,"num":0}]`), text(`2["b"]`)}, socketio.Decoder{}},
		{"placeholder out of range", []engineio.Message{text(`51-["a",{"_placeholder":true,"num":1}]`), bin(1)}, socketio.Decoder{}},
		{"placeholder negative", []engineio.Message{text(`51-["a",{"_placeholder":true,"num":-1}]`), bin(1)}, socketio.Decoder{}},
		{"placeholder fraction", []engineio.Message{text(`51-["a",{"_placeholder":true,"num":0.5}]`), bin(1)}, socketio.Decoder{}},
		{"placeholder string num", []engineio.Message{text(`51-["a",{"_placeholder":true,"num":"0"}]`), bin(1)}, socketio.Decoder{}},
		{"placeholder zero attachments", []engineio.Message{text(`50-["a",{"_placeholder":true,"num":0}]`)}, socketio.Decoder{}},
		{"nested placeholder out of range", []engineio.Message{text(`51-["a",{"x":[{"_placeholder":true,"num":3}]}]`), bin(1)}, socketio.Decoder{}},
		{"binary ack without id", []engineio.Message{text(`61-[{"_placeholder":true,"num":0}]`), bin(1)}, socketio.Decoder{}},
		{"text too large", []engineio.Message{text(long)}, socketio.Decoder{MaxBytes: 100}},
		{"attachments too large", []engineio.Message{text(`51-["a",{"_placeholder":true,"num":0}]`), {Binary: true, Data: make([]byte, 200)}}, socketio.Decoder{MaxBytes: 100}},
		{"binary after complete packet", []engineio.Message{text(`2["a"]`), bin(1)}, socketio.Decoder{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.dec
			var err error
			for _, m := range tt.in {
				if _, err = d.Add(m); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, socketio.ErrInvalidPacket) {
				t.Fatalf("error %v does not wrap ErrInvalidPacket", err)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	var d socketio.Decoder
	if _, err := d.Add(text(`52-["ev",{"n":1},{"_placeholder":true,"num":1},"s",{"_placeholder":true,"num":0}]`)); err != nil {
		t.Fatal(err)
	}
	if !d.Pending() {
		t.Fatal("not pending")
	}
	_, _ = d.Add(bin('a'))
	p, err := d.Add(bin('b'))
	if err != nil || p == nil {
		t.Fatal(p, err)
	}
	_ = p
	raw := []json.RawMessage{json.RawMessage(`{"n":1}`), json.RawMessage(`{"_placeholder":true,"num":1}`), json.RawMessage(`"s"`), json.RawMessage(`{"_placeholder":true,"num":0}`)}
	a := socketio.NewArgs(raw, [][]byte{[]byte("a"), []byte("b")})
	if a.Len() != 4 {
		t.Fatal(a.Len())
	}
	var obj struct{ N int }
	if err := a.Decode(0, &obj); err != nil || obj.N != 1 {
		t.Fatal(obj, err)
	}
	var b []byte
	if err := a.Decode(1, &b); err != nil || string(b) != "b" {
		t.Fatal(string(b), err)
	}
	if err := a.Decode(1, &obj); err == nil {
		t.Fatal("binary decoded into a struct")
	}
	if bb, ok := a.Bytes(3); !ok || string(bb) != "a" {
		t.Fatal(bb, ok)
	}
	if _, ok := a.Bytes(2); ok {
		t.Fatal("string is binary")
	}
	var s string
	if err := a.Decode(2, &s); err != nil || s != "s" {
		t.Fatal(s, err)
	}
	if err := a.Decode(4, &s); err == nil {
		t.Fatal("out of range decoded")
	}
	if a.Raw(9) != nil || string(a.Raw(2)) != `"s"` {
		t.Fatal("Raw")
	}
	vals := a.Values()
	msgs, err := socketio.EncodeEvent("/", "echo", vals...)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(msgs[0].Data); got != `52-["echo",{"n":1},{"_placeholder":true,"num":0},"s",{"_placeholder":true,"num":1}]` ||
		string(msgs[1].Data) != "b" || string(msgs[2].Data) != "a" {
		t.Fatalf("echo: %v", msgs)
	}
}
