package uitest_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
)

// bobsPresence waits until Bob's status line in the members view has every one of want.
func bobsPresence(want ...string) chromedp.Action[chromedp.Void] {
	steps := make([]chromedp.Action[chromedp.Void], len(want))
	for i, w := range want {
		steps[i] = waitText(`.member .presence`, w)
	}
	return chromedp.Steps(steps...)
}

// Members' status from drive presence: A's members view shows B online, on the page B has open,
// then idle after a quiet spell, online again after B's next keystroke (the activity ping), and
// offline with when B was last seen once B's tab closes. The sidebar's avatars follow.
func TestMembersPresence(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t, func(c *app.Config) { c.Realtime.IdleAfter = 4 * time.Second })
	alice, bob, drive, a, b := team(t, root, env)
	plan := env.CreatePage(alice, drive, "DOCUMENT", "Plan", "")

	a.signIn(env, alice, "/d/"+drive+"/members")
	a.run("alice's members view", waitText("main h1", "Members"), live, waitText(".member", "Bob Baker"),
		waitFor(`[...document.querySelectorAll(".member")].find(e => e.textContent.includes("Bob Baker")).querySelector(".presence").textContent.startsWith("Offline")`))
	b.signIn(env, bob, "/p/"+plan)
	b.run("bob reads the plan", waitText("main h1", "Plan"), live)

	bobLine := `[...document.querySelectorAll(".member")].find(e => e.textContent.includes("Bob Baker")).querySelector(".presence")`
	a.run("bob is online", waitFor(bobLine+`.textContent === "Online · on “Plan”"`),
		waitFor(bobLine+`.classList.contains("online")`),
		waitFor(`document.querySelector('.member-stack .avatar.online[title="Bob Baker: online"]') !== null`),
		waitText(".members-link .visually-hidden", "online"))
	a.shot("desktop-50-presence-online")
	a.a11y("the members with their status")

	a.run("bob turns idle", waitFor(bobLine+`.textContent.startsWith("Idle · last seen just now")`),
		waitFor(`document.querySelector('.member-stack .avatar.idle[title="Bob Baker: idle"]') !== null`))
	b.run("bob presses a key", chromedp.KeyEvent(kb.Shift))
	a.run("bob is back online", waitFor(bobLine+`.textContent === "Online · on “Plan”"`))

	b.clean()
	if err := chromedp.Cancel(b.ctx); err != nil {
		t.Fatalf("close bob's tab: %v", err)
	}
	a.run("bob is offline", waitFor(bobLine+`.textContent === "Offline · last seen just now"`),
		waitFor(bobLine+`.classList.contains("offline")`),
		waitFor(`document.querySelector('.member-stack .avatar.offline[title="Bob Baker: offline"]') !== null`))
	a.shot("desktop-51-presence-offline")
	a.run("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch),
		waitText(".member .presence", "Offline · last seen"))
	a.shot("phone-51-presence-offline")
	if w := a.eval(`String(document.documentElement.scrollWidth)`); w != "375" {
		t.Errorf("the phone layout scrolls sideways: %s px wide", w)
	}
	a.clean()
}
