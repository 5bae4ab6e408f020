package uitest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pagespace/pagespace/app/apptest"
)

// change sets a form control's value as a person would and fires its change event.
func change(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(waitFor(fmt.Sprintf(`document.querySelector(%q) !== null`, sel)), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, value)))
}

// Sharing through the UI: A signs up, makes a drive and a channel and invites B by email; B (on a
// phone) sees them; A makes B a viewer and B's channel turns read-only live; A makes the channel
// private, then shares it with B and takes the grant back while B reads it, and B is told each
// time with the content gone; B leaves the drive, and A's members view follows.
func TestSharingMembersAndGrants(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	bob := env.Signup("Bob Baker")
	a := newTab(t, root, env.URL, "alice", true)
	b := newTab(t, root, env.URL, "bob", true)
	a.run("viewport", chromedp.EmulateViewport(1280, 800))
	b.run("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch))
	email := fmt.Sprintf("alice.%d@example.com", time.Now().UnixNano())

	// A signs up and makes a drive with a channel.
	a.run("sign up", chromedp.Navigate(env.URL+"/signup"), waitText("h1", "Create your account"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Alice Able"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), waitText("h1", "Your drives"),
		chromedp.SendKeys(chromedp.CSS(`main input[name="name"]`), "Team"),
		clickText("main button", "Create drive"), waitText("main h1", "Team"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("details.new-page").open = true`),
		chromedp.SetValue(chromedp.CSS(`.new-page select[name="type"]`), "CHANNEL"),
		chromedp.SendKeys(chromedp.CSS(`.new-page input[name="title"]`), "general"),
		clickText(".new-page button", "Create page"), waitText("main h1", "general"), live)

	// A invites B by email: first an address without an account, which is refused in words and
	// kept in the form, then B's.
	a.run("members", clickText(".sidebar a.members-link", "Members"), waitText("main h1", "Members"),
		waitText(".member", "Alice Able (you)"), waitText(".member .role", "Owner"),
		chromedp.SendKeys(chromedp.CSS(`main input[name="email"]`), "nobody@example.com"),
		clickText("main button", "Invite"), waitText(".form-error", "No account uses this email"))
	if v := a.eval(`document.querySelector('main input[name="email"]').value`); v != "nobody@example.com" {
		t.Fatalf("the invite form lost the email: %q", v)
	}
	a.run("invite bob", chromedp.Evaluate[chromedp.Void](`document.querySelector('main input[name="email"]').value = ""`),
		chromedp.SendKeys(chromedp.CSS(`main input[name="email"]`), bob.Email),
		clickText("main button", "Invite"), waitText(".member", "Bob Baker"), waitGone(".form-error", "No account"),
		waitFor(`document.querySelector('main input[name="email"]').value === ""`),
		waitFor(`document.querySelector('select[aria-label="Role of Bob Baker"]').value === "MEMBER"`))
	a.shot("desktop-20-members")
	a.run("the drive links to its members", clickText(".crumbs a", "Team"), waitText("main h1", "Team"),
		clickText("main a", "Members"), waitText("main h1", "Members"))
	a.a11y("the members")

	// B signs in and finds the drive and its channel; he may post.
	b.signIn(env, bob, "/")
	b.run("bob sees the drive", waitText(".card-link", "Team"), clickText(".card-link", "Team"), waitText("main h1", "Team"),
		clickText("main .card-link", "general"), waitText("main h1", "general"), live,
		waitFor(`document.querySelector(".composer-input") !== null`))
	b.eval(`window.__noReload = "kept"; ""`)

	// A makes B a viewer: B's channel loses its composer, live.
	a.run("bob becomes a viewer", change(`select[aria-label="Role of Bob Baker"]`, "VIEWER"),
		waitFor(`document.querySelector('select[aria-label="Role of Bob Baker"]').value === "VIEWER"`))
	b.run("bob's channel is read-only", waitText(".channel .muted", "You can read this channel but not post in it"),
		waitFor(`document.querySelector(".composer-input") === null`), waitText("main h1", "general"),
		waitFor(`document.querySelector("details.new-page").hidden`))
	b.shot("phone-20-read-only")

	// A opens the channel's sharing dialog; B is online, which A's sidebar shows.
	a.run("alice in the channel", clickText(".pages a.node", "general"), waitText("main h1", "general"),
		waitFor(`document.querySelector(".member-stack .avatar.online[title=\"Bob Baker: online\"]") !== null`),
		clickText("main button", "Share"), waitFor(`document.querySelector("dialog.share-dialog[open]") !== null`),
		waitText(".grants", "Nobody has a grant"), waitFor(`document.activeElement.id === "share-private"`))
	a.shot("desktop-21-share")
	a.a11y("the sharing dialog")

	// Private while B reads it: B is told, and the messages leave his screen.
	a.run("make it private", chromedp.Click(chromedp.CSS(`#share-private`)), waitFor(`document.querySelector("#share-private").checked`),
		waitText(".page-head .chip", "private"), waitText(".pages a.node", "private"))
	b.run("bob loses the channel", waitText(".flash", "You no longer have access"), waitFor(`document.querySelector(".channel") === null`),
		waitText("main h1", "Team"))
	b.shot("phone-21-private")

	// A gives B a grant: the channel comes back to his tree, marked shared.
	a.run("grant bob", waitFor(`[...document.querySelectorAll('.grant-add select[name="userId"] option')].some(o => o.textContent.includes("Bob Baker"))`),
		change(`.grant-add select[name="userId"]`, bob.ID), clickText(".grant-add button", "Add"),
		waitText(".grant", "Bob Baker"), waitFor(`document.querySelector('select[aria-label="What Bob Baker may do"]').value === "view"`))
	a.shot("desktop-22-granted")
	a.run("phone-sized dialog", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch), waitText(".grant", "Bob Baker"))
	a.shot("phone-22-share")
	a.run("back to desktop", chromedp.EmulateViewport(1280, 800))
	b.run("bob gets it back", clickText("button.menu", "Menu"), waitText(".pages a.node", "general"), waitText(".pages a.node .chip", "shared"))
	b.shot("phone-22-drawer-shared")
	b.a11y("the drawer with a shared page")
	b.run("bob opens it", clickText(".pages a.node", "general"), waitText("main h1", "general"), live)

	// A takes the grant back while B reads: the notice again.
	a.run("revoke bob", clickText(".grant button", "Remove"), waitText(".grants", "Nobody has a grant"))
	b.run("bob loses it again", waitText(".flash", "You no longer have access"), waitFor(`document.querySelector(".channel") === null`))

	// B leaves the drive; A's members view follows.
	a.run("alice's members view", chromedp.KeyEvent(kb.Escape), waitFor(`document.querySelector("dialog") === null`),
		waitFor(`document.activeElement.textContent === "Share"`), // the focus is back on the opener
		clickText(".sidebar a.members-link", "Members"), waitText(".member", "Bob Baker"))
	b.run("bob's members view", clickText("button.menu", "Menu"), clickText(".sidebar a.members-link", "Members"), waitText("main h1", "Members"),
		waitText(".member .role", "Viewer"), waitFor(`[...document.querySelectorAll("main select, main input")].every(e => e.offsetParent === null)`))
	b.a11y("the members, read-only")
	b.run("bob leaves", clickText(".member button", "Leave drive"), waitText(".confirm", "Leave “Team”?"))
	b.shot("phone-23-leave")
	b.run("bob confirms", clickText(".confirm button", "Leave drive"), waitText("main h1", "Your drives"), waitGone(".card-link", "Team"))
	a.run("bob is gone from alice's list", waitGone(".member", "Bob Baker"))
	if w := b.eval(`String(document.documentElement.scrollWidth)`); w != "375" {
		t.Errorf("the phone layout scrolls sideways: %s px wide", w)
	}
	if v := b.eval(`String(window.__noReload)`); v != "kept" {
		t.Fatalf("bob's page reloaded (marker %q)", v)
	}
	a.clean()
	b.clean()
}

// An admin demoted while looking at the drive loses its settings at once, without a reload.
func TestDriveViewFollowsRole(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice, bob := env.Signup("Alice Able"), env.Signup("Bob Baker")
	drive := env.CreateDrive(alice, "Team")
	env.AddMember(alice, drive, bob, "ADMIN")
	b := newTab(t, root, env.URL, "bob", true)
	b.signIn(env, bob, "/d/"+drive)
	b.run("bob manages the drive", waitText("main h1", "Team"), live, waitText("main h2", "Drive settings"),
		waitText("main a", "Members: invite people"))
	b.eval(`window.__noReload = "kept"; ""`)
	env.SetRole(alice, drive, bob, "MEMBER")
	b.run("bob no longer does", waitGone("main h2", "Drive settings"), waitText("main a", "Members"), waitGone("main a", "invite people"),
		waitText("main h1", "Team"))
	if v := b.eval(`String(window.__noReload)`); v != "kept" {
		t.Fatalf("the page reloaded (marker %q)", v)
	}
	b.clean()
}
