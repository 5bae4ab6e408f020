package uitest_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pagespace/pagespace/app/apptest"
)

// The API reference at /api/docs renders under the server's CSP with no console problem, is
// accessible, and links each answer's schema to its description on the page. Screenshots at
// 1280×800 and 375 px wide.
func TestAPIDocsPage(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	a := newTab(t, root, env.URL, "apidocs", true)
	a.run("desktop viewport", chromedp.EmulateViewport(1280, 800))
	a.run("open the reference", chromedp.Navigate(env.URL+"/api/docs"), waitText("h1", "pagespace REST API"),
		waitText("h3 code", "/api/pages/{pageId}/messages"))
	if got := a.eval(`String([...document.styleSheets].reduce((n, s) => n + s.cssRules.length, 0) > 10)`); got != "true" {
		t.Error("the reference page's stylesheet did not load")
	}
	a.shot("apidocs-01-top")
	a.a11y("API reference")
	a.run("follow a schema link", clickText(`[id="op-POST-/api/pages/{pageId}/messages"] td a`, "Message"),
		waitFor(`location.hash === "#schema-Message"`), waitText("#schema-Message code", "repliesCount"))
	a.shot("apidocs-02-schema")
	a.run("phone viewport", chromedp.EmulateViewport(375, 740), chromedp.Navigate(env.URL+"/api/docs#tag-Pages"),
		waitText("#tag-Pages h2", "Pages"))
	if w := a.eval(`String(document.documentElement.scrollWidth <= innerWidth)`); w != "true" {
		t.Errorf("the reference scrolls sideways at 375 px")
	}
	a.shot("apidocs-03-phone")
	a.clean()
}
