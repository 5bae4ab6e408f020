package uitest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pagespace/pagespace/app/apptest"
)

// A signs up, makes a drive with a folder, a document and a channel, renames one, trashes one and
// restores it from the trash; reloads a deep link, goes back and forward without a reload; signs
// out and in again (in a phone-sized tab) and finds everything. No page logs an error or a CSP
// violation. Screenshots at 1280×800 and 375 px wide.
func TestWorkspaceFlow(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	a := newTab(t, root, env.URL, "desktop", true)
	a.run("desktop viewport", chromedp.EmulateViewport(1280, 800))
	email := fmt.Sprintf("ada.%d@example.com", time.Now().UnixNano())

	// Signed out, / shows sign-in; from there to sign-up.
	a.run("open the app", chromedp.Navigate(env.URL+"/"), waitText("h1", "Sign in"))
	if p := a.path(); p != "/login" {
		t.Fatalf("signed out, / went to %s, want /login", p)
	}
	a.shot("desktop-01-sign-in")
	a.a11y("sign in")
	a.run("go to sign up", clickText("a", "Create an account"), waitText("h1", "Create your account"))

	// A failed sign-up keeps what was typed and says why in words.
	a.run("sign up with a short password",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Ada Lovelace"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "short"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		waitText(".field-error", "Password must be 8 to 256 characters"))
	if v := a.eval(`document.querySelector('input[name="email"]').value`); v != email {
		t.Fatalf("the form lost the email: %q", v)
	}
	a.shot("desktop-02-sign-up-error")
	a.a11y("sign up")
	a.run("sign up",
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), " horse battery"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		waitText("h1", "Your drives"), waitText(".empty", "No drives yet"))
	a.eval(`window.__noReload = "kept"; ""`) // gone if anything below reloads the page

	// A drive.
	a.run("create a drive",
		chromedp.SendKeys(chromedp.CSS(`main input[name="name"]`), "Team"),
		clickText("main button", "Create drive"),
		waitText("main h1", "Team"), waitText(".empty", "This drive is empty"))
	driveURL := a.path()
	if !strings.HasPrefix(driveURL, "/d/") {
		t.Fatalf("after creating a drive: %s", driveURL)
	}

	// A folder, a document inside it, a channel at the top level.
	create := func(typ, title, inside string) string {
		t.Helper()
		steps := []chromedp.Action[chromedp.Void]{
			waitFor(`document.querySelector("details.new-page") !== null`),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("details.new-page").open = true`),
			chromedp.SetValue(chromedp.CSS(`.new-page select[name="type"]`), typ),
			chromedp.SendKeys(chromedp.CSS(`.new-page input[name="title"]`), title),
		}
		steps = append(steps, chromedp.SetValue(chromedp.CSS(`.new-page select[name="parentId"]`), inside))
		steps = append(steps, clickText(".new-page button", "Create page"), waitText("main h1", title), waitText(".pages a.node", title))
		a.run("create "+typ+" "+title, steps...)
		return strings.TrimPrefix(a.path(), "/p/")
	}
	folder := create("FOLDER", "Specs", "")
	doc := create("DOCUMENT", "Plan", folder)
	channel := create("CHANNEL", "general", "")
	if folder == "" || doc == "" || channel == "" || folder == doc {
		t.Fatalf("page ids: %q %q %q", folder, doc, channel)
	}
	// The document sits inside the folder in the tree.
	if n := a.eval(fmt.Sprintf(`String(document.querySelectorAll('a.node[href="/p/%s"] + ul a.node[href="/p/%s"]').length)`, folder, doc)); n != "1" {
		t.Fatalf("the document is not inside the folder in the tree (%s)", n)
	}

	if n := a.eval(fmt.Sprintf(`String(document.querySelectorAll('.pages > div > ul > li > a.node[href="/p/%s"]').length)`, channel)); n != "1" {
		t.Fatalf("the channel is not at the top level of the tree (%s)", n)
	}

	// Rename the document.
	a.run("open the document", clickText(".pages a.node", "Plan"), waitText("main h1", "Plan"))
	a.run("rename it",
		clickText("main button", "Rename"),
		chromedp.WaitVisible(chromedp.CSS(`.rename-form input`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(".rename-form input").value = ""`),
		chromedp.SendKeys(chromedp.CSS(`.rename-form input`), "Roadmap"),
		clickText(".rename-form button", "Save"),
		waitText("main h1", "Roadmap"), waitText(".pages a.node", "Roadmap"), waitGone(".pages a.node", "Plan"))
	// The tree by keyboard: ↓ moves to the next page, F2 opens its rename, Esc closes it.
	a.run("keyboard in the tree",
		chromedp.Evaluate[chromedp.Void](`document.querySelector(".pages a.node").focus()`), // by script: live updates may rebuild the tree
		chromedp.KeyEvent(kb.ArrowDown),
		waitFor(`document.activeElement.matches("a.node") && document.activeElement.textContent.includes("Roadmap")`),
		chromedp.KeyEvent(kb.F2),
		waitFor(`document.activeElement === document.querySelector(".rename-form input") && document.activeElement.value === "Roadmap"`),
		chromedp.KeyEvent(kb.Escape),
		waitText("main h1", "Roadmap"), waitFor(`document.activeElement.textContent === "Rename"`))
	a.shot("desktop-03-page")
	a.a11y("a page")

	// Trash the channel, then restore it from the trash view.
	a.run("trash the channel",
		clickText(".pages a.node", "general"), waitText("main h1", "general"),
		clickText("main button", "Move to trash"),
		waitText("main h1", "Team"), waitGone(".pages a.node", "general"))
	a.run("open the trash", clickText(".sidebar a", "Trash"), waitText("main h1", "Trash"), waitText(".trash-item", "general"))
	a.shot("desktop-04-trash")
	a.a11y("the trash")
	a.run("restore", clickText(".trash-item button", "Restore"), waitText(".empty", "The trash is empty"), waitText(".pages a.node", "general"))
	a.shot("desktop-05-drive")
	a.a11y("the drive")

	// Back and forward move through the views without reloading the page.
	a.run("back", chromedp.NavigateBack(), waitText("main h1", "Team"))
	a.run("back again", chromedp.NavigateBack(), waitText("main h1", "general"))
	a.run("forward", chromedp.NavigateForward(), waitText("main h1", "Team"))
	a.run("forward again", chromedp.NavigateForward(), waitText("main h1", "Trash"))
	if v := a.eval(`String(window.__noReload)`); v != "kept" {
		t.Fatalf("navigating reloaded the page (marker %q)", v)
	}

	// A deep link, loaded afresh, signs in through the refresh cookie.
	a.run("reload a deep link", chromedp.Navigate(env.URL+"/p/"+doc), waitText("main h1", "Roadmap"), waitText(".pages a.node", "general"))
	a.run("reload the drive", chromedp.Navigate(env.URL+driveURL), waitText("main h1", "Team"), waitText(".pages a.node", "Specs"))
	if v := a.eval(`document.cookie`); strings.Contains(v, "ps_refresh") {
		t.Fatalf("the refresh cookie is readable by scripts: %q", v)
	}

	// Sign out.
	a.run("sign out", clickText("a.me", "Ada"), waitText("main h1", "Your account"),
		clickText("main button", "Sign out"), waitText("h1", "Sign in"))
	// The server ended the session and deleted the cookie: a refresh now has no token to spend.
	if st := a.eval(`fetch("/api/auth/refresh", {method: "POST", headers: {"X-Auth-Mode": "cookie"}}).then(r => String(r.status))`); st != "400" {
		t.Fatalf("refresh after sign-out: %s, want 400 (no cookie)", st)
	}
	a.run("signed out stays out", chromedp.Navigate(env.URL+driveURL), waitText("h1", "Sign in"))

	// Sign in again on a phone-sized screen, in a fresh browser context: everything is there.
	m := newTab(t, root, env.URL, "phone", true)
	m.run("phone viewport", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch))
	// The phone prefers the dark theme, so that the screenshots show both.
	if _, err := chromedp.Call(m.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatalf("dark theme: %v", err)
	}
	m.run("open the deep link signed out", chromedp.Navigate(env.URL+driveURL), waitText("h1", "Sign in"))
	m.shot("phone-01-sign-in")
	m.run("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "short horse battery"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		waitText("main h1", "Team")) // back to the deep link it came from
	m.shot("phone-02-drive")
	m.run("open the drawer", clickText("button.menu", "Menu"), waitText(".pages a.node", "Roadmap"), waitText(".pages a.node", "general"))
	m.shot("phone-03-drawer")
	m.a11y("the drawer")
	m.run("open a page from the drawer", clickText(".pages a.node", "Specs"), waitText("main h1", "Specs"),
		waitText("main .card-link", "Roadmap"), waitFor(`getComputedStyle(document.querySelector(".sidebar")).display === "none"`))
	m.shot("phone-04-folder")
	m.run("home", chromedp.Navigate(env.URL+"/"), waitText("main h1", "Your drives"), waitText(".card-link", "Team"))
	m.shot("phone-05-drives")
	if w := m.eval(`String(document.documentElement.scrollWidth)`); w != "375" {
		t.Errorf("the phone layout scrolls sideways: %s px wide", w)
	}

	a.clean()
	m.clean()
}

// The console check itself can fail: a style attribute, refused by the CSP, is reported.
func TestConsoleCheckSeesCSPViolations(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	c := newTab(t, root, env.URL, "canary", true)
	c.run("open", chromedp.Navigate(env.URL+"/login"), waitText("h1", "Sign in"),
		chromedp.Evaluate[chromedp.Void](`document.body.setAttribute("style", "color: red")`))
	select {
	case <-c.problem:
	case <-time.After(10 * time.Second):
		t.Fatal("a CSP violation was not reported to the test")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !strings.Contains(strings.Join(c.problems, "\n"), "Content Security Policy") {
		t.Fatalf("the report does not name the CSP: %v", c.problems)
	}
}
