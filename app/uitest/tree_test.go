package uitest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pagespace/pagespace/app/apptest"
)

// treeOrder is the sidebar's tree as "title/depth" in reading order, e.g. "Specs/0 Plan/1".
const treeOrder = `[...document.querySelectorAll(".pages a.node")].map((a) => a.querySelector(".title").textContent + "/" + (a.closest("li").parentElement.closest("li") ? (a.closest("li").parentElement.closest("li").parentElement.closest("li") ? 2 : 1) : 0)).join(" ")`

// waitTree waits until the tab's tree reads want (treeOrder's form).
func waitTree(want string) chromedp.Action[chromedp.Void] {
	return waitFor(fmt.Sprintf(`(%s) === %q`, treeOrder, want))
}

// focusNode puts the keyboard focus on the tree item with the title.
func focusNode(title string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(waitText(".pages a.node", title), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`[...document.querySelectorAll(".pages a.node")].find((a) => a.textContent.includes(%q)).focus()`, title)))
}

// altKey presses an arrow key with Alt held.
func altKey(key string) chromedp.Action[chromedp.Void] {
	return chromedp.KeyEvent(key, chromedp.KeyModifiers(chromedp.ModifierAlt))
}

// drag dispatches the drag events of dropping the tree item src on dst ("before", "inside" or
// "after" it), stopping before the drop when drop is false (the indicator is then on screen).
func drag(src, dst, where string, drop bool) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const find = (t) => [...document.querySelectorAll(".pages a.node")].find((a) => a.querySelector(".title").textContent === t);
		const a = find(%q), b = find(%q), where = %q;
		const r = b.getBoundingClientRect();
		const y = where === "inside" ? r.top + r.height / 2 : where === "before" ? r.top + 2 : r.bottom - 2;
		window.__dt = window.__dt || new DataTransfer();
		const fire = (type, el) => el.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: window.__dt, clientX: r.left + 12, clientY: y }));
		if (%t) { fire("drop", b); fire("dragend", a); window.__dt = null; return; }
		fire("dragstart", a); fire("dragenter", b); fire("dragover", b);
	})()`, src, dst, where, drop))
}

// A reorders and moves pages by keyboard and by drag and drop; each move persists (a reload
// shows it) and B's tree follows live (B on long-polling: WebSocket blocked). A move the server refuses (share_required) puts the page
// back and says why in words.
func TestTreeMoves(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice, bob, drive, a, b := team(t, root, env)
	env.CreatePage(alice, drive, "FOLDER", "Specs", "")
	env.CreatePage(alice, drive, "DOCUMENT", "Alpha", "")
	env.CreatePage(alice, drive, "DOCUMENT", "Beta", "")
	env.CreatePage(alice, drive, "CHANNEL", "Gamma", "")
	b.blockWebSocket() // Bob's tree follows over long-polling
	a.signIn(env, alice, "/d/"+drive)
	b.signIn(env, bob, "/d/"+drive)
	a.run("alice in the drive", waitText("main h1", "Team"), waitTree("Specs/0 Alpha/0 Beta/0 Gamma/0"), live)
	b.run("bob in the drive", waitText("main h1", "Team"), waitTree("Specs/0 Alpha/0 Beta/0 Gamma/0"), live, waitText(".conn", "Live (long-polling)"))
	a.eval(`window.__noReload = "kept"; ""`)

	// Keyboard: Alt+↑ reorders, Alt+→ goes into the folder above, Alt+← back out; the focus stays
	// on the page and a screen reader hears where it went.
	a.run("gamma up", focusNode("Gamma"), altKey(kb.ArrowUp), waitTree("Specs/0 Alpha/0 Gamma/0 Beta/0"),
		waitFor(`document.activeElement.matches("a.node") && document.activeElement.textContent.includes("Gamma")`),
		waitText("#announce", "Moved “Gamma”: 3 of 4 at the top level."))
	b.run("bob's tree follows the reorder", waitTree("Specs/0 Alpha/0 Gamma/0 Beta/0"))
	a.run("alpha into specs", focusNode("Alpha"), altKey(kb.ArrowRight), waitTree("Specs/0 Alpha/1 Gamma/0 Beta/0"),
		waitText("#announce", "Moved “Alpha”: 1 of 1 in “Specs”."))
	a.run("gamma out of nowhere", focusNode("Gamma"), altKey(kb.ArrowLeft), waitText("#announce", "“Gamma” did not move: already at the top level."))
	if p := a.path(); p != "/d/"+drive {
		t.Fatalf("Alt+← left the view for %s", p)
	}
	b.run("bob's tree follows the move", waitTree("Specs/0 Alpha/1 Gamma/0 Beta/0"))
	a.run("reload", chromedp.Reload(), waitText("main h1", "Team"), waitTree("Specs/0 Alpha/1 Gamma/0 Beta/0"))
	a.eval(`window.__noReload = "kept"; ""`)

	// Drag and drop: Beta onto the folder goes inside it (after Alpha), with an indicator on the way.
	a.run("drag beta over specs", drag("Beta", "Specs", "inside", false), waitFor(`document.querySelector(".pages a.node.drop-inside") !== null`))
	a.shot("desktop-20-tree-drag")
	a.run("drop beta into specs", drag("Beta", "Specs", "inside", true), waitTree("Specs/0 Alpha/1 Beta/1 Gamma/0"),
		waitFor(`document.querySelector(".drop-inside, .drop-before, .drop-after") === null`))
	b.run("bob's tree follows the drop", waitTree("Specs/0 Alpha/1 Beta/1 Gamma/0"))
	// Between two pages: Gamma before Alpha, inside the folder.
	a.run("drag gamma before alpha", drag("Gamma", "Alpha", "before", false), waitFor(`document.querySelector(".pages li.drop-before") !== null`),
		drag("Gamma", "Alpha", "before", true), waitTree("Specs/0 Gamma/1 Alpha/1 Beta/1"))
	b.run("bob's tree follows the second drop", waitTree("Specs/0 Gamma/1 Alpha/1 Beta/1"))
	a.run("reload again", chromedp.Reload(), waitText("main h1", "Team"), waitTree("Specs/0 Gamma/1 Alpha/1 Beta/1"))
	a.a11y("the drive after moves")
	a.eval(`window.__noReload = "kept"; ""`)

	// A refused move: Bob may edit a page of Alice's private folder, not share it; taking it to
	// the top level would show it to every member.
	secret := env.Do("POST", "/api/drives/"+drive+"/pages", alice.Token, map[string]any{"title": "Secret", "type": "FOLDER", "isPrivate": true}).Expect(201).ID()
	memo := env.CreatePage(alice, drive, "DOCUMENT", "Memo", secret)
	env.Grant(alice, memo, bob, true, true, false, false)
	b.run("bob sees the memo", chromedp.Reload(), waitText("main h1", "Team"), waitText(".pages a.node", "Memo"))
	before := b.eval(treeOrder)
	b.run("bob moves the memo", focusNode("Memo"), altKey(kb.ArrowUp),
		waitText(".pages .form-error", "“Memo” was not moved. Only someone who can share this page may move it where more people would see it."),
		waitTree(before))
	b.shot("desktop-21-tree-move-refused")
	if n := env.Do("GET", "/api/pages/"+memo, alice.Token, nil).Expect(200).Map()["parentId"]; n != secret {
		t.Fatalf("the refused move moved the memo (parent %v)", n)
	}
	if v := a.eval(`String(window.__noReload)`); v != "kept" {
		t.Fatalf("a move reloaded the page (marker %q)", v)
	}
	if !strings.Contains(b.eval(`document.querySelector(".pages").getAttribute("aria-describedby")`), "tree-help") {
		t.Errorf("the tree does not tell how to move pages")
	}
	a.clean()
	b.clean()
}
