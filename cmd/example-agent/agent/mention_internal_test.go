package agent

import "testing"

// A mention is "@" and the name in any case, ended by anything but a letter or digit.
func TestMentions(t *testing.T) {
	for _, c := range []struct {
		text, name string
		want       bool
		rest       string
	}{
		{"@Helper what now?", "Helper", true, " what now?"},
		{"hey @helper, look", "Helper", true, "hey  look"},
		{"ask @HELPER.", "Helper", true, "ask ."},
		{"@Helpers are many", "Helper", false, "@Helpers are many"},
		{"@Helper2 is another", "Helper", false, "@Helper2 is another"},
		{"@Helpers and @Helper", "Helper", true, "@Helpers and "},
		{"@Helper Bot: hi", "Helper Bot", true, " hi"},
		{"Helper, no at sign", "Helper", false, "Helper, no at sign"},
		{"@Helperé", "Helper", false, "@Helperé"},
		{"@", "Helper", false, "@"},
	} {
		if got := mentions(c.text, c.name); got != c.want {
			t.Errorf("mentions(%q, %q) = %v", c.text, c.name, got)
		}
		if got := withoutMention(c.text, c.name); got != c.rest {
			t.Errorf("withoutMention(%q, %q) = %q, want %q", c.text, c.name, got, c.rest)
		}
	}
}
