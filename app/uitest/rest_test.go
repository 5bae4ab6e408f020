package uitest_test

import (
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pagespace/pagespace/app/apptest"
)

// blockRealtime blocks the tab's realtime endpoint (or lets it through again): its long-polling
// requests by DevTools' URL blocking, and its WebSocket handshakes, which that blocking does not
// reach, by a stand-in WebSocket installed in every document the tab loads (switched by
// window.__wsBlocked; blocked from the first load on).
func (tb *tab) blockRealtime(block bool) {
	tb.t.Helper()
	const standIn = `(() => {
		const Real = window.WebSocket;
		window.__wsBlocked = true;
		const Blocked = ` + blockedWebSocket + `;
		function WebSocket(url, protocols) { return window.__wsBlocked ? new Blocked(url) : new Real(url, protocols); }
		Object.assign(WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
		WebSocket.prototype = Real.prototype;
		window.WebSocket = WebSocket;
	})();`
	var patterns []*network.BlockPattern
	if block {
		patterns = []*network.BlockPattern{{URLPattern: "*://*:*/socket.io/*", Block: true}}
		if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: standIn}); err != nil {
			tb.t.Fatalf("%s: block WebSocket: %v", tb.name, err)
		}
	} else {
		tb.eval(`window.__wsBlocked = false; ""`)
	}
	if _, err := chromedp.Call(tb.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: patterns}); err != nil {
		tb.t.Fatalf("%s: blocked URLs: %v", tb.name, err)
	}
}

// rest waits for the indicator to say the socket cannot connect and the view refreshes by REST.
var rest = waitFor(`document.querySelector('.conn[data-rest="true"]') !== null && document.querySelector(".conn").textContent.includes("Not live")`)

// With the realtime endpoint unreachable for Bob (WebSocket and long-polling both blocked), the
// UI says so and keeps working by REST: Bob posts, and sees Alice's posts and tree changes by
// the refetch (on its interval, and at once when the window gets the focus); a draft survives a
// reload; once the endpoint is back, Bob is live again.
func TestRealtimeUnreachable(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice, bob, drive, a, b := team(t, root, env)
	channel := env.CreatePage(alice, drive, "CHANNEL", "general", "")
	b.blockRealtime(true)
	a.signIn(env, alice, "/p/"+channel)
	b.signIn(env, bob, "/p/"+channel)
	a.run("alice in the channel", waitText("main h1", "general"), live)
	b.run("bob in the channel, not live", waitText("main h1", "general"), waitText(".empty", "No messages yet"), rest)

	// Alice's message reaches Bob by the periodic refetch.
	a.run("alice posts", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Anyone there?"), chromedp.KeyEvent(kb.Enter),
		waitText(".msgs .msg-text", "Anyone there?"))
	b.run("bob gets it by REST", waitText(".msgs .msg-text", "Anyone there?"))
	b.shot("desktop-30-not-live")
	// Bob posts by REST; Alice, live, sees it at once.
	b.run("bob posts", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Here, without a socket"), chromedp.KeyEvent(kb.Enter),
		waitText(".msgs .msg-text", "Here, without a socket"), waitFor(`document.querySelector(".outbox").hidden`))
	a.run("alice sees bob's post", waitText(".msgs .msg-text", "Here, without a socket"))
	// The focus refetches at once: a new page in the tree and another message.
	env.CreatePage(alice, drive, "DOCUMENT", "Notes", "")
	a.run("alice posts again", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Second one"), chromedp.KeyEvent(kb.Enter),
		waitText(".msgs .msg-text", "Second one"))
	b.run("bob comes back to the window", chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event("focus"))`),
		waitText(".pages a.node", "Notes"), waitText(".msgs .msg-text", "Second one"))

	// A draft survives a reload of the tab.
	b.run("bob drafts", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "half a thought"))
	b.run("bob reloads", chromedp.Reload(), waitText("main h1", "general"), waitText(".msgs .msg-text", "Second one"), rest,
		waitFor(`document.querySelector(".composer-input").value.trim() === "half a thought"`))

	// The endpoint comes back: live again, and the events flow.
	b.blockRealtime(false)
	b.run("bob is live again", live, waitFor(`document.querySelector('.conn[data-rest="true"]') === null`))
	a.run("alice posts live", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Live again"), chromedp.KeyEvent(kb.Enter))
	b.run("bob sees it live", waitText(".msgs .msg-text", "Live again"))
	a.run("alice types", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "and typing"))
	b.run("bob sees alice typing", waitText(".typing", "Alice Able is typing…"))
	if v := b.eval(`document.querySelector(".composer-input").value.trim()`); v != "half a thought" {
		t.Errorf("bob's draft became %q", v)
	}
	a.clean()
	b.clean()
}
