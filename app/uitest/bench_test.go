package uitest_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pagespace/pagespace/app/apptest"
)

// BenchmarkUI measures the web UI in headless Chromium against the real server (figures in
// docs/performance.md, "Web UI in the browser"):
//
//	go test -run '^$' -bench BenchmarkUI -benchtime 3x ./app/uitest/
//
// It is a benchmark, not a test: nothing fails on a slow figure. It skips without a browser.
// The figures are custom metrics in milliseconds, measured in the page (performance.now()):
//   - LiveDrive, Tree2000: from the start of the navigation to a drive view that is live and
//     interactive (the drive's heading, the socket connected, the tree on screen), and to the
//     whole tree in the sidebar, with 10 and with 2,000 pages; Tree2000 also times a keyboard
//     move (Alt+↓: the tree patched, synchronously) and a rename by someone else until it
//     shows in the tree.
//   - Channel10000: a channel of 10,000 messages: to the first screen (the newest 50, live),
//     then scrolling up through all of them, 50 at a time (for at most five minutes:
//     messages-scrolled says how far it got). PAGESPACE_BENCH_MESSAGES changes the 10,000.
func BenchmarkUI(b *testing.B) {
	if _, err := os.Stat(chromium()); err != nil {
		b.Skipf("no browser at %s: %v", chromium(), err)
	}
	b.Run("LiveDrive", func(b *testing.B) { benchDrive(b, 10) })
	b.Run("Tree2000", func(b *testing.B) { benchDrive(b, 2000) })
	b.Run("Channel10000", benchChannel)
}

// benchSetup starts the server and a browser tab signed in as a new user with a drive "Bench".
func benchSetup(b *testing.B) (*apptest.Env, apptest.User, string, *tab) {
	b.Helper()
	root := browserFor(b, 20*time.Minute)
	env := apptest.Start(b)
	u := env.Signup("Bea Bench")
	drive := env.CreateDrive(u, "Bench")
	tb := newTab(b, root, env.URL, "bench", true)
	tb.run("viewport", chromedp.EmulateViewport(1280, 800))
	return env, u, drive, tb
}

// parallel runs job(i) for i in [0, n) on a few workers; the first error fails the benchmark.
func parallel(b *testing.B, n int, job func(i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	next := make(chan int)
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := job(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

// post sends a request that must answer 201.
func post(env *apptest.Env, u apptest.User, path string, body any) error {
	status, data, err := env.Send("POST", path, u.Token, body)
	if err == nil && status != 201 {
		err = fmt.Errorf("POST %s: %d %s", path, status, data)
	}
	return err
}

// makeTree makes n pages: folders of 19 documents each (n/20 folders).
func makeTree(b *testing.B, env *apptest.Env, u apptest.User, drive string, n int) {
	b.Helper()
	folders := make([]string, n/20)
	for i := range folders {
		folders[i] = env.CreatePage(u, drive, "FOLDER", fmt.Sprintf("Folder %03d", i), "")
	}
	rest := n - len(folders)
	parallel(b, rest, func(i int) error {
		body := map[string]any{"title": fmt.Sprintf("Document %04d", i), "type": "DOCUMENT"}
		if len(folders) > 0 {
			body["parentId"] = folders[i%len(folders)]
		}
		return post(env, u, "/api/drives/"+drive+"/pages", body)
	})
}

// ms reads a number of milliseconds the page computed.
func (tb *tab) ms(expr string) float64 {
	tb.t.Helper()
	v, err := strconv.ParseFloat(tb.eval(`String(`+expr+`)`), 64)
	if err != nil {
		tb.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// heldAt waits for cond and records in window[name] when (performance.now(), from the start
// of the navigation) it first held.
func heldAt(name, cond string) chromedp.Action[chromedp.Void] {
	return waitFor(fmt.Sprintf(`(%s) && (window[%q] = window[%q] || performance.now())`, cond, name, name))
}

func benchDrive(b *testing.B, n int) {
	env, u, drive, tb := benchSetup(b)
	makeTree(b, env, u, drive, n)
	tb.signIn(env, u, "/d/"+drive)
	// Interactive: the drive's heading, the socket connected and the tree on screen (its first
	// part, for a large drive); whole: every page in the tree.
	interactive := `document.querySelector("main h1")?.textContent === "Bench" && document.querySelector('.conn[data-status="connected"]') !== null && document.querySelector(".pages a.node") !== null`
	whole := fmt.Sprintf(`document.querySelectorAll(".pages a.node").length === %d`, n)
	var open, full, move, rename float64
	runs := 0
	for b.Loop() {
		tb.run("open the drive", chromedp.Navigate(env.URL+"/d/"+drive), heldAt("__live", interactive), heldAt("__whole", whole))
		open += tb.ms(`window.__live`)
		full += tb.ms(`window.__whole`)
		if n >= 40 {
			// Alt+↓ on a document inside a folder: the optimistic move redraws the tree at once.
			dir := []string{"ArrowDown", "ArrowUp"}[runs%2]
			move += tb.ms(fmt.Sprintf(`(() => {
				document.getElementById("announce").textContent = "";
				const a = [...document.querySelectorAll(".pages a.node")].find((x) => x.textContent.includes("Document 0040"));
				a.focus();
				const t0 = performance.now();
				a.dispatchEvent(new KeyboardEvent("keydown", { key: %q, altKey: true, bubbles: true }));
				return performance.now() - t0;
			})()`, dir))
			tb.run("moved", waitText("#announce", "Moved"))
			// A rename by someone else (here: the API), until the tree shows it.
			title := fmt.Sprintf("Renamed %d", runs)
			id := tb.eval(`[...document.querySelectorAll(".pages a.node")].find((x) => x.textContent.includes("Document 0041") || x.textContent.includes("Renamed")).dataset.id`)
			start := time.Now()
			env.Do("PATCH", "/api/pages/"+id, u.Token, map[string]any{"title": title}).Expect(200)
			tb.run("rename shows", waitText(".pages a.node", title))
			rename += float64(time.Since(start).Microseconds()) / 1000
		}
		runs++
	}
	b.ReportMetric(open/float64(runs), "ms/live-view")
	b.ReportMetric(full/float64(runs), "ms/whole-tree")
	if n >= 40 {
		b.ReportMetric(move/float64(runs), "ms/key-move")
		b.ReportMetric(rename/float64(runs), "ms/live-rename")
	}
	tb.clean()
}

func benchChannel(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("PAGESPACE_BENCH_MESSAGES")); err == nil {
		n = v
	}
	env, u, drive, tb := benchSetup(b)
	channel := env.CreatePage(u, drive, "CHANNEL", "general", "")
	parallel(b, n, func(i int) error {
		return post(env, u, "/api/pages/"+channel+"/messages", map[string]any{"content": fmt.Sprintf("Message %05d: a line of chat, about as long as most of them are.", i)})
	})
	tb.signIn(env, u, "/p/"+channel)
	ready := `document.querySelectorAll(".msgs .msg").length === 50 && document.querySelector('.conn[data-status="connected"]') !== null && document.querySelector(".composer-input") !== null`
	var first, scroll, perPage, worst, loaded float64
	runs := 0
	for b.Loop() {
		tb.run("open the channel", chromedp.Navigate(env.URL+"/p/"+channel), heldAt("__first", ready))
		first += tb.ms(`window.__first`)
		// Scroll to the top again and again: each time the next 50 older messages load.
		ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Minute)
		res, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(async () => {
			const s = document.querySelector(".msg-scroll");
			const list = document.querySelector(".msgs");
			const count = () => list.childElementCount; // (only messages once loaded: no marker while reading)
			const frame = () => new Promise((r) => requestAnimationFrame(r));
			const t0 = performance.now();
			let worst = 0, loads = 0;
			while (count() < %d && performance.now() - t0 < 300000) {
				const had = count(), t1 = performance.now();
				s.scrollTop = 0;
				while (count() === had) {
					if (performance.now() - t1 > 30000) throw new Error("stuck at " + had);
					await frame();
				}
				loads++;
				worst = Math.max(worst, performance.now() - t1);
			}
			const total = performance.now() - t0;
			return [total, total / loads, worst, count()];
		})()`, n), chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			b.Fatalf("scroll up: %v", err)
		}
		scroll += res[0]
		perPage += res[1]
		worst = max(worst, res[2])
		loaded = res[3]
		runs++
	}
	b.ReportMetric(first/float64(runs), "ms/first-screen")
	b.ReportMetric(scroll/float64(runs), "ms/scroll-all")
	b.ReportMetric(perPage/float64(runs), "ms/older-page")
	b.ReportMetric(worst, "ms/worst-older-page")
	b.ReportMetric(loaded, "messages-scrolled")
	tb.clean()
}
