package modules_test

import (
	"net/http/httptest"
	"testing"

	"github.com/pagespace/pagespace/modules"
)

func TestSameOrigin(t *testing.T) {
	allowed := []string{"https://ui.example"}
	cases := []struct {
		origin, fetchSite string
		want              bool
	}{
		{"http://app.example:8080", "", true},
		{"https://APP.example:8080", "", true}, // behind a TLS proxy; hosts compare case-insensitively
		{"https://ui.example", "cross-site", true},
		{"https://evil.example", "", false},
		{"http://app.example:9999", "", false},
		{"null", "", false},
		{"app.example:8080", "", false},
		{"", "same-origin", true},
		{"", "same-site", false},
		{"", "cross-site", false},
		{"", "", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "http://app.example:8080/api/auth/refresh", nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if c.fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", c.fetchSite)
		}
		if got := modules.SameOrigin(r, allowed); got != c.want {
			t.Errorf("Origin %q, Sec-Fetch-Site %q: %v, want %v", c.origin, c.fetchSite, got, c.want)
		}
	}
}
