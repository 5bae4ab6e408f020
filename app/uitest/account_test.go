package uitest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
)

// B renames and deletes a drive, cannot delete the account while owning one (and is told why in
// words), then deletes it; a wrong password keeps the form as typed. Signing in again fails.
func TestDriveAndAccountDeletion(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	b := newTab(t, root, env.URL, "account", true)
	b.run("desktop viewport", chromedp.EmulateViewport(1280, 800))
	email := fmt.Sprintf("bob.%d@example.com", time.Now().UnixNano())

	b.run("sign up", chromedp.Navigate(env.URL+"/signup"), waitText("h1", "Create your account"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Bob"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "bobs password"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), waitText("main h1", "Your drives"))
	b.run("create a drive", chromedp.SendKeys(chromedp.CSS(`main input[name="name"]`), "Scratch"),
		clickText("main button", "Create drive"), waitText("main h1", "Scratch"))
	b.run("rename it",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('main input[name="name"]').value = ""`),
		chromedp.SendKeys(chromedp.CSS(`main input[name="name"]`), "Sandbox"),
		clickText("main button", "Rename"), waitText("main h1", "Sandbox"), waitFor(`document.querySelector("#drive-switch").selectedOptions[0].textContent === "Sandbox"`))

	// The account cannot go while it owns a drive.
	b.run("try to delete the account", clickText("a.me", "Bob"), waitText("main h1", "Your account"),
		chromedp.SendKeys(chromedp.CSS(`main input[type="password"]`), "bobs password"),
		clickText("main button", "Delete my account"),
		waitText(".form-error", "Delete your drives or transfer them before deleting your account."))
	b.shot("desktop-06-account-error")
	b.a11y("the account")

	// Delete the drive, confirming in place.
	b.run("delete the drive", chromedp.NavigateBack(), waitText("main h1", "Sandbox"),
		clickText("main button", "Delete drive"), waitText(".confirm", "cannot be undone"))
	b.shot("desktop-07-confirm-delete-drive")
	b.run("confirm", clickText(".confirm button", "Delete drive"), waitText("main h1", "Your drives"),
		waitText(".empty", "No drives yet"))

	// A wrong password: told so, the form keeps it; the right one deletes the account.
	b.run("wrong password", clickText("a.me", "Bob"), waitText("main h1", "Your account"),
		chromedp.SendKeys(chromedp.CSS(`main input[type="password"]`), "not it at all"),
		clickText("main button", "Delete my account"), waitText(".form-error", "That password is not right."))
	if v := b.eval(`document.querySelector('main input[type="password"]').value`); v != "not it at all" {
		t.Fatalf("the form lost the password: %q", v)
	}
	b.run("delete the account",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('main input[type="password"]').value = ""`),
		chromedp.SendKeys(chromedp.CSS(`main input[type="password"]`), "bobs password"),
		clickText("main button", "Delete my account"), waitText("h1", "Create your account"))
	b.run("signing in fails", chromedp.Navigate(env.URL+"/login"), waitText("h1", "Sign in"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "bobs password"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		waitText(".form-error", "That email and password don't match an account."))
	b.shot("desktop-08-sign-in-error")
	b.clean()
}

// The page renews its access token before it expires, through the cookie, and keeps working.
func TestAccessTokenRenewedBeforeExpiry(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t, func(c *app.Config) { c.AccessTokenTTL = 2 * time.Second })
	p := newTab(t, root, env.URL, "renew", true)
	refreshes := `performance.getEntriesByType("resource").filter(e => e.name.endsWith("/api/auth/refresh")).length`
	p.run("sign up", chromedp.Navigate(env.URL+"/signup"), waitText("h1", "Create your account"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Renée"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), fmt.Sprintf("renee.%d@example.com", time.Now().UnixNano())),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "long enough"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), waitText("main h1", "Your drives"))
	if n := p.eval(`String(` + refreshes + `)`); n != "0" {
		t.Fatalf("%s refreshes right after sign-up", n)
	}
	p.run("two renewals", waitFor(refreshes+` >= 2`))
	p.run("still signed in", chromedp.SendKeys(chromedp.CSS(`main input[name="name"]`), "Later"),
		clickText("main button", "Create drive"), waitText("main h1", "Later"))
	p.clean()
}
