package socketio_test

import (
	"bytes"
	"testing"

	"github.com/pagespace/pagespace/realtime/engineio"
	"github.com/pagespace/pagespace/realtime/socketio"
)

// FuzzDecode feeds a text message followed by up to nbin binary messages. Whatever decodes must
// encode and decode again to the same packet, and nothing may panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`2["hello",1]`), []byte(nil), uint8(0))
	f.Add([]byte(`0/admin,{"token":"x"}`), []byte(nil), uint8(0))
	f.Add([]byte(`51-/admin,456["ev",{"_placeholder":true,"num":0}]`), []byte{1, 2, 3}, uint8(1))
	f.Fuzz(func(t *testing.T, txt, att []byte, nbin uint8) {
		d := socketio.Decoder{MaxAttachments: 4, MaxBytes: 1 << 16}
		msgs := []engineio.Message{{Data: txt}}
		for range nbin % 6 {
			msgs = append(msgs, engineio.Message{Binary: true, Data: att})
		}
		for _, m := range msgs {
			p, err := d.Add(m)
			if err != nil {
				return
			}
			if p == nil {
				continue
			}
			enc, err := p.Encode()
			if err != nil {
				t.Fatalf("decoded %q but cannot encode: %v", txt, err)
			}
			var d2 socketio.Decoder
			var q *socketio.Packet
			for _, em := range enc {
				if q, err = d2.Add(em); err != nil {
					t.Fatalf("re-decode of %q (from %q): %v", enc[0].Data, txt, err)
				}
			}
			if q == nil || q.Type != p.Type || q.Namespace != p.Namespace || q.HasID != p.HasID || q.ID != p.ID ||
				!bytes.Equal(q.Data, p.Data) || len(q.Attachments) != len(p.Attachments) {
				t.Fatalf("round trip of %q: %+v != %+v", txt, q, p)
			}
			return
		}
	})
}
