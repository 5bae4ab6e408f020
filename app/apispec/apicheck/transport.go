package apicheck

import (
	"bytes"
	"io"
	"net/http"
	"strings"
)

// Transport wraps base (http.DefaultTransport when nil) so that every answer it carries is
// checked against openapi.json; report gets each mismatch (and a description that does not
// compile). The body is read whole and handed on unchanged. Answers of the socket endpoint are
// passed through unread, since long-polls stream.
func Transport(base http.RoundTripper, report func(error)) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, report: report}
}

type transport struct {
	base   http.RoundTripper
	report func(error)
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || strings.HasPrefix(req.URL.Path, "/socket.io/") {
		return resp, err
	}
	data, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if rerr != nil { // the connection broke mid-body: hand on what came, then the error
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data), errReader{rerr}))
		return resp, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	h, err := OpenAPI()
	if err == nil {
		err = h.Check(req.Method, req.URL.Path, resp.StatusCode, resp.Header, data)
	}
	if err != nil {
		t.report(err)
	}
	return resp, nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
