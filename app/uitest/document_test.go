package uitest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
)

// revisionsPage is how many revisions the history lists at a time.
const revisionsPage = 20

// typeAt puts the caret of the tab's document at code unit pos (-1: the end) and focuses it.
func typeAt(pos int) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const t = document.querySelector(".doc-text");
		const p = %d < 0 ? t.value.length : %d; t.focus(); t.setSelectionRange(p, p); })()`, pos, pos))
}

// docValue waits until the tab's document holds want.
func docValue(want string) chromedp.Action[chromedp.Void] {
	return waitFor(fmt.Sprintf(`document.querySelector(".doc-text").value === %q`, want))
}

// serverContent is the document's content as the API answers it.
func serverContent(env *apptest.Env, u apptest.User, pageID string) string {
	var p struct {
		Content string `json:"content"`
	}
	env.Do("GET", "/api/pages/"+pageID, u.Token, nil).Expect(200).JSON(&p)
	return p.Content
}

// typeTogether types atEnd in tab a (at the end) and atStart in tab b (at the start), a key each
// in turn, neither waiting for the other's letters, then waits until both tabs and the server
// hold want.
func typeTogether(t *testing.T, env *apptest.Env, u apptest.User, doc string, a, b *tab, atEnd, atStart, want string) {
	t.Helper()
	a.run(a.name+"'s caret", typeAt(-1))
	b.run(b.name+"'s caret", typeAt(0))
	aText, bText := []rune(atEnd), []rune(atStart)
	for i := 0; i < max(len(aText), len(bText)); i++ {
		if i < len(bText) {
			b.run(b.name+" types", chromedp.KeyEvent(string(bText[i])))
		}
		if i < len(aText) {
			a.run(a.name+" types", chromedp.KeyEvent(string(aText[i])))
		}
	}
	for _, tb := range []*tab{a, b} {
		tb.run("the same text", docValue(want), waitText(".doc-status", "Saved"))
	}
	if got := serverContent(env, u, doc); got != want {
		t.Fatalf("server content %q, want %q", got, want)
	}
}

// Two people type into one document at once, each at their own place: both end with the same
// text, the server's, and each sees the other's named cursor in the other's colour. Undo takes
// back only one's own typing. A viewer reads along but cannot type. Edits made offline are sent
// on reconnect. The revision history lists, shows and restores a revision, live for the others.
func TestDocumentCoediting(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t, func(c *app.Config) { c.Doc.PauseRevision = 300 * time.Millisecond })
	alice, bob, carol := env.Signup("Alice Able"), env.Signup("Bob Baker"), env.Signup("Carol Cole")
	drive := env.CreateDrive(alice, "Team")
	doc := env.CreatePage(alice, drive, "DOCUMENT", "Plan", "")
	env.Do("PATCH", "/api/pages/"+doc, alice.Token, map[string]any{"content": "Hello"}).Expect(200)
	env.AddMember(alice, drive, bob, "MEMBER")
	env.AddMember(alice, drive, carol, "VIEWER")

	a := newTab(t, root, env.URL, "alice", true)
	b := newTab(t, root, env.URL, "bob", true)
	for _, tb := range []*tab{a, b} {
		tb.run("viewport", chromedp.EmulateViewport(1280, 800))
	}
	a.signIn(env, alice, "/p/"+doc)
	b.signIn(env, bob, "/p/"+doc)
	for _, tb := range []*tab{a, b} {
		tb.run("the document opens", waitText("main h1", "Plan"), live, waitText(".doc-status", "Saved"),
			waitFor(`!document.querySelector(".doc-text").readOnly`), docValue("Hello"))
	}

	// Interleaved typing: Bob at the start, Alice at the end, a key each in turn, neither waiting
	// for the other's letters. Each caret stays where its owner is typing.
	const aliceText, both = " from Alice", "Bob says Hello from Alice"
	typeTogether(t, env, alice, doc, a, b, aliceText, "Bob says ", both)

	// Each sees the other's caret, named, in the colour of the other's avatar.
	a.run("alice sees bob's cursor", waitText(".doc-layer .doc-flag", "Bob Baker"))
	b.run("bob sees alice's cursor", waitText(".doc-layer .doc-flag", "Alice Able"))
	for _, c := range []struct {
		tb   *tab
		name string
	}{{a, "Bob Baker"}, {b, "Alice Able"}} {
		got := c.tb.eval(fmt.Sprintf(`(() => {
			const hue = (e) => e && [...e.classList].find((c) => c.startsWith("hue-"));
			const flag = [...document.querySelectorAll(".doc-flag")].find((f) => f.textContent === %q);
			const avatar = document.querySelector('.viewers .avatar[aria-label=%q]');
			return hue(flag) && hue(flag) === hue(avatar) && hue(flag.parentElement) === hue(flag) ? "ok" : hue(flag) + " vs " + hue(avatar);
		})()`, c.name, c.name))
		if got != "ok" {
			t.Errorf("%s: %s's cursor colour: %s", c.tb.name, c.name, got)
		}
	}
	// Bob's caret sits before "Hello" on Alice's screen: the layer's text up to it is his words.
	if got := a.eval(`(() => { const c = document.querySelector(".doc-layer .doc-caret"); const r = document.createRange();
		r.setStart(document.querySelector(".doc-layer"), 0); r.setEndBefore(c); return r.toString(); })()`); got != "Bob says " {
		t.Errorf("bob's caret on alice's screen after %q, want after %q", got, "Bob says ")
	}
	// A selection is tinted on the other's screen; its name flag fades once it stays still.
	b.run("bob selects Hello", chromedp.Evaluate[chromedp.Void](`(() => { const t = document.querySelector(".doc-text");
		t.focus(); t.setSelectionRange(9, 14); t.dispatchEvent(new Event("select")); })()`))
	a.run("alice sees bob's selection", waitText(".doc-layer .doc-sel", "Hello"), waitFor(`document.querySelector(".doc-flag.still") === null`))
	a.shot("desktop-20-document-coediting")
	a.run("bob's flag fades", waitFor(`document.querySelector(".doc-layer .doc-flag.still") !== null`))
	b.shot("desktop-21-document-coediting")
	a.a11y("the document")

	// Undo takes back Alice's typing only; redo brings it back.
	for i := 0; i < len(aliceText) && a.eval(`document.querySelector(".doc-text").value`) != "Bob says Hello"; i++ {
		a.run("alice undoes", chromedp.KeyEvent("z", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	}
	a.run("alice's words are gone", docValue("Bob says Hello"))
	b.run("bob sees the undo", docValue("Bob says Hello"))
	for i := 0; i < len(aliceText) && a.eval(`document.querySelector(".doc-text").value`) != both; i++ {
		a.run("alice redoes", chromedp.KeyEvent("y", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	}
	a.run("alice's words are back", docValue(both))
	b.run("bob sees the redo", docValue(both))

	// Carol may view, not edit: the text follows, typing changes nothing.
	c := newTab(t, root, env.URL, "carol", true)
	c.run("viewport", chromedp.EmulateViewport(1280, 800))
	c.signIn(env, carol, "/p/"+doc)
	c.run("carol reads", waitText("main h1", "Plan"), live, waitText(".doc-status", "Read only"), docValue(both),
		waitFor(`document.querySelector(".doc-text").readOnly`))
	c.run("carol tries to type", typeAt(0), chromedp.KeyEvent("X"))
	a.run("alice adds a line", typeAt(-1), chromedp.KeyEvent("!"))
	c.run("carol sees it live", docValue(both+"!"))
	if got := serverContent(env, alice, doc); got != both+"!" {
		t.Fatalf("server content %q after carol typed", got)
	}
	c.a11y("the read-only document")
	c.clean()

	// Bob's network drops; both type; it comes back and nothing is lost.
	b.setOffline(true)
	b.run("bob is offline", waitText(".doc-status", "Offline"), typeAt(-1), chromedp.KeyEvent(" (offline)"),
		waitText(".doc-status", "your edits are kept"))
	b.shot("desktop-22-document-offline")
	a.run("alice types meanwhile", typeAt(0), chromedp.KeyEvent("> "))
	b.setOffline(false)
	const merged = "> " + both + "! (offline)"
	for _, tb := range []*tab{a, b} {
		tb.run("caught up", docValue(merged), waitText(".doc-status", "Saved"))
	}
	if got := serverContent(env, alice, doc); got != merged {
		t.Fatalf("server content %q, want %q", got, merged)
	}

	// The history: Alice restores revision 2 (the first with text); Bob's editor follows. Renames
	// push it to the history's second page.
	for i := 1; i <= revisionsPage; i++ {
		env.Do("PATCH", "/api/pages/"+doc, alice.Token, map[string]any{"title": fmt.Sprintf("Plan %d", i)}).Expect(200)
	}
	env.Do("PATCH", "/api/pages/"+doc, alice.Token, map[string]any{"title": "Plan"}).Expect(200)
	rev2 := `[...document.querySelectorAll(".revs button")].find((b) => b.textContent === "Revision 2")`
	a.run("alice opens the history", waitFor(`document.querySelector("main h1").textContent === "Plan"`), clickText(".doc-bar button", "History"),
		waitFor(fmt.Sprintf(`document.querySelectorAll(".revs li").length === %d`, revisionsPage)), waitFor("!"+rev2),
		clickText(".doc-history button", "Load older revisions"), waitFor(rev2+" !== undefined"),
		waitGone(".doc-history button", "Load older revisions"), waitText(".revs li", "“Plan 7”"))
	a.shot("desktop-24-document-history")
	a.run("alice views revision 2", chromedp.Evaluate[chromedp.Void](rev2+".click()"), waitText(".rev-view h3", "Revision 2"),
		waitText(".rev-text", "Hello"))
	a.shot("desktop-23-document-revision")
	a.a11y("a revision")
	a.run("alice restores it", clickText(".rev-view button", "Restore this revision"), docValue("Hello"),
		waitFor(`document.querySelector(".rev-view").hidden`))
	b.run("bob sees the restore", docValue("Hello"))
	if got := serverContent(env, bob, doc); got != "Hello" {
		t.Fatalf("server content after the restore: %q", got)
	}

	// A phone.
	b.run("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch), typeAt(-1),
		chromedp.KeyEvent(", phone"), docValue("Hello, phone"))
	a.run("alice sees it", docValue("Hello, phone"))
	a.run("alice moves", typeAt(0), chromedp.KeyEvent("Hi. "))
	b.run("bob sees alice's cursor", docValue("Hi. Hello, phone"), waitText(".doc-layer .doc-flag", "Alice Able"))
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatalf("dark theme: %v", err)
	}
	b.shot("phone-20-document")
	b.a11y("the document on a phone")
	if !strings.Contains(b.eval(`document.querySelector(".doc-status").textContent`), "Saved") {
		t.Errorf("bob's status: %s", b.eval(`document.querySelector(".doc-status").textContent`))
	}

	// Bob's edit right goes: the member event redraws his page read-only at once (an edit
	// that still reached the server before the redraw is refused and taken back, which the
	// DocClient's unit tests cover), and what he types then changes nothing.
	env.Do("PATCH", "/api/drives/"+drive+"/members/"+bob.ID, alice.Token, map[string]any{"role": "VIEWER"}).Expect(200)
	b.run("bob loses the edit right", waitFor(`document.querySelector(".doc-text") && document.querySelector(".doc-text").readOnly`),
		waitText(".doc-status", "Read only"))
	b.run("bob types without the right", typeAt(-1), chromedp.KeyEvent("?"), docValue("Hi. Hello, phone"))
	if got := serverContent(env, alice, doc); got != "Hi. Hello, phone" {
		t.Fatalf("server content %q after a refused edit", got)
	}

	// Bob leaves the document: his cursor leaves Alice's screen.
	b.run("bob leaves", clickText(".crumbs a", "Team"), waitText("main h1", "Team"))
	a.run("bob's cursor is gone", waitGone(".doc-layer .doc-flag", "Bob Baker"))
	a.clean()
	b.clean()
}

// With WebSocket blocked for Bob (his socket falls back to long-polling), two people still type
// into one document at once, end with the same text as the server, and see each other's cursor.
func TestDocumentOverLongPolling(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice, bob := env.Signup("Alice Able"), env.Signup("Bob Baker")
	drive := env.CreateDrive(alice, "Team")
	doc := env.CreatePage(alice, drive, "DOCUMENT", "Plan", "")
	env.Do("PATCH", "/api/pages/"+doc, alice.Token, map[string]any{"content": "Hello"}).Expect(200)
	env.AddMember(alice, drive, bob, "MEMBER")

	a := newTab(t, root, env.URL, "alice", true)
	b := newTab(t, root, env.URL, "bob", true)
	b.blockWebSocket()
	a.signIn(env, alice, "/p/"+doc)
	b.signIn(env, bob, "/p/"+doc)
	for _, tb := range []*tab{a, b} {
		tb.run("the document opens", waitText("main h1", "Plan"), live, waitText(".doc-status", "Saved"), docValue("Hello"))
	}
	b.run("bob on long-polling", waitText(".conn", "Live (long-polling)"))

	typeTogether(t, env, alice, doc, a, b, ", polled", "Bob: ", "Bob: Hello, polled")
	a.run("alice sees bob's cursor", waitText(".doc-layer .doc-flag", "Bob Baker"))
	b.run("bob sees alice's cursor", waitText(".doc-layer .doc-flag", "Alice Able"))
	b.shot("desktop-25-document-long-polling")
	a.clean()
	b.clean()
}
