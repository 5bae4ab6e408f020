package app_test

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

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
	on := regexp.MustCompile(`\.On\("([a-z_]+)"`)
	for _, dir := range []string{"../modules/auth", "../permissions", "../pages", "../messages", "../tasks", "../realtime"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src := readDoc(t, f)
			for _, re := range []*regexp.Regexp{recorded, emitted} {
				for _, m := range re.FindAllStringSubmatch(src, -1) {
					sent[m[1]] = true
				}
			}
			for _, m := range on.FindAllStringSubmatch(src, -1) {
				handled[m[1]] = true
			}
		}
	}
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
