package app_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// The docs are the public contract: every route the server serves is in docs/api.md, every route
// docs/api.md names is served, and no doc sends its reader to a file outside the project.
func TestDocsDescribeEveryRoute(t *testing.T) {
	env := apptest.Start(t)
	doc := readDoc(t, "../docs/api.md")
	served := map[string]bool{}
	for _, r := range env.App.Routes() {
		served[r] = true
		if !strings.Contains(doc, "`"+r+"`") && !strings.Contains(doc, "`"+r+"?") {
			t.Errorf("route %s is served but not in docs/api.md", r)
		}
	}
	for _, m := range regexp.MustCompile("`((?:GET|POST|PUT|PATCH|DELETE) /[^`?]*)[`?]").FindAllStringSubmatch(doc, -1) {
		if route := strings.TrimSuffix(m[1], "..."); !served[route] && !strings.HasSuffix(m[1], "...") {
			t.Errorf("docs/api.md names %s, which is not served", route)
		}
	}
	for _, name := range []string{"../README.md", "../docs/api.md", "../docs/realtime.md", "../docs/client.md", "../docs/testing.md"} {
		text := readDoc(t, name)
		for _, bad := range []string{"CONTRACT.md", "../shared", "steering"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s refers to %q, which users do not have", name, bad)
			}
		}
	}
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every event type a module records, and every event the broker emits itself, is in
// docs/realtime.md and (for the recorded ones) in docs/api.md's event types.
func TestDocsDescribeEveryEvent(t *testing.T) {
	realtimeDoc, apiDoc := readDoc(t, "../docs/realtime.md"), readDoc(t, "../docs/api.md")
	recorded := regexp.MustCompile(`Event[A-Z]\w*\s*=\s*"([a-z_]+)"`)
	emitted := regexp.MustCompile(`\.Emit\("([a-z_]+)"`)
	found := 0
	eachSource(t, func(f, src string) {
		for _, m := range recorded.FindAllStringSubmatch(src, -1) {
			found++
			if !strings.Contains(realtimeDoc, "`"+m[1]+"`") || !strings.Contains(apiDoc, "`"+m[1]+"`") {
				t.Errorf("event %s (%s) is missing from docs/realtime.md or docs/api.md", m[1], f)
			}
		}
		for _, m := range emitted.FindAllStringSubmatch(src, -1) {
			found++
			if !strings.Contains(realtimeDoc, "`"+m[1]) {
				t.Errorf("socket event %s (%s) is missing from docs/realtime.md", m[1], f)
			}
		}
	})
	if found < 20 {
		t.Fatalf("found only %d event names in the source; the pattern no longer matches", found)
	}
}

// eachSource calls fn with every non-test Go file of the packages that record or emit events.
func eachSource(t *testing.T, fn func(file, src string)) {
	t.Helper()
	for _, dir := range []string{"../modules/auth", "../permissions", "../pages", "../messages", "../tasks", "../realtime"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				fn(f, readDoc(t, f))
			}
		}
	}
}
