package uitest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pagespace/pagespace/app/apptest"
)

// browser starts one headless Chromium for the test and returns its root context, or skips the
// test when PAGESPACE_SKIP_BROWSER=1. A missing browser fails the test: it never passes silently.
func browser(t *testing.T) context.Context {
	t.Helper()
	return browserFor(t, 3*time.Minute)
}

// chromium is the browser's executable.
func chromium() string {
	if exe := os.Getenv("PAGESPACE_CHROMIUM"); exe != "" {
		return exe
	}
	return "/usr/bin/chromium"
}

// browserFor is browser for a test or benchmark that may take up to limit.
func browserFor(t testing.TB, limit time.Duration) context.Context {
	t.Helper()
	if os.Getenv("PAGESPACE_SKIP_BROWSER") == "1" {
		t.Skip("PAGESPACE_SKIP_BROWSER=1: the browser tests of the web UI are skipped")
	}
	exe := chromium()
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("no browser at %s (install Debian's chromium: apt-get install -y chromium; scripts/test does), "+
			"or set PAGESPACE_SKIP_BROWSER=1 to skip the browser tests: %v", exe, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // the tests run as root in CI containers
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(cancelRoot)
	if err := chromedp.Do(root); err != nil { // starts the browser
		t.Fatalf("start %s: %v", exe, err)
	}
	return root
}

// tab is one browser tab (in a browser context of its own when fresh, so with its own cookies),
// recording what its pages write to the console.
type tab struct {
	t    testing.TB
	ctx  context.Context
	base string
	name string

	mu       sync.Mutex
	problems []string      // console errors, exceptions, CSP violations
	problem  chan struct{} // receives (without blocking) when a problem is recorded
	network  []string      // failed requests the browser logged (expected 4xx answers)
}

func newTab(t testing.TB, root context.Context, base, name string, fresh bool) *tab {
	t.Helper()
	var opts []chromedp.ContextOption
	if fresh {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(root, opts...)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, base: base, name: name, problem: make(chan struct{}, 1)}
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("open tab: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			switch {
			case m.Source == "network" && (strings.Contains(m.Text, "status of 4") || strings.Contains(m.Text, "ERR_INTERNET_DISCONNECTED") ||
				strings.Contains(m.Text, "ERR_BLOCKED_BY_CLIENT")):
				// 4xx answers the UI expects, and requests refused while a test has cut the network
				// or blocked an endpoint
				tb.network = append(tb.network, m.Text)
			case m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning ||
				strings.Contains(m.Text, "Content Security Policy"):
				tb.problems = append(tb.problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				select {
				case tb.problem <- struct{}{}:
				default:
				}
			}
			tb.mu.Unlock()
		}
	}()
	return tb
}

// run runs actions with a deadline, failing the test with what it was doing.
func (tb *tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.shot("failure-" + strings.ReplaceAll(what, " ", "-"))
		tb.t.Fatalf("%s: %s: %v", tb.name, what, err)
	}
}

// waitFor waits until the JavaScript expression is truthy.
func waitFor(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(15*time.Second))
}

// waitText waits until an element matching sel has text containing want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return waitFor(fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.offsetParent !== null && e.textContent.includes(%q))`, sel, want))
}

// waitGone waits until no visible element matching sel has text containing text.
func waitGone(sel, text string) chromedp.Action[chromedp.Void] {
	return waitFor(fmt.Sprintf(`![...document.querySelectorAll(%q)].some(e => e.offsetParent !== null && e.textContent.includes(%q))`, sel, text))
}

// clickText clicks the first visible element matching sel whose text contains text.
func clickText(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(waitText(sel, text), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`[...document.querySelectorAll(%q)].find(e => e.offsetParent !== null && e.textContent.includes(%q)).click()`, sel, text)))
}

func (tb *tab) eval(expr string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: eval %s: %v", tb.name, expr, err)
	}
	return v
}

func (tb *tab) path() string { return tb.eval(`location.pathname`) }

// shot saves a screenshot of the viewport.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := screenshotDir(tb.t)
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		tb.t.Fatalf("save screenshot: %v", err)
	}
	tb.t.Logf("screenshot %s", file)
}

var screenshotOnce sync.Map

func screenshotDir(t testing.TB) string {
	dir := os.Getenv("PAGESPACE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "testdata", "screenshots")
	}
	dir = filepath.Join(dir, apptest.Dialect())
	if _, done := screenshotOnce.LoadOrStore(dir, true); !done {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("screenshots: %v", err)
		}
		abs, _ := filepath.Abs(dir)
		t.Logf("screenshots in %s", abs)
	}
	return dir
}

// clean fails the test if the tab's pages logged errors or CSP violations.
func (tb *tab) clean() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		tb.t.Errorf("%s: console: %s", tb.name, p)
	}
	for _, n := range tb.network {
		tb.t.Logf("%s: expected failed request: %s", tb.name, n)
	}
}

// a11y checks the view on screen: every form control has a label, every button and link a name,
// and the page has one h1. It returns what is wrong, in words.
func (tb *tab) a11y(view string) {
	tb.t.Helper()
	got := tb.eval(`(() => {
		const bad = [];
		const visible = (e) => e.offsetParent !== null || getComputedStyle(e).position === "fixed";
		for (const e of document.querySelectorAll("input, select, textarea")) {
			if (visible(e) && e.labels.length === 0 && !e.getAttribute("aria-label")) bad.push("unlabelled " + e.outerHTML.slice(0, 80));
		}
		for (const e of document.querySelectorAll("button, a[href], summary")) {
			if (visible(e) && !(e.textContent.trim() || e.getAttribute("aria-label"))) bad.push("nameless " + e.outerHTML.slice(0, 80));
		}
		const h1s = [...document.querySelectorAll("h1")].filter(visible).length;
		if (h1s !== 1) bad.push(h1s + " visible h1 elements");
		return bad.join("; ");
	})()`)
	if got != "" {
		tb.t.Errorf("%s: accessibility of %s: %s", tb.name, view, got)
	}
}

// team signs up Alice, who owns the drive "Team", and Bob, a member of it, and opens a desktop
// tab (1280×800) for each, not signed in yet.
func team(t *testing.T, root context.Context, env *apptest.Env) (alice, bob apptest.User, drive string, a, b *tab) {
	t.Helper()
	alice, bob = env.Signup("Alice Able"), env.Signup("Bob Baker")
	drive = env.CreateDrive(alice, "Team")
	env.AddMember(alice, drive, bob, "MEMBER")
	a = newTab(t, root, env.URL, "alice", true)
	b = newTab(t, root, env.URL, "bob", true)
	a.run("viewport", chromedp.EmulateViewport(1280, 800))
	b.run("viewport", chromedp.EmulateViewport(1280, 800))
	return alice, bob, drive, a, b
}
