package templates_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pagespace/pagespace/templates"
)

// served returns the bytes a browser gets for the file at name.
func served(t *testing.T, a *templates.Assets, name string) string {
	t.Helper()
	w := httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest("GET", "/"+name, nil))
	b, _ := io.ReadAll(w.Body)
	if w.Code != 200 {
		t.Fatalf("%s: status %d", name, w.Code)
	}
	return string(b)
}

// A module's own top-level names are shortened; what it imports and exports keeps its name, an
// object's shorthand property keeps its key, and a file that is not a module keeps its globals.
func TestModuleNamesShortened(t *testing.T) {
	module := `import { longHelperName, other as renamedOther } from "./b.js";
import * as everything from "./c.js";
import { unusedImport } from "./d.js";
const lookupTable = { longHelperName };
const { shorthandBound } = lookupTable;
function privateWorker(value) {
  return longHelperName(value) + renamedOther + everything.x + lookupTable.longHelperName + shorthandBound;
}
export function publicEntry() { return privateWorker(1) + privateWorker(2) + exportedCounter + publicEntry.length; }
export const exportedCounter = privateWorker(3), { destructured } = lookupTable;
let listedLater = privateWorker(4) + listedLater;
export { listedLater, listedLater as alsoListed };
`
	script := "function globalHelper() { return 1; }\nglobalHelper();\n"
	a, err := templates.NewAssets(fstest.MapFS{"m.js": {Data: []byte(module)}, "s.js": {Data: []byte(script)}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	got := served(t, a, "m.js")
	t.Logf("served: %s", got)
	for _, gone := range []string{"privateWorker", "lookupTable", "renamedOther", "everything", "shorthandBound;"} {
		if strings.Contains(got, gone) {
			t.Errorf("%s is still there", gone)
		}
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`import\{longHelperName as [a-zA-Z_$]\w*,other as [a-zA-Z_$]\w*\}from"./b.js"`),
		regexp.MustCompile(`import\*as [a-zA-Z_$]\w* from"./c.js"`),
		regexp.MustCompile(`\{longHelperName:[a-zA-Z_$]\w*\}`), // shorthands keep their keys
		regexp.MustCompile(`\{shorthandBound:[a-zA-Z_$]\w*\}=`),
		regexp.MustCompile(`export\{.*\b\w+ as publicEntry\b`),
		regexp.MustCompile(`export let\b.*\bexportedCounter=`), // two names: left as they are
		regexp.MustCompile(`export let\b.*\{destructured\}=`),
		regexp.MustCompile(`export\{\w+ as listedLater,\w+ as alsoListed\}`),
	} {
		if !want.MatchString(got) {
			t.Errorf("served module does not match %s", want)
		}
	}
	if s := served(t, a, "s.js"); !strings.Contains(s, "function globalHelper(") {
		t.Errorf("a script's global was renamed: %s", s)
	}
}

// A module's constants are served declared with let, wherever they are; a script is left as it is.
func TestConstantsServedAsLet(t *testing.T) {
	module := `export const limit = 3;
const table = { a: 1 };
export function sum(list) {
  const out = [];
  for (const x of list) out.push(x);
  for (const k in table) out.push(table[k]);
  { const inner = out.length; return inner + limit; }
}
`
	script := "const kept = 1;\n"
	a, err := templates.NewAssets(fstest.MapFS{"m.js": {Data: []byte(module)}, "s.js": {Data: []byte(script)}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	got := served(t, a, "m.js")
	if strings.Contains(got, "const") || strings.Count(got, "let") < 5 {
		t.Errorf("served: %s", got)
	}
	if s := served(t, a, "s.js"); !strings.Contains(s, "const kept") {
		t.Errorf("a script was rewritten: %s", s)
	}
}

// The web UI's unit tests pass against the modules as served (minified, names shortened), not
// only against the sources: what the renaming changes, the modules' behaviour shows.
func TestServedModulesPassTheUnitTests(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node on PATH (scripts/test installs it): the served modules are not unit-tested")
	}
	a, err := templates.NewAssets(templates.Static(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name := range a.Served() {
		if strings.HasSuffix(name, ".js") {
			write(filepath.Join("static", name), served(t, a, name))
		}
	}
	tests, err := filepath.Glob("jstest/*.mjs")
	if err != nil || len(tests) == 0 {
		t.Fatalf("no unit tests in jstest/: %v", err)
	}
	var run []string
	for _, f := range tests {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		write(f, string(b))
		if strings.HasSuffix(f, ".test.mjs") {
			run = append(run, f)
		}
	}
	cmd := exec.Command(node, append([]string{"--test"}, run...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node --test against the served modules: %v\n%s", err, out)
	}
}
