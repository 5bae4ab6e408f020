package apicheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pagespace/pagespace/app/apispec"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const openAPIURL = "https://pagespace.invalid/openapi.json"

// HTTP validates HTTP answers against the OpenAPI description.
type HTTP struct {
	routes    map[string]*route // by path template
	templates [][]string        // split path templates, for matching
	errSchema *jsonschema.Schema
}

type route struct {
	path string
	ops  map[string]map[string]answer // method, then status ("200", "default")
}

// answer is one documented response: no media type for an empty body, else its media type and
// schema (nil when the body is not JSON).
type answer struct {
	mediaType string
	schema    *jsonschema.Schema
}

var openAPI = sync.OnceValues(func() (*HTTP, error) { return compileOpenAPI(apispec.OpenAPI()) })

// OpenAPI returns the validator of the embedded openapi.json, compiled on first use.
func OpenAPI() (*HTTP, error) { return openAPI() }

type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Responses map[string]responseDoc `json:"responses"`
	} `json:"components"`
}

type responseDoc struct {
	Ref     string                     `json:"$ref"`
	Content map[string]json.RawMessage `json:"content"`
}

func compileOpenAPI(src []byte) (*HTTP, error) {
	var doc openAPIDoc
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("apicheck: openapi.json: %w", err)
	}
	c, err := newCompiler(openAPIURL, src)
	if err != nil {
		return nil, err
	}
	h := &HTTP{routes: map[string]*route{}}
	if h.errSchema, err = c.Compile(openAPIURL + "#/components/schemas/Error"); err != nil {
		return nil, fmt.Errorf("apicheck: Error schema: %w", err)
	}
	for path, item := range doc.Paths {
		r := &route{path: path, ops: map[string]map[string]answer{}}
		for method, raw := range item {
			var op struct {
				Responses map[string]responseDoc `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("apicheck: %s %s: %w", method, path, err)
			}
			answers := map[string]answer{}
			for status, resp := range op.Responses {
				ptr := "#/paths/" + escape(path) + "/" + method + "/responses/" + status
				if resp.Ref != "" {
					name := strings.TrimPrefix(resp.Ref, "#/components/responses/")
					resp, ptr = doc.Components.Responses[name], "#/components/responses/"+escape(name)
				}
				a, err := compileAnswer(c, ptr, resp)
				if err != nil {
					return nil, fmt.Errorf("apicheck: %s %s %s: %w", method, path, status, err)
				}
				answers[status] = a
			}
			r.ops[strings.ToUpper(method)] = answers
		}
		h.routes[path] = r
		h.templates = append(h.templates, strings.Split(path, "/"))
	}
	return h, nil
}

func compileAnswer(c *jsonschema.Compiler, ptr string, resp responseDoc) (answer, error) {
	for mt := range resp.Content { // one media type per answer in this description
		a := answer{mediaType: mt}
		if mt == "application/json" {
			s, err := c.Compile(openAPIURL + ptr + "/content/application~1json/schema")
			if err != nil {
				return a, err
			}
			a.schema = s
		}
		return a, nil
	}
	return answer{}, nil
}

func newCompiler(url string, src []byte) (*jsonschema.Compiler, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("apicheck: %s: %w", url, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("apicheck: %s: %w", url, err)
	}
	return c, nil
}

// escape escapes a JSON pointer token (RFC 6901).
func escape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// Routes lists the described operations as "METHOD /path", sorted, in the form of
// app.App.Routes.
func (h *HTTP) Routes() []string {
	var out []string
	for path, r := range h.routes {
		for m := range r.ops {
			out = append(out, m+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// match finds the path template of a concrete path: same number of segments, literals equal,
// the template with the most literal segments winning (/api/auth/me over /api/auth/{x}).
func (h *HTTP) match(path string) *route {
	segs := strings.Split(path, "/")
	var best []string
	bestLit := -1
	for _, t := range h.templates {
		if len(t) != len(segs) {
			continue
		}
		lit, ok := 0, true
		for i, s := range t {
			if strings.HasPrefix(s, "{") {
				ok = ok && segs[i] != ""
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
			lit++
		}
		if ok && lit > bestLit {
			best, bestLit = t, lit
		}
	}
	if best == nil {
		return nil
	}
	return h.routes[strings.Join(best, "/")]
}

// Check validates one answer to method path (the request's path, without query): its status
// must be documented for the route and its body must match. Paths the description leaves out
// on purpose (the socket endpoint, /static/ assets, CORS preflights) pass; an unknown path or a method the route
// does not have must be answered with an error body.
func (h *HTTP) Check(method, path string, status int, header http.Header, body []byte) error {
	if strings.HasPrefix(path, "/socket.io/") || strings.HasPrefix(path, "/static/") {
		return nil
	}
	if method == http.MethodOptions && status == http.StatusNoContent {
		return nil // a CORS preflight, answered by the middleware for every route (docs/api.md, CORS)
	}
	r := h.match(path)
	if r == nil || r.ops[method] == nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return h.checkError(method, path, status, header, body)
		}
		return fmt.Errorf("%s %s is not in openapi.json (answered %d)", method, path, status)
	}
	answers := r.ops[method]
	a, ok := answers[strconv.Itoa(status)]
	if !ok {
		if a, ok = answers["default"]; !ok {
			return fmt.Errorf("%s %s (%s %s) answered %d, which openapi.json does not list; body %s",
				method, r.path, method, path, status, clip(body))
		}
	}
	if method == http.MethodHead {
		return nil
	}
	return checkBody(a, fmt.Sprintf("%s %s %d", method, r.path, status), header, body)
}

func (h *HTTP) checkError(method, path string, status int, header http.Header, body []byte) error {
	return checkBody(answer{mediaType: "application/json", schema: h.errSchema},
		fmt.Sprintf("%s %s %d", method, path, status), header, body)
}

func checkBody(a answer, what string, header http.Header, body []byte) error {
	if a.mediaType == "" {
		if len(body) != 0 {
			return fmt.Errorf("%s: openapi.json says no body, got %s", what, clip(body))
		}
		return nil
	}
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if mt != a.mediaType {
		return fmt.Errorf("%s: Content-Type %q, openapi.json says %s", what, header.Get("Content-Type"), a.mediaType)
	}
	if a.schema == nil {
		return nil
	}
	return validate(a.schema, what, body)
}

func validate(s *jsonschema.Schema, what string, data []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: body is not JSON: %w; %s", what, err, clip(data))
	}
	if err := s.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("%s does not match its schema: %#v\nbody: %s", what, ve, clip(data))
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}
