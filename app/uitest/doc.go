// Package uitest drives the web UI in headless Chromium (Debian's chromium at /usr/bin/chromium,
// or $PAGESPACE_CHROMIUM) against the real app started by apptest, with chromedp. The tests fail
// when the browser is missing, and skip only when PAGESPACE_SKIP_BROWSER=1. Screenshots go to
// testdata/screenshots/ at the repository root (git-ignored), or to $PAGESPACE_SCREENSHOTS.
package uitest
