package pagespacetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Response is a finished HTTP exchange.
type Response struct {
	T      testing.TB
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(v any) {
	r.T.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.T.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r *Response) Map() map[string]any {
	r.T.Helper()
	var m map[string]any
	r.JSON(&m)
	return m
}

// ID is the "id" of a JSON object answer, failing the test when there is none.
func (r *Response) ID() string {
	r.T.Helper()
	id, _ := r.Map()["id"].(string)
	if id == "" {
		r.T.Fatalf("no id in %s", r.Body)
	}
	return id
}

// ErrorCode is error.code of an error body ("" when absent).
func (r *Response) ErrorCode() string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

// Expect fails the test unless the status is want.
func (r *Response) Expect(want int) *Response {
	r.T.Helper()
	if r.Status != want {
		r.T.Fatalf("status %d, want %d; body %s", r.Status, want, r.Body)
	}
	return r
}

// Do sends a request with the bearer token (none when ""). body may be nil, a string or
// []byte (sent as is), or a value to encode as JSON.
func (s *Server) Do(method, path, token string, body any) *Response {
	s.T.Helper()
	resp, err := s.send(method, path, token, body)
	if err != nil {
		s.T.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// Send is Do for goroutines other than the test's: it returns errors instead of failing the
// test (t.Fatal may only be called from the test's goroutine).
func (s *Server) Send(method, path, token string, body any) (status int, data []byte, err error) {
	resp, err := s.send(method, path, token, body)
	if err != nil {
		return 0, nil, err
	}
	return resp.Status, resp.Body, nil
}

func (s *Server) send(method, path, token string, body any) (*Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encode body: %w", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return &Response{T: s.T, Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}
