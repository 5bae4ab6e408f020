package uitest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pagespace/pagespace/app/apptest"
)

// An agent made over REST shows in the members view as an agent, without its placeholder email.
func TestAgentInMembersView(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice := env.Signup("Alice Able")
	drive := env.CreateDrive(alice, "Team")
	env.Do("POST", "/api/drives/"+drive+"/agents", alice.Token, map[string]any{"name": "Helper Bot", "role": "MEMBER"}).Expect(201)

	a := newTab(t, root, env.URL, "alice", true)
	a.run("viewport", chromedp.EmulateViewport(1280, 800))
	a.signIn(env, alice, "/d/"+drive+"/members")
	line := `[...document.querySelectorAll(".member")].find(e => e.textContent.includes("Helper Bot"))`
	a.run("the agent is listed", waitText("main h1", "Members"), waitText(".member", "Helper Bot"),
		waitFor(line+`.querySelector(".who .muted").textContent === "Agent"`),
		waitFor(`!document.body.textContent.includes("agents.invalid")`))
	a.shot("desktop-60-members-agent")
	a.a11y("the members with an agent")
}

// agentKey waits for the dialog that shows a new key once and returns the key.
func (tb *tab) agentKey() string {
	tb.t.Helper()
	tb.run("the key is shown", waitFor(`document.querySelector("dialog[open] #agent-key") !== null`),
		waitText("dialog[open] .warn", "it will not be shown again"))
	key := tb.eval(`document.querySelector("#agent-key").value`)
	if !strings.HasPrefix(key, "psk_") || len(key) != 47 {
		tb.t.Fatalf("%s: the dialog shows %q, not a key", tb.name, key)
	}
	return key
}

// closeKey closes the key's dialog; from then on the key is nowhere on the page.
func (tb *tab) closeKey(key string) {
	tb.t.Helper()
	tb.run("close the key's dialog", clickText("dialog[open] button", "Done"), waitFor(`document.querySelector("dialog") === null`),
		waitFor(fmt.Sprintf(`!document.documentElement.outerHTML.includes(%q) && [...document.querySelectorAll("input")].every(e => e.value !== %[1]q)`, key)))
}

// theme emulates the light or dark colour scheme.
func (tb *tab) theme(scheme string) {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
		tb.t.Fatalf("%s: %s theme: %v", tb.name, scheme, err)
	}
}

// An owner manages agents in the web UI: she creates one and sees its key once (with the warning,
// a copy button and a curl command), the key works; she gives it a second key, revokes the first
// (now 401), changes its role and removes it (the second key 401 too). Another admin's view
// follows without a reload; a member sees no controls.
func TestAgentsManaged(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice, bob, carol := env.Signup("Alice Able"), env.Signup("Bob Baker"), env.Signup("Carol Cole")
	drive := env.CreateDrive(alice, "Team")
	env.AddMember(alice, drive, bob, "ADMIN")
	env.AddMember(alice, drive, carol, "MEMBER")
	channel := env.CreatePage(alice, drive, "CHANNEL", "general", "")
	post := func(key string, want int) {
		t.Helper()
		env.Do("POST", "/api/pages/"+channel+"/messages", key, map[string]any{"content": "hello"}).Expect(want)
	}
	a := newTab(t, root, env.URL, "alice", true)
	b := newTab(t, root, env.URL, "bob", true)
	a.run("viewport", chromedp.EmulateViewport(1280, 800))
	b.run("viewport", chromedp.EmulateViewport(1280, 800))

	// From the members view to the agents, empty.
	a.signIn(env, alice, "/d/"+drive+"/members")
	a.run("alice opens the agents", waitText("main h1", "Members"), clickText("main a", "Agents"), waitText("main h1", "Agents"),
		waitText("main .empty", "No agents yet"), live)
	a.shot("desktop-61-agents-empty")
	a.a11y("the agents, none yet")
	b.signIn(env, bob, "/d/"+drive+"/agents")
	b.run("bob sees none", waitText("main .empty", "No agents yet"), live)
	b.eval(`window.__noReload = "kept"; ""`)

	// Create: the key once, in a dialog.
	a.run("create an agent", chromedp.SendKeys(chromedp.CSS(`main input[name="name"]`), "Helper Bot"),
		change(`main select[name="role"]`, "MEMBER"), clickText("main button", "Create agent"))
	first := a.agentKey()
	a.run("the dialog", waitText("dialog[open] .curl", first), waitText("dialog[open] .curl", "/api/pages/"+channel+"/messages"),
		waitText("dialog[open] h3", "“general”"), waitFor(`document.activeElement.textContent === "Copy key"`),
		clickText("dialog[open] button", "Copy key"), waitFor(`document.querySelector("dialog[open] [role=status]").textContent !== ""`))
	a.shot("desktop-62-agent-key")
	a.a11y("the key's dialog")
	a.closeKey(first)
	a.run("the agent is listed", waitText(".agent", "Helper Bot"), waitText(".key code", first[:10]), waitText(".key", "never used"),
		waitFor(`document.activeElement.id === "create-agent"`))
	post(first, 201)
	b.run("bob sees it live", waitText(".agent", "Helper Bot"), waitText(".key code", first[:10]))

	// The key's use shows when Alice comes back to the window.
	a.run("last used", chromedp.Evaluate[chromedp.Void](`dispatchEvent(new Event("focus"))`), waitText(".key", "last used just now"))

	// A second key, on a phone in the dark theme; Bob's list has no event for keys and follows
	// when he comes back to it.
	a.run("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch), waitText(".agent", "Helper Bot"))
	a.theme("dark")
	a.run("a second key", clickText(".agent button", "New key"))
	second := a.agentKey()
	a.shot("phone-62-agent-key")
	a.closeKey(second)
	a.theme("light")
	a.run("back to desktop", chromedp.EmulateViewport(1280, 800))
	a.run("two keys", waitText(".key code", second[:10]), waitFor(`document.querySelectorAll(".key").length === 2`),
		waitFor(`document.activeElement.textContent === "New key"`))
	b.run("bob's window gets the focus", chromedp.Evaluate[chromedp.Void](`dispatchEvent(new Event("focus"))`),
		waitFor(`document.querySelectorAll(".key").length === 2`))

	// Revoke the first key: it is refused from then on, the second still works.
	a.run("revoke the first key", chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Revoke key %s…"]`, first[:10]))),
		waitText(".confirm", "Programs using it are refused"))
	a.shot("desktop-63-agent-revoke")
	a.run("confirm", clickText(".confirm button", "Revoke key"), waitFor(`document.querySelectorAll(".key").length === 1`),
		waitGone(".key code", first[:10]))
	post(first, 401)
	post(second, 201)

	// Its role, through the member routes; Bob's list follows.
	a.run("make it a viewer", change(`select[aria-label="Role of Helper Bot"]`, "VIEWER"))
	b.run("bob sees the role", waitFor(`document.querySelector('select[aria-label="Role of Helper Bot"]').value === "VIEWER"`))
	post(second, 403)

	// On a phone.
	a.run("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch), waitText(".agent", "Helper Bot"))
	a.shot("phone-61-agents")
	if w := a.eval(`String(document.documentElement.scrollWidth)`); w != "375" {
		t.Errorf("the agents view scrolls sideways on a phone: %s px wide", w)
	}
	a.run("back to desktop", chromedp.EmulateViewport(1280, 800))

	// A member sees neither the link nor the controls.
	c := newTab(t, root, env.URL, "carol", true)
	c.run("viewport", chromedp.EmulateViewport(1280, 800))
	c.signIn(env, carol, "/d/"+drive+"/members")
	c.run("carol's members", waitText(".member", "Helper Bot"), waitGone("main a", "Agents"))
	c.run("carol's agents view", chromedp.Navigate(env.URL+"/d/"+drive+"/agents"), waitText("main h1", "Agents"),
		waitText("main .empty", "Only the drive's owner and admins manage its agents"),
		waitFor(`[...document.querySelectorAll("main button, main input, main select")].every(e => e.offsetParent === null)`))
	c.a11y("the agents, to a member")

	// Remove it: its last key is refused, and both admins' lists are empty again.
	a.run("remove the agent", clickText(".agent button", "Remove…"), waitText(".confirm", "Remove Helper Bot for good?"),
		clickText(".confirm button", "Remove agent"), waitText("main .empty", "No agents yet"))
	post(second, 401)
	b.run("bob sees it gone", waitText("main .empty", "No agents yet"))
	if v := b.eval(`String(window.__noReload)`); v != "kept" {
		t.Fatalf("bob's page reloaded (marker %q)", v)
	}
	a.clean()
	b.clean()
	c.clean()
}
