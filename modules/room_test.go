package modules_test

import (
	"encoding/json"
	"testing"

	"github.com/pagespace/pagespace/modules"
)

func TestRoomNames(t *testing.T) {
	for _, r := range []modules.Room{modules.PageRoom("p1"), modules.DriveRoom("d1"), modules.UserRoom("u:1")} {
		got, ok := modules.ParseRoom(r.String())
		if !ok || got != r {
			t.Errorf("ParseRoom(%q) = %v, %v", r.String(), got, ok)
		}
	}
	if modules.PageRoom("p1").String() != "page:p1" {
		t.Errorf("page room name %q", modules.PageRoom("p1"))
	}
	for _, bad := range []string{"", "page", "page:", "room:x", "Page:x", ":x"} {
		if r, ok := modules.ParseRoom(bad); ok || r != (modules.Room{}) {
			t.Errorf("ParseRoom(%q) = %v, %v; want nothing", bad, r, ok)
		}
	}
}

// Rooms travel and are stored as their names.
func TestRoomJSON(t *testing.T) {
	in := []modules.Room{modules.PageRoom("p1"), modules.UserRoom("u1")}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `["page:p1","user:u1"]` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var out []modules.Room
	if err := json.Unmarshal(b, &out); err != nil || len(out) != 2 || out[0] != in[0] || out[1] != in[1] {
		t.Fatalf("unmarshal: %v %v", out, err)
	}
	if err := json.Unmarshal([]byte(`["nowhere"]`), &out); err == nil {
		t.Fatal("a name that is not a room decoded")
	}
}
