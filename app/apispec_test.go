package app_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pagespace/pagespace/app/apispec"
	"github.com/pagespace/pagespace/app/apispec/apicheck"
	"github.com/pagespace/pagespace/app/apptest"
)

// openapi.json describes exactly the routes the server serves: a route registered in Echo and
// missing from the description fails, and so does a described route nobody serves.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	env := apptest.Start(t)
	h, err := apicheck.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	served, described := env.App.Routes(), h.Routes()
	for _, r := range served {
		if !slices.Contains(described, r) {
			t.Errorf("route %s is served but not in app/apispec/openapi.json", r)
		}
	}
	for _, r := range described {
		if !slices.Contains(served, r) {
			t.Errorf("app/apispec/openapi.json describes %s, which is not served", r)
		}
	}
	if len(served) < 40 {
		t.Fatalf("only %d routes served; App.Routes no longer lists them", len(served))
	}
}

// The descriptions are served as JSON, and the readable page names every operation.
func TestAPIDescriptionsServed(t *testing.T) {
	env := apptest.Start(t)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	env.Do("GET", "/api/openapi.json", "", nil).Expect(200).JSON(&doc)
	if doc.OpenAPI != "3.1.0" || len(doc.Paths) == 0 {
		t.Fatalf("openapi.json: version %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}
	var async struct {
		AsyncAPI string `json:"asyncapi"`
	}
	env.Do("GET", "/api/asyncapi.json", "", nil).Expect(200).JSON(&async)
	if !strings.HasPrefix(async.AsyncAPI, "3.") {
		t.Fatalf("asyncapi.json: version %q", async.AsyncAPI)
	}
	page := env.Do("GET", "/api/docs", "", nil).Expect(200)
	if ct := page.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("/api/docs Content-Type %q", ct)
	}
	html := string(page.Body)
	for path, item := range doc.Paths {
		for method := range item {
			if !strings.Contains(html, `id="op-`+strings.ToUpper(method)+"-"+path+`"`) {
				t.Errorf("/api/docs does not show %s %s", strings.ToUpper(method), path)
			}
		}
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "http://") || strings.Contains(html, "https://") {
		t.Error("/api/docs must load nothing external and run no script")
	}
}

// asyncapi.json describes exactly the socket events: every event a module records or the broker
// emits is among the events it says the server sends, every event the broker handles among those
// it says a client sends, and nothing else is described.
func TestAsyncAPIDescribesEveryEvent(t *testing.T) {
	check, err := apicheck.AsyncAPI()
	if err != nil {
		t.Fatal(err)
	}
	sent, handled := map[string]bool{}, map[string]bool{}
	recorded := regexp.MustCompile(`Event[A-Z]\w*\s*=\s*"([a-z_]+)"`)
	emitted := regexp.MustCompile(`\.Emit\("([a-z_]+)"`)
	relayed := regexp.MustCompile(`\.relay\([^"\n]*"([a-z_]+)"`) // ephemeral events, sent here and to other processes
	on := regexp.MustCompile(`\.On\("([a-z_]+)"`)
	eachSource(t, func(_, src string) {
		for _, re := range []*regexp.Regexp{recorded, emitted, relayed} {
			for _, m := range re.FindAllStringSubmatch(src, -1) {
				sent[m[1]] = true
			}
		}
		for _, m := range on.FindAllStringSubmatch(src, -1) {
			handled[m[1]] = true
		}
	})
	if len(sent) < 25 || len(handled) < 10 {
		t.Fatalf("found %d sent and %d handled event names in the source; the patterns no longer match", len(sent), len(handled))
	}
	compare := func(what string, found map[string]bool, described []string) {
		for name := range found {
			if !slices.Contains(described, name) {
				t.Errorf("%s event %s is not in app/apispec/asyncapi.json", what, name)
			}
		}
		for _, name := range described {
			if !found[name] {
				t.Errorf("app/apispec/asyncapi.json describes %s event %s, which the source does not have", what, name)
			}
		}
	}
	compare("server", sent, check.Received())
	compare("client", handled, check.Accepted())
}

// The examples in asyncapi.json match their own schemas (docs/client.md shows them).
func TestAsyncAPIExamplesMatch(t *testing.T) {
	check, err := apicheck.AsyncAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Messages map[string]struct {
				Examples []struct {
					Payload json.RawMessage `json:"payload"`
				} `json:"examples"`
			} `json:"messages"`
		} `json:"components"`
	}
	if err := json.Unmarshal(apispec.AsyncAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for key, m := range doc.Components.Messages {
		if len(m.Examples) == 0 {
			t.Errorf("message %s has no example", key)
		}
		for _, ex := range m.Examples {
			if err := check.Message(key, ex.Payload); err != nil {
				t.Errorf("example of %s: %v", key, err)
			}
		}
	}
}

// docs/client.md shows an example of every event (and of every client event's argument and
// ack), and each matches its schema in asyncapi.json.
func TestClientDocShowsEveryEvent(t *testing.T) {
	check, err := apicheck.AsyncAPI()
	if err != nil {
		t.Fatal(err)
	}
	doc := readDoc(t, "../docs/client.md")
	_, events, ok := strings.Cut(doc, "### Server to client")
	if !ok {
		t.Fatal("docs/client.md has no Server to client section")
	}
	events, sends, ok := strings.Cut(events, "### Client to server")
	if !ok {
		t.Fatal("docs/client.md has no Client to server section")
	}
	blocks := func(section string) map[string][]string {
		out := map[string][]string{}
		for _, part := range strings.Split(section, "#### `")[1:] {
			name, rest, _ := strings.Cut(part, "`")
			for _, b := range strings.Split(rest, "```json\n")[1:] {
				code, _, _ := strings.Cut(b, "```")
				out[name] = append(out[name], code)
			}
		}
		return out
	}
	shown := blocks(events)
	for _, name := range check.Received() {
		if len(shown[name]) != 1 {
			t.Errorf("docs/client.md shows %d examples of %s, want 1", len(shown[name]), name)
			continue
		}
		if err := check.Message(name, []byte(shown[name][0])); err != nil {
			t.Errorf("docs/client.md: %v", err)
		}
	}
	shown = blocks(sends)
	for _, name := range check.Accepted() {
		if len(shown[name]) != 2 {
			t.Errorf("docs/client.md shows %d blocks for %s, want its argument and its ack", len(shown[name]), name)
			continue
		}
		for i, key := range []string{name + "_request", name + "_ack"} {
			if err := check.Message(key, []byte(shown[name][i])); err != nil {
				t.Errorf("docs/client.md: %v", err)
			}
		}
	}
}
