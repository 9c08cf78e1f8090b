package http

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"maps"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// consoleSamples returns, for each page template, data to render it with:
// every template must have one, so that a new page is rendered here before
// it ships.
func consoleSamples() map[string]*page {
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	revoked := at.Add(time.Hour)
	store := &promokit.Store{ID: "sto_1", Name: "Shop <b>Alpha</b>", PartnerPromoCodes: true, RedirectHosts: []string{"shop.example.com"}, CreatedAt: at}
	partner := &promokit.Partner{ID: "par_1", Name: "Ann", Kind: promokit.PartnerInfluencer, CreatedAt: at}
	settings := promokit.DefaultSettings(at)
	days := make([]engine.DayStats, 90)
	for i := range days {
		days[i] = engine.DayStats{Day: at.AddDate(0, 0, i-89), Redeems: int64(i * 1000), Clicks: int64(i * 37), Orders: int64(i), Commissions: int64(i) * 123_456}
	}
	stats := &engine.DailyStats{Currency: "USD", TimeZone: "UTC", Days: days}
	dash := dashboardPage{Stats: stats, Days: 90, Choices: dashboardDays}
	for _, d := range days {
		dash.Totals.Redeems += d.Redeems
	}
	dash.Charts = []Chart{
		{Title: "Redeems per day", Unit: "redeems", Labels: []string{"a", "b"}, Values: []int64{1, 2}},
		{Title: "Commissions", Unit: "accrued", Labels: []string{"a", "b"}, Values: []int64{100, 0}, Line: true},
	}
	policyErr := newFormErrors(promokit.PolicyError("P4", 20, 21, "at most 20 codes in 30 days"))
	fieldErr := newFormErrors(invalidField("name", "invalid", "name must have 1 to 200 characters"))
	keys := []*promokit.Key{
		{ID: "key_1", Name: "checkout", Role: promokit.RoleCheckout, StoreID: "sto_1", Prefix: "pk_abcdefg", CreatedAt: at},
		{ID: "key_2", Role: promokit.RolePartner, PartnerID: "par_1", Prefix: "pk_hijklmn", CreatedAt: at, RevokedAt: &revoked},
	}
	samples := map[string]*page{
		"error":       {Title: "Page not found", Data: errorPage{Status: 404, Message: "There is no such page."}},
		"sign_in":     {Title: "Sign in", Data: signInPage{Next: "/console/stores", Idle: "30 minutes", Lifetime: "12 hours"}, Form: fieldErr},
		"home":        {Title: "Overview", Data: homePage{Store: store}},
		"dashboard":   {Title: "Dashboard", Data: dash},
		"stores":      {Title: "Stores", Form: fieldErr, Data: storesPage{Stores: []*promokit.Store{store}, Pager: pager{First: "/console/stores", Next: "/console/stores?after=sto_1"}, New: storeForm{Name: "x", PartnerPromoCodes: true}}},
		"store":       {Title: store.Name, Data: storePage{Store: store, Form: newStoreForm(store)}},
		"partners":    {Title: "Partners", Data: partnersPage{Partners: []*promokit.Partner{partner}, Kinds: partnerKinds, New: engine.PartnerInput{Kind: promokit.PartnerAgency}}},
		"partner":     {Title: partner.Name, Data: partner},
		"keys":        {Title: "Keys", Form: policyErr, Data: keysPage{Keys: keys, StoreID: "sto_1", Roles: keyRoles, New: engine.KeyInput{Role: promokit.RoleCheckout, StoreID: "sto_1"}}},
		"key_created": {Title: "Key created", Data: keyCreatedPage{Key: keys[0], Secret: "pk_secret"}},
		"settings":    {Title: "Settings", Form: newFormErrors(invalidField("policy.tasks.data_after_days", "out_of_range", "too many days")), Data: newSettingsPage(&settings)},
	}
	maps.Copy(samples, partnerSamples(at))
	maps.Copy(samples, p4Samples(at))
	return samples
}

// TestConsoleTemplates renders every page template in the layout, for a
// principal of each role and for none, and checks that each page is well
// formed, has its language, landmarks and title, keeps what it shows
// escaped, and stays within 100 KB with the stylesheet and the script.
func TestConsoleTemplates(t *testing.T) {
	t.Parallel()
	c, err := parseConsole()
	if err != nil {
		t.Fatal(err)
	}
	samples := consoleSamples()
	maps.Copy(samples, sellerSamples())
	maps.Copy(samples, sellerMoneySamples())
	maps.Copy(samples, affiliateSamples())
	for name := range c.pages {
		if samples[name] == nil {
			t.Errorf("template %s.html has no sample in consoleSamples", name)
		}
	}
	assets := 0
	for _, a := range c.assets {
		assets += len(a.body)
	}
	principals := []promokit.Principal{{}, {KeyID: "key_a", Role: promokit.RoleAdmin}, {KeyID: "key_s", Role: promokit.RoleSeller, StoreID: "sto_1"}}
	for name, pg := range samples {
		tmpl, ok := c.pages[name]
		if !ok {
			t.Errorf("sample %s has no template", name)
			continue
		}
		for _, p := range principals {
			pg.Principal, pg.Nav, pg.RequestID = p, navFor(p.Role, "/console/stores"), "req-1"
			var buf bytes.Buffer
			if err := tmpl.ExecuteTemplate(&buf, "layout", pg); err != nil {
				t.Fatalf("render %s as %q: %v", name, p.Role, err)
			}
			checkPage(t, name, buf.String(), p)
			if n := buf.Len() + assets; n > 100_000 {
				t.Errorf("%s: %d bytes with the assets, over 100 KB", name, n)
			}
		}
	}
}

// checkPage checks what every rendered page must have: well-formed markup
// (every element closed, as an XML reader sees it), the language, the
// landmarks, a labelled control for every input, the navigation of p's
// role, and nothing of its data unescaped.
func checkPage(t *testing.T, name, html string, p promokit.Principal) {
	t.Helper()
	for _, want := range []string{`<html lang="en">`, `<main id="main"`, `<header class="top">`, `<footer class="bottom">`, `<a class="skip" href="#main">`, "<h1>"} {
		if !strings.Contains(html, want) {
			t.Errorf("%s: no %s", name, want)
		}
	}
	if strings.Contains(html, "<b>Alpha</b>") {
		t.Errorf("%s: a name is shown unescaped", name)
	}
	if (p.Role != "") != strings.Contains(html, `action="/console/sign-out"`) {
		t.Errorf("%s as %q: the sign-out form is shown %v", name, p.Role, p.Role == "")
	}
	if p.Role == promokit.RoleSeller && strings.Contains(html, `href="/console/settings"`) && name != "settings" {
		t.Errorf("%s: a seller's navigation links the settings", name)
	}
	// Every input but hidden ones has a label for its id.
	for _, chunk := range strings.Split(html, "<input ")[1:] {
		if tagAttr(chunk, "type") == "hidden" {
			continue
		}
		id := tagAttr(chunk, "id")
		if id == "" || !strings.Contains(html, `<label for="`+id+`"`) {
			t.Errorf("%s: an input without a label: <input %.80s", name, chunk)
		}
	}
	// Well formed: the void elements closed for the XML reader.
	x := html[strings.Index(html, "<html"):]
	for _, void := range []string{"meta", "link", "input", "br"} {
		x = closeVoid(x, void)
	}
	x = booleanAttr.ReplaceAllString(x, ` $1="$1"$2`)
	dec := xml.NewDecoder(strings.NewReader(x))
	dec.Strict, dec.Entity = true, xml.HTMLEntity
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well formed: %v", name, err)
		}
	}
}

// booleanAttr matches an attribute written without a value.
var booleanAttr = regexp.MustCompile(`\s(defer|required|checked|selected|readonly|hidden)([\s>/])`)

// closeVoid writes each <tag ...> of a void element as <tag .../>.
func closeVoid(html, tag string) string {
	var b strings.Builder
	for {
		i := strings.Index(html, "<"+tag)
		if i < 0 || (len(html) > i+len(tag)+1 && html[i+len(tag)+1] != ' ' && html[i+len(tag)+1] != '>') {
			if i < 0 {
				b.WriteString(html)
				return b.String()
			}
			b.WriteString(html[:i+1])
			html = html[i+1:]
			continue
		}
		end := strings.IndexByte(html[i:], '>')
		b.WriteString(html[:i+end])
		b.WriteString("/>")
		html = html[i+end+1:]
	}
}

// TestChart checks the chart helper: the axis's round tops, one bar or
// point per value with its description, labels escaped, and a chart of no
// values.
func TestChart(t *testing.T) {
	t.Parallel()
	for v, want := range map[int64]int64{0: 4, 1: 4, 4: 4, 5: 8, 9: 20, 17: 20, 21: 40, 95: 100, 101: 200, 999: 1000, 1001: 2000, 123_456: 200_000} {
		if got := niceCeil(v); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", v, got, want)
		}
	}
	bars := string(Chart{Title: "Uses <per> day", Unit: "uses", Labels: []string{"Jan 1", "<Jan 2>", "Jan 3"}, Values: []int64{3, 0, 7}}.SVG())
	for _, want := range []string{`aria-label="Uses &lt;per&gt; day"`, `role="img"`, "<title>Jan 1: 3 uses</title>", "&lt;Jan 2&gt;: 0 uses", "<title>Jan 3: 7 uses</title>"} {
		if !strings.Contains(bars, want) {
			t.Errorf("bar chart: no %s in\n%s", want, bars)
		}
	}
	if n := strings.Count(bars, `<rect class="bar"`); n != 3 {
		t.Errorf("bar chart: %d bars, want 3", n)
	}
	if strings.Contains(bars, "<Jan 2>") {
		t.Errorf("bar chart: a label unescaped")
	}
	// A stacked series: one more rect on each bar that has some, right
	// above it, and an axis tall enough for both together.
	stacked := string(Chart{Title: "Clicks", Unit: "counted", Labels: []string{"Jan 1", "Jan 2"}, Values: []int64{3, 0},
		Stack: []int64{2, 9}, StackUnit: "flagged"}.SVG())
	for _, want := range []string{"<title>Jan 1: 3 counted</title>", "<title>Jan 2: 0 counted</title>", "<title>Jan 2: 9 flagged</title>",
		`text-anchor="end">20</text>`} {
		if !strings.Contains(stacked, want) {
			t.Errorf("stacked chart: no %s in\n%s", want, stacked)
		}
	}
	if n, m := strings.Count(stacked, `<rect class="bar"`), strings.Count(stacked, `<rect class="bar stack"`); n != 2 || m != 2 {
		t.Errorf("stacked chart: %d bars and %d stacked, want 2 and 2", n, m)
	}
	// The plot is 182 units high from y = 192, and its top 20: Jan 1's
	// 2 flagged stand on its 3 counted (from 3 to 5 of 20), Jan 2's 9 on
	// the zero line.
	for _, want := range []string{`class="bar" x="106.6" y="164.7" width="198.8" height="27.3"`,
		`class="bar stack" x="106.6" y="146.5" width="198.8" height="18.2"`,
		`class="bar stack" x="390.6" y="110.1" width="198.8" height="81.9"`} {
		if !strings.Contains(stacked, want) {
			t.Errorf("stacked chart: no %s in\n%s", want, stacked)
		}
	}
	line := string(Chart{Title: "Earnings", Unit: "earned", Labels: []string{"Jan", "Feb"}, Values: []int64{150, 275}, Line: true,
		Format: func(v int64) string { return promokit.Money{Minor: v, Currency: "EUR"}.Format() }, Axis: CompactMoney("EUR")}.SVG())
	for _, want := range []string{`<polyline class="line"`, "<title>Feb: 2.75 EUR earned</title>", `text-anchor="end">4</text>`, `text-anchor="end">1</text>`} {
		if !strings.Contains(line, want) {
			t.Errorf("line chart: no %s in\n%s", want, line)
		}
	}
	if n := strings.Count(line, `<circle class="point"`); n != 2 {
		t.Errorf("line chart: %d points, want 2", n)
	}
	for v, want := range map[int64]string{0: "0", 999: "999", 1000: "1k", 1250: "1.2k", 99_950: "99.9k", 123_456: "123k", 4_000_000: "4M", 2_500_000_000: "2.5G", -1500: "-1.5k"} {
		if got := compactNumber(v); got != want {
			t.Errorf("compactNumber(%d) = %q, want %q", v, got, want)
		}
	}
	usd, jpy := CompactMoney("USD"), CompactMoney("JPY")
	for _, c := range []struct {
		f    func(int64) string
		v    int64
		want string
	}{{usd, 0, "0"}, {usd, 5, "0.05"}, {usd, 1250, "12.50"}, {usd, 99_999_99, "99.9k"}, {usd, -250, "-2.50"}, {jpy, 1500, "1.5k"}, {jpy, 999, "999"}} {
		if got := c.f(c.v); got != c.want {
			t.Errorf("CompactMoney(%d) = %q, want %q", c.v, got, c.want)
		}
	}
	if empty := string(Chart{Title: "Nothing"}.SVG()); !strings.Contains(empty, "No data") {
		t.Errorf("empty chart: %s", empty)
	}
	// Many labels: at most maxXLabels under the axis, the last one shown.
	labels, values := make([]string, 90), make([]int64, 90)
	for i := range labels {
		labels[i] = "d" + formatInt(int64(i))
	}
	many := string(Chart{Title: "90 days", Labels: labels, Values: values}.SVG())
	if n := strings.Count(many, `text-anchor="middle">d`); n > maxXLabels || !strings.Contains(many, `text-anchor="middle">d89<`) {
		t.Errorf("90 days: %d labels under the axis", n)
	}
}

// TestFormErrors checks how an engine's error becomes a form's errors: a
// policy breach's rule and limit in words, the errors of a list's members
// on the list's input, and nothing of an internal error's cause.
func TestFormErrors(t *testing.T) {
	t.Parallel()
	f := newFormErrors(promokit.PolicyError("P4", 20, 21, "at most 20 codes in 30 days"))
	if f.Status != 422 || f.Code != promokit.EPolicy || f.LimitText() != "Rule P4: the limit is 20, and this would make 21." {
		t.Errorf("policy breach: %+v %q", f, f.LimitText())
	}
	var v promokit.Validation
	v.Add("redirect_hosts/1", "invalid", "not a host")
	v.Add("name", "invalid", "too long")
	v.Add("redirect_hosts/3", "invalid", "not one either")
	f = newFormErrors(v.Err())
	if got := f.For("redirect_hosts"); len(got) != 2 || got[0] != "not a host" || got[1] != "not one either" {
		t.Errorf("the list's errors: %q", got)
	}
	if got := fieldID("redirect_hosts/1"); got != "f-redirect_hosts" {
		t.Errorf("fieldID of a list's member: %q", got)
	}
	if got := f.For("names"); got != nil || f.LimitText() != "" {
		t.Errorf("another field: %q %q", got, f.LimitText())
	}
	if got := (*formErrors)(nil).For("name"); got != nil {
		t.Errorf("no errors: %q", got)
	}
	f = newFormErrors(errors.New("pq: secret table exploded"))
	if f.Status != 500 || strings.Contains(f.Message, "secret") {
		t.Errorf("an internal error: %+v", f)
	}
}

// TestTableRegions checks that every wide table's scrolling wrapper is a
// labelled region that the keyboard reaches: on a phone's screen the
// table scrolls sideways, and a region that cannot take focus cannot be
// scrolled without a mouse (WCAG 2.1.1; the browser's accessibility test
// finds it too, on the pages it reaches).
func TestTableRegions(t *testing.T) {
	files, err := fs.Glob(htmlFS, "html/*.html")
	if err != nil {
		t.Fatal(err)
	}
	wrap := regexp.MustCompile(`<div class="table-wrap"[^>]*>`)
	good := regexp.MustCompile(`^<div class="table-wrap" role="region" aria-label="[^"]+" tabindex="0">$`)
	n := 0
	for _, name := range files {
		b, err := fs.ReadFile(htmlFS, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range wrap.FindAllString(string(b), -1) {
			n++
			if !good.MatchString(tag) {
				t.Errorf("%s: %s: want role=\"region\", an aria-label and tabindex=\"0\"", name, tag)
			}
		}
	}
	if n == 0 {
		t.Fatal("no table-wrap in the templates: has the class been renamed?")
	}
}
