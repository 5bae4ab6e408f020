package app_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// The web UI's scripts and styles are served gzip-compressed to clients that accept it, and
// plain to those that do not, with the same content.
func TestStaticAssetsCompressed(t *testing.T) {
	env := apptest.Start(t)
	get := func(encoding string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", env.URL+"/static/js/app.js", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", encoding) // set by hand: the transport then does not decompress
		resp, err := env.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp
	}
	plainResp := get("identity")
	if ce := plainResp.Header.Get("Content-Encoding"); ce != "" {
		t.Fatalf("Content-Encoding %q without gzip accepted", ce)
	}
	plain, err := io.ReadAll(plainResp.Body)
	if err != nil {
		t.Fatal(err)
	}
	zipped := get("gzip")
	if ce := zipped.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", ce)
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(unzipped) != string(plain) || len(plain) < 1024 {
		t.Fatalf("gzip body differs from the plain one (%d vs %d bytes)", len(unzipped), len(plain))
	}
}
