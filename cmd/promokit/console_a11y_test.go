package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axePath is axe-core, the accessibility linter the console's pages are
// checked with in Chromium. .ci/run installs it with npm from the
// package-lock.json beside it; elsewhere: npm ci --prefix
// cmd/promokit/testdata/axe.
var axePath = filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js")

// axeTags are the rules the pages must pass: WCAG 2.1 levels A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// axeViolation is what axe reports of a rule a page breaks.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []struct {
		Target         []string
		HTML           string
		FailureSummary string
	}
}

// TestConsoleAccessibility runs axe-core on every kind of page each role
// reaches from the console's navigation (consolePages), in Chromium at a desktop and at a phone's width, and fails
// on any WCAG 2.1 A or AA violation. The markup does not depend on the
// database: it runs on SQLite.
func TestConsoleAccessibility(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv(testURLEnv) != "" {
			t.Fatalf("%s is missing (install it with npm ci --prefix cmd/promokit/testdata/axe): %v", axePath, err)
		}
		t.Skipf("%s is missing: the accessibility check needs axe-core (npm ci --prefix cmd/promokit/testdata/axe)", axePath)
	}
	browser := newBrowser(t)
	d := startDemo(t, testDBs()[0])
	for _, role := range []struct{ name, key string }{
		{"Signed out", ""},
		{"Admin", d.exports["ADMIN_KEY"]},
		{"Seller", d.exports["SELLER_KEY"]},
		{"P4 seller", d.exports["P4_SELLER_KEY"]},
		{"Partner", d.exports["PARTNER_KEY"]},
	} {
		t.Run(strings.ReplaceAll(role.name, " ", ""), func(t *testing.T) {
			if role.name != "Signed out" && role.key == "" {
				t.Fatalf("the demo printed no key for the %s", role.name)
			}
			ctx := newTab(t, browser)
			// The linter is loaded into every page the tab opens, past the
			// console's Content-Security-Policy, which allows its own script
			// only.
			if _, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
				t.Fatalf("let the linter's script run: %v", err)
			}
			if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: string(src)}); err != nil {
				t.Fatalf("load axe-core: %v", err)
			}
			pages := []string{d.base + "/console/sign-in"}
			if role.key != "" {
				signIn(t, ctx, d, role.key)
				pages = consolePages(t, ctx, d)
			}
			checked := 0
			for _, width := range []int64{1024, 375} {
				do(t, ctx, "size the window", chromedp.EmulateViewport(width, 800))
				for _, u := range pages {
					status := loadPage(t, ctx, "open "+u, chromedp.Navigate(u))
					if status != http.StatusOK {
						t.Fatalf("%s: status %d", u, status)
					}
					for _, v := range runAxe(t, ctx) {
						for _, n := range v.Nodes {
							t.Errorf("%s at %d px: %s (%s, %s): %s\n    %s\n    %s", u, width, v.ID, v.Impact, v.Help,
								strings.Join(n.Target, " "), n.HTML, strings.ReplaceAll(n.FailureSummary, "\n", " "))
						}
					}
					checked++
				}
			}
			t.Logf("%d checks of %s", checked, strings.Join(pages, " "))
		})
	}
}

// consolePages returns the pages to check for the signed-in principal:
// the pages of its navigation and those their main content links to, two
// links deep, one page of each kind (a path with its ids and codes taken
// out), without downloads.
func consolePages(t *testing.T, ctx context.Context, d *demoServer) []string {
	t.Helper()
	links := func(sel string) []string {
		hrefs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll(`+fmt.Sprintf("%q", sel)+`)).map(a => a.href)`))
		if err != nil {
			t.Fatalf("read the links %s: %v", sel, err)
		}
		return hrefs
	}
	loadPage(t, ctx, "open the console", chromedp.Navigate(d.base+"/console/"))
	level := links("header nav a")
	if len(level) == 0 {
		t.Fatal("the console shows no navigation")
	}
	var out []string
	kinds := map[string]bool{}
	kind := func(path string) string {
		segs := strings.Split(path, "/")
		for i, s := range segs {
			if strings.ContainsAny(s, "0123456789") || i > 0 && segs[i-1] == "codes" && s != "" {
				segs[i] = "*"
			}
		}
		return strings.Join(segs, "/")
	}
	for depth := 0; depth < 3 && len(level) > 0; depth++ {
		var next []string
		for _, u := range level {
			pu, err := url.Parse(u)
			if err != nil || pu.Host != strings.TrimPrefix(d.base, "http://") || !strings.HasPrefix(pu.Path, "/console/") ||
				pu.RawQuery != "" || strings.HasSuffix(pu.Path, ".csv") || strings.HasSuffix(pu.Path, "/proof") || kinds[kind(pu.Path)] {
				continue
			}
			kinds[kind(pu.Path)] = true
			out = append(out, u)
			loadPage(t, ctx, "open "+u, chromedp.Navigate(u))
			next = append(next, links("main a")...)
		}
		level = next
	}
	return out
}

// runAxe runs axe-core, loaded with the page, on the page in ctx and
// returns its violations.
func runAxe(t *testing.T, ctx context.Context) []axeViolation {
	t.Helper()
	tags := `["` + strings.Join(axeTags, `","`) + `"]`
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {runOnly: {type: "tag", values: `+tags+`}, resultTypes: ["violations"]})
		.then(r => r.violations.map(v => ({ID: v.id, Impact: v.impact || "", Help: v.help,
			Nodes: v.nodes.map(n => ({Target: n.target.map(String), HTML: n.html, FailureSummary: n.failureSummary || ""}))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	return vs
}
