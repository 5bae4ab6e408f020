package uitest_test

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/templates"
)

// Every script the server ships (minified at start) loads as a module in the browser, including
// those the app loads only on some pages; the stylesheet applies.
func TestEveryModuleLoads(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	var urls []string
	err := fs.WalkDir(templates.Static(), ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(name, ".js") {
			urls = append(urls, "/static/"+name)
		}
		return err
	})
	if err != nil || len(urls) < 10 {
		t.Fatalf("modules: %v %v", urls, err)
	}
	list, _ := json.Marshal(urls)
	c := newTab(t, root, env.URL, "modules", true)
	c.run("open", chromedp.Navigate(env.URL+"/login"), waitText("h1", "Sign in"))
	got := c.eval(`Promise.all(` + string(list) + `.map((u) => import(u).then(() => "", (e) => u + ": " + e))).then((r) => r.filter(Boolean).join("\n"))`)
	if got != "" {
		t.Errorf("modules that do not load:\n%s", got)
	}
	if v := c.eval(`getComputedStyle(document.querySelector(".skip")).position`); v != "absolute" {
		t.Errorf("the stylesheet did not apply (.skip is %s)", v)
	}
	c.clean()
}
