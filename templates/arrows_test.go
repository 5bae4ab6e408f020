package templates_test

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pagespace/pagespace/templates"
)

// arrowsModule declares functions an arrow can stand for and functions it cannot, and calls
// some before their declarations, as a function declaration allows.
const arrowsModule = `import { base } from "./base.js";
export const early = twice(base);
export function twice(value) { return helper(value) * 2; }
function helper(value) { function inner() { return value; } return inner(); }
export async function later() { return twice(1); }
function usesThis() { return this; }
function usesArguments() { return arguments.length; }
function* counter() { yield 1; }
function Made() {}
function Tested() {}
function Prototyped() {}
Prototyped.prototype.x = 1;
function withClass() { return class {}; }
function shadowed(inner) { function inner() { return 1; } return inner; }
export function checks() {
  return [usesThis(), usesArguments(1, 2), [...counter()], new Made() instanceof Made, {} instanceof Tested, withClass(), shadowed()];
}
`

// A module's functions are served as arrow functions where one can stand for them, declared
// before the code that may call them; the others stay declarations.
func TestFunctionsServedAsArrows(t *testing.T) {
	a, err := templates.NewAssets(fstest.MapFS{"m.js": {Data: []byte(arrowsModule)}, "base.js": {Data: []byte("export const base = 21;\n")}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	got := served(t, a, "m.js")
	t.Logf("served: %s", got)
	// usesThis, usesArguments, counter, Made, Tested, Prototyped, withClass and the inner function
	// of shadowed (named as its parameter) stay; twice, helper, its inner function, later, checks
	// and shadowed go.
	if n := strings.Count(got, "function"); n != 8 {
		t.Errorf("%d function declarations served, want 8", n)
	}
	if !strings.Contains(got, "export let") {
		t.Errorf("the exported functions are not an export let")
	}
	runModule(t, map[string]string{"m.js": got, "base.js": served(t, a, "base.js"),
		"main.mjs": `import { early, later, checks } from "./m.js";
const [self, args, count, made, tested, klass, shadow] = checks();
if (early !== 42 || self !== undefined || args !== 2 || count.join() !== "1" || !made || tested || typeof klass !== "function" || shadow() !== 1) {
  throw new Error("wrong: " + JSON.stringify([early, self, args, count, made, tested, shadow]));
}
later().then((v) => { if (v !== 2) throw new Error("later " + v); });
`})
}

// In a cycle of imports, another module may call an exported function before its module's code
// has run: those stay declarations (an arrow would not be set yet), and the cycle works.
func TestCyclicModulesKeepExportedFunctions(t *testing.T) {
	fsys := fstest.MapFS{
		"a.js": {Data: []byte(`import { fromB } from "./b.js";
export function fromA() { return 1; }
export const total = fromB + 1;
`)},
		"b.js": {Data: []byte(`import { fromA } from "./a.js";
export const fromB = fromA() + 1; // runs before a.js's own code
`)},
		"c.js": {Data: []byte("export function free() { return 3; }\n")},
	}
	a, err := templates.NewAssets(fsys, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if got := served(t, a, "a.js"); !strings.Contains(got, "export function fromA") {
		t.Errorf("a.js, in a cycle, served as %s", got)
	}
	if got := served(t, a, "c.js"); strings.Contains(got, "function") {
		t.Errorf("c.js, in no cycle, served as %s", got)
	}
	runModule(t, map[string]string{"a.js": served(t, a, "a.js"), "b.js": served(t, a, "b.js"),
		"main.mjs": `import { total } from "./a.js"; // evaluates b.js first, which calls fromA
if (total !== 3) throw new Error("total " + total);
`})
}

// runModule writes files to a directory and runs main.mjs there with node (skipped without it).
func runModule(t *testing.T, files map[string]string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node on PATH (scripts/test installs it): the served modules are not run")
	}
	dir := t.TempDir()
	files["package.json"] = `{"type":"module"}`
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(node, "main.mjs")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node main.mjs: %v\n%s", err, out)
	}
}
