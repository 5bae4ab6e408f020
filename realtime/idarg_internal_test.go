package realtime

import (
	"encoding/json"
	"testing"

	"github.com/pagespace/pagespace/realtime/socketio"
)

// idArg reads a plain JSON string without the strict decoder; what it accepts, and the id it
// reads, are the decoder's.
func TestIDArgPlainStringMatchesDecoder(t *testing.T) {
	for _, raw := range []string{
		`"0193ab-page"`, `" padded "`, `"é ü"`, `""`, `" "`, `"a\u0000b"`, `"\u0041bc"`, `"a\"b"`,
		`"tab	in"`, `{"pageId":"p1"}`, `{"pageId":"p1","x":1}`, `{"other":"p1"}`, `42`, `null`,
		`"` + string(make([]byte, 65)) + `"`,
	} {
		args := socketio.NewArgs([]json.RawMessage{json.RawMessage(raw)}, nil)
		gotID, gotOK := idArg(args, "pageId")
		var id string
		wantOK := false
		if decodeArg(args, 0, &id) {
			wantOK = true
		} else {
			var obj map[string]string
			if decodeArg(args, 0, &obj) && len(obj) == 1 {
				id, wantOK = obj["pageId"]
			}
		}
		if wantOK {
			id = trimmedID(id)
			wantOK = validRoomID(id)
		}
		if gotOK != wantOK || (gotOK && gotID != id) {
			t.Errorf("idArg(%q) = %q, %v; the decoder reads %q, %v", raw, gotID, gotOK, id, wantOK)
		}
	}
}
