package uitest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pagespace/pagespace/app/apptest"
)

// signIn signs u in through the sign-in form (its password is apptest's) and waits for the app.
func (tb *tab) signIn(env *apptest.Env, u apptest.User, path string) {
	tb.t.Helper()
	tb.run("sign in "+u.Name, chromedp.Navigate(env.URL+"/login?next="+path), waitText("h1", "Sign in"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), u.Email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		waitFor(`document.querySelector("main h1") !== null && location.pathname !== "/login"`))
}

// setOffline cuts (or gives back) the tab's network: requests fail, open sockets close,
// navigator.onLine follows.
func (tb *tab) setOffline(off bool) {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}}}); err != nil {
		tb.t.Fatalf("%s: network conditions: %v", tb.name, err)
	}
	if _, err := chromedp.Call(tb.ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		tb.t.Fatalf("%s: network state: %v", tb.name, err)
	}
}

// live waits for the connection indicator to say the socket is up.
var live = waitFor(`document.querySelector('.conn[data-status="connected"]') !== null`)

// A and B in a channel: the viewers, typing, a message without a reload, the tree following
// renames and moves, a drop of B's network while A writes and B drafts, a page trashed under B,
// and B's access revoked while reading the channel.
func TestLiveChannel(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice, bob := env.Signup("Alice Able"), env.Signup("Bob Baker")
	drive := env.CreateDrive(alice, "Team")
	folder := env.CreatePage(alice, drive, "FOLDER", "Specs", "")
	doc := env.CreatePage(alice, drive, "DOCUMENT", "Plan", "")
	channel := env.CreatePage(alice, drive, "CHANNEL", "general", "")
	env.AddMember(alice, drive, bob, "MEMBER")

	a := newTab(t, root, env.URL, "alice", true)
	b := newTab(t, root, env.URL, "bob", true)
	a.run("viewport", chromedp.EmulateViewport(1280, 800))
	b.run("viewport", chromedp.EmulateViewport(1280, 800))
	a.signIn(env, alice, "/p/"+channel)
	b.signIn(env, bob, "/p/"+channel)
	a.run("alice in the channel", waitText("main h1", "general"), waitText(".empty", "No messages yet"), live)
	b.run("bob in the channel", waitText("main h1", "general"), live,
		waitFor(`document.querySelector('.viewers .avatar[aria-label="Alice Able"][title="Alice Able"]') !== null`))
	b.eval(`window.__noReload = "kept"; ""`)

	// Typing, then the message, without a reload.
	a.run("alice types", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Hello Bob,"))
	b.run("bob sees alice typing", waitText(".typing", "Alice Able is typing…"))
	a.run("alice posts", chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)), chromedp.SendKeys(chromedp.CSS(`.composer-input`), "second line"),
		chromedp.KeyEvent(kb.Enter), waitText(".msg-text", "Hello Bob,\nsecond line"), waitFor(`document.querySelector(".composer-input").value.trim() === ""`))
	b.run("bob sees the message", waitText(".msg-text", "Hello Bob,\nsecond line"), waitGone(".typing", "typing"))
	b.run("bob replies", clickText(".msg-actions button", "Reply"), waitText(".reply-banner", "Replying to Alice Able"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Hi Alice"), chromedp.KeyEvent(kb.Enter),
		waitText(".replies .msg-text", "Hi Alice"))
	a.run("alice sees the reply count", waitText(".thread-toggle", "1 reply"))
	b.shot("desktop-10-channel")
	b.a11y("the channel")

	// The tree follows a rename and a move by Alice.
	env.Do("PATCH", "/api/pages/"+doc, alice.Token, map[string]any{"title": "Roadmap"}).Expect(200)
	env.Do("POST", "/api/pages/"+doc+"/move", alice.Token, map[string]any{"parentId": folder, "position": 1}).Expect(200)
	env.Do("PATCH", "/api/pages/"+channel, alice.Token, map[string]any{"title": "general chat"}).Expect(200)
	b.run("bob's open page follows a rename", waitText("main h1", "general chat"), waitFor(`document.title.startsWith("general chat")`))
	b.run("bob's tree follows", waitText(".pages a.node", "Roadmap"), waitGone(".pages a.node", "Plan"),
		waitFor(fmt.Sprintf(`document.querySelector('a.node[href="/p/%s"] + ul a.node[href="/p/%s"]') !== null`, folder, doc)))

	// Bob's network drops while Alice writes and Bob drafts; it comes back and Bob catches up.
	b.setOffline(true)
	b.run("bob is offline", waitFor(`document.querySelector('.conn[data-status="connected"]') === null`),
		waitFor(`/Reconnecting|Offline|Connecting/.test(document.querySelector(".conn").textContent)`))
	a.run("alice posts while bob is away", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "While you were away"), chromedp.KeyEvent(kb.Enter),
		waitText(".msg-text", "While you were away"))
	b.run("bob drafts offline", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Written offline"), chromedp.KeyEvent(kb.Enter),
		waitText(".pending", "Written offline"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "half typed"))
	b.shot("desktop-11-offline")
	b.setOffline(false)
	b.run("bob catches up", live, waitText(".msg-text", "While you were away"), waitText(".msgs .msg-text", "Written offline"),
		waitFor(`document.querySelector(".outbox").hidden`),
		waitFor(`document.querySelector(".composer-input").value.trim() === "half typed"`))
	a.run("alice gets bob's draft", waitText(".msg-text", "Written offline"))
	// The server kept Bob's session: the missed message came by replay, not by a refetch.
	if v := b.eval(`document.querySelector(".conn").dataset.recovered`); v != "true" {
		t.Errorf("bob's reconnect was not recovered (%s): the view caught up by refetching", v)
	}

	// A message sent offline is sent once the network is back even if Bob has left the channel.
	b.run("clear the draft", chromedp.Evaluate[chromedp.Void](`document.querySelector(".composer-input").value = ""`))
	b.setOffline(true)
	b.run("bob writes offline again", waitFor(`document.querySelector('.conn[data-status="connected"]') === null`),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Sent from afar"), chromedp.KeyEvent(kb.Enter),
		waitText(".pending", "Sent from afar"), clickText(".crumbs a", "Team"), waitText("main h1", "Team"))
	b.setOffline(false)
	a.run("alice gets it", waitText(".msg-text", "Sent from afar"))

	// A page trashed under Bob's eyes.
	b.run("bob opens the document", clickText(".pages a.node", "Roadmap"), waitText("main h1", "Roadmap"),
		waitFor(`document.querySelector(".viewers").hidden`)) // nobody else on this page
	env.Trash(alice, doc)
	b.run("bob is told", waitText(".flash", "“Roadmap” was moved to the trash"), waitText("main h1", "Team"), waitGone(".pages a.node", "Roadmap"))
	// The drive view follows the tree too.
	env.CreatePage(alice, drive, "TASK_LIST", "Chores", "")
	b.run("bob's drive view follows", waitText("main .card-link", "Chores"), waitText(".pages a.node", "Chores"))
	b.shot("desktop-12-page-trashed")

	// Bob's access goes while he reads the channel: the notice, and the messages leave the screen.
	b.run("bob back in the channel", clickText(".pages a.node", "general"), waitText(".msg-text", "While you were away"), live)
	b.run("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch), waitText(".msg-text", "Written offline"))
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatalf("dark theme: %v", err)
	}
	b.shot("phone-10-channel")
	env.Do("DELETE", "/api/drives/"+drive+"/members/"+bob.ID, alice.Token, nil).Expect(204)
	b.run("bob loses access", waitText(".flash", "You no longer have access"), waitGone(".msg-text", "While you were away"))
	b.shot("phone-11-access-removed")
	if p := b.path(); strings.Contains(p, channel) {
		t.Fatalf("bob still on the channel's path %s", p)
	}
	if v := b.eval(`String(window.__noReload)`); v != "kept" {
		t.Fatalf("the page reloaded (marker %q)", v)
	}
	a.clean()
	b.clean()
}

// blockedWebSocket is a class (JavaScript) that stands in for WebSocket and fails every
// connection before its handshake.
const blockedWebSocket = `class BlockedWebSocket {
	constructor(url) { this.url = url; this.readyState = 0; setTimeout(() => { this.readyState = 3; this.onerror && this.onerror(new Event("error")); this.onclose && this.onclose({ code: 1006, reason: "" }); }); }
	send() {}
	close() {}
}`

// blockWebSocket makes every WebSocket the tab's pages open fail before its handshake, as a
// proxy that does not pass WebSocket would (DevTools' URL blocking does not reach WebSocket
// handshakes): the socket must fall back to long-polling.
func (tb *tab) blockWebSocket() {
	tb.t.Helper()
	const blocked = `window.WebSocket = ` + blockedWebSocket + `;`
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: blocked}); err != nil {
		tb.t.Fatalf("%s: block WebSocket: %v", tb.name, err)
	}
}

// With WebSocket blocked for Bob, the channel works over long-polling: typing, messages both
// ways, edits and deletes live; a long history loads as Bob scrolls up; a message that arrives
// while he is scrolled up is marked unread, not scrolled into view.
func TestChannelOverLongPolling(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice, bob, drive, a, b := team(t, root, env)
	channel := env.CreatePage(alice, drive, "CHANNEL", "general", "")
	for i := 1; i <= 60; i++ {
		env.Do("POST", "/api/pages/"+channel+"/messages", alice.Token, map[string]any{"content": fmt.Sprintf("history %d", i)}).Expect(201)
	}
	b.blockWebSocket()
	a.signIn(env, alice, "/p/"+channel)
	b.signIn(env, bob, "/p/"+channel)
	a.run("alice in the channel", waitText(".msg-text", "history 60"), live)
	b.run("bob on long-polling", waitText(".msg-text", "history 60"), live, waitText(".conn", "Live (long-polling)"))

	// The newest page is shown at the bottom; scrolling up loads the rest.
	if got := b.eval(`String(document.querySelectorAll(".msgs .msg").length)`); got != "50" {
		t.Errorf("first page: %s messages, want 50", got)
	}
	b.run("bob scrolls up", chromedp.Evaluate[chromedp.Void](`document.querySelector(".msg-scroll").scrollTop = 0`),
		waitFor(`document.querySelectorAll(".msgs .msg").length === 60`), waitText(".msg-text", "history 1"),
		waitFor(`document.querySelector(".load-older").hidden`))
	b.run("bob reads the top", chromedp.Evaluate[chromedp.Void](`document.querySelector(".msg-scroll").scrollTop = 0`))

	// Typing and a message from Alice, while Bob is scrolled up: unread, not scrolled into view.
	a.run("alice types", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Over polling"))
	b.run("bob sees alice typing", waitText(".typing", "Alice Able is typing…"))
	a.run("alice posts", chromedp.KeyEvent(kb.Enter), waitText(".msg-text", "Over polling"))
	b.run("bob is told of a new message", waitText(".jump", "1 new message"), waitFor(`document.querySelector(".unread-mark") !== null`),
		waitFor(`document.querySelector(".msg-scroll").scrollTop < 100`))
	b.shot("desktop-13-unread")
	b.run("bob jumps to it", clickText(".jump", "new message"), waitFor(`document.querySelector(".jump").hidden`),
		waitFor(`(() => { const s = document.querySelector(".msg-scroll"); return s.scrollHeight - s.scrollTop - s.clientHeight < 48; })()`))

	// Bob answers over polling; Alice edits and deletes her own messages, live for Bob.
	b.run("bob posts", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Polling works"), chromedp.KeyEvent(kb.Enter))
	a.run("alice sees it", waitText(".msg-text", "Polling works"))
	a.run("alice edits with arrow up", chromedp.Evaluate[chromedp.Void](`document.querySelector(".composer-input").value = ""`),
		chromedp.Focus(chromedp.CSS(`.composer-input`)), chromedp.KeyEvent(kb.ArrowUp),
		waitFor(`document.activeElement.matches(".edit-input") && document.activeElement.value === "Over polling"`),
		chromedp.SendKeys(chromedp.CSS(`.edit-input`), " (edited)"), chromedp.KeyEvent(kb.Enter),
		waitText(".msg-text", "Over polling (edited)"))
	b.run("bob sees the edit", waitText(".msg-text", "Over polling (edited)"), waitText(".msg-meta", "(edited)"))
	a.run("alice deletes it", chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll(".msg")].find(m => m.textContent.includes("Over polling (edited)")).querySelector(".msg-actions .danger-text").click()`),
		clickText(".confirm button", "Delete"), waitGone(".msg-text", "Over polling"))
	b.run("bob sees it go", waitGone(".msg-text", "Over polling"))
	if tr := b.eval(`document.querySelector(".conn").textContent`); !strings.Contains(tr, "long-polling") {
		t.Errorf("bob's socket left polling with WebSocket blocked: %q", tr)
	}
	a.clean()
	b.clean()
}
