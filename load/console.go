package load

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The console scenarios read a seller's pages of a store with
// ConsolePromotions promotions and --codes codes: console the console's
// HTML pages with a signed-in session, console-api the same reads through
// the API's JSON with the seller's key, its baseline. Each request reads
// the next page of a fixed rotation, so that both scenarios read the same
// mix.
const (
	// ConsolePromotions is how many promotions the console's store has.
	ConsolePromotions = 1_000
	// consoleSample is how many of the big promotion's codes the clients
	// look up, and page after.
	consoleSample = 1_000
)

// consolePage is one read of the rotation: a name for the report, and
// the console's and the API's path of it.
type consolePage struct {
	name          string
	console, api  func(rng *rand.Rand) string
	consoleMarker string // a string each console answer must hold
}

// consoleFixture is the store the console scenarios read: its seller's
// key and session, its promotions and the codes of the big one.
type consoleFixture struct {
	storeID, sellerKey, sellerKeyID string
	cookie                          *http.Cookie
	promos                          []string // every promotion's id
	big                             string   // the promotion with the codes
	codes                           []string // a sample of its codes
	pages                           []consolePage
}

// seedConsole creates the store of the console scenarios: its seller key,
// ConsolePromotions promotions (one in ten inactive), a generation job of
// cfg.Codes codes into the first, and a console session of the seller.
func (b *bench) seedConsole(ctx context.Context) (*consoleFixture, error) {
	f := &consoleFixture{}
	var err error
	if f.storeID, err = b.api.createStore(ctx, "promokit bench console "+b.run); err != nil {
		return nil, fmt.Errorf("create the store: %w", err)
	}
	var k struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := b.api.call(ctx, "POST", "/v1/keys", map[string]any{"role": "seller", "store_id": f.storeID, "name": "bench console " + b.run},
		http.StatusCreated, &k); err != nil {
		return nil, fmt.Errorf("create the seller key: %w", err)
	}
	f.sellerKey, f.sellerKeyID = k.Secret, k.ID
	fmt.Fprintf(b.log, "console: creating %s promotions of store %s\n", group(ConsolePromotions), f.storeID)
	started := time.Now()
	for i := range ConsolePromotions {
		id, err := b.api.createPromotion(ctx, f.storeID, fmt.Sprintf("bench console %04d (%s)", i, b.run), int64(100+i), 0)
		if err != nil {
			return nil, fmt.Errorf("create promotion %d: %w", i, err)
		}
		if i%10 == 9 {
			if err := b.api.call(ctx, "POST", "/v1/promotions/"+id+"/deactivate", nil, http.StatusOK, nil); err != nil {
				return nil, fmt.Errorf("deactivate promotion %s: %w", id, err)
			}
		}
		f.promos = append(f.promos, id)
	}
	f.big = f.promos[0]
	fmt.Fprintf(b.log, "console: %s promotions in %s; generating %s codes for promotion %s\n",
		group(ConsolePromotions), time.Since(started).Round(time.Millisecond), group(b.cfg.Codes), f.big)
	started = time.Now()
	if err := b.api.generateCodes(ctx, f.big, b.cfg.Codes, b.log); err != nil {
		return nil, fmt.Errorf("generate the codes: %w", err)
	}
	fmt.Fprintf(b.log, "console: %s codes generated in %s\n", group(b.cfg.Codes), time.Since(started).Round(time.Millisecond))
	if f.codes, err = b.api.sampleCodes(ctx, f.big, consoleSample, rand.New(rand.NewPCG(b.seed, 3))); err != nil {
		return nil, fmt.Errorf("read the codes: %w", err)
	}
	if len(f.codes) == 0 {
		return nil, fmt.Errorf("read the codes: the export of promotion %s has none", f.big)
	}
	slices.Sort(f.codes)
	if f.cookie, err = b.signIn(ctx, f.sellerKey); err != nil {
		return nil, err
	}
	f.pages = f.rotation()
	return f, nil
}

// signIn exchanges key for a console session and returns its cookie.
func (b *bench) signIn(ctx context.Context, key string) (*http.Cookie, error) {
	form := url.Values{"key": {key}, "next": {"/console/"}}
	req, err := http.NewRequestWithContext(ctx, "POST", b.api.base+"/console/sign-in", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: requestTimeout}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign in to the console: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == "pk_console" && c.Value != "" {
			return c, nil
		}
	}
	return nil, fmt.Errorf("sign in to the console: status %d and no session cookie", resp.StatusCode)
}

// rotation returns the pages the console scenarios read, in turn: the
// store's home, the first, a later and a filtered page of its promotions,
// a promotion, the big promotion (first page of its codes), a page of its
// codes after a random one, one code with its uses, and the store's
// payouts, statement and affiliate program.
func (f *consoleFixture) rotation() []consolePage {
	promo := func(rng *rand.Rand) string { return f.promos[rng.IntN(len(f.promos))] }
	code := func(rng *rand.Rand) string { return f.codes[rng.IntN(len(f.codes))] }
	fixed := func(s string) func(*rand.Rand) string { return func(*rand.Rand) string { return s } }
	return []consolePage{
		{name: "home", console: fixed("/console/"), api: fixed("/v1/stores/" + f.storeID), consoleMarker: "promokit bench console"},
		{name: "promotions", console: fixed("/console/promotions"),
			api: fixed("/v1/promotions?store_id=" + f.storeID + "&limit=50"), consoleMarker: "bench console"},
		{name: "promotions, later page",
			console: func(rng *rand.Rand) string { return "/console/promotions?after=" + promo(rng) },
			api: func(rng *rand.Rand) string {
				return "/v1/promotions?store_id=" + f.storeID + "&limit=50&after=" + promo(rng)
			}},
		{name: "promotions, filtered",
			console: func(rng *rand.Rand) string {
				return fmt.Sprintf("/console/promotions?status=inactive&name=%02d", rng.IntN(100))
			},
			api: fixed("/v1/promotions?store_id=" + f.storeID + "&status=inactive&limit=50")},
		{name: "promotion",
			console: func(rng *rand.Rand) string { return "/console/promotions/" + promo(rng) },
			api:     func(rng *rand.Rand) string { return "/v1/promotions/" + promo(rng) }, consoleMarker: "bench console"},
		{name: "promotion with the codes", console: fixed("/console/promotions/" + f.big),
			api: fixed("/v1/promotions/" + f.big), consoleMarker: "bench console"},
		{name: "codes, later page",
			console: func(rng *rand.Rand) string {
				return "/console/promotions/" + f.big + "/codes?after=" + url.QueryEscape(code(rng))
			},
			api: func(rng *rand.Rand) string {
				return "/v1/promotions/" + f.big + "/codes?limit=50&after=" + url.QueryEscape(code(rng))
			}},
		{name: "code",
			console: func(rng *rand.Rand) string { return "/console/codes/" + url.PathEscape(code(rng)) },
			api:     func(rng *rand.Rand) string { return "/v1/codes/" + url.PathEscape(code(rng)) }},
		{name: "payouts", console: fixed("/console/payouts"), api: fixed("/v1/payouts?party=" + f.storeID)},
		{name: "statement", console: fixed("/console/statement"), api: fixed("/v1/stores/" + f.storeID + "/statement")},
		{name: "affiliate", console: fixed("/console/affiliate"), api: fixed("/v1/stores/" + f.storeID + "/affiliate")},
	}
}

// pageTimes records each page's latencies and largest answer in the
// measured window of a console step.
type pageTimes struct {
	mu      sync.Mutex
	from    time.Time // the end of the warm-up
	times   map[string][]time.Duration
	largest map[string]int
}

func (p *pageTimes) add(page string, t0 time.Time, d time.Duration, size int) {
	if t0.Before(p.from) {
		return
	}
	p.mu.Lock()
	p.times[page] = append(p.times[page], d)
	p.largest[page] = max(p.largest[page], size)
	p.mu.Unlock()
}

// note returns each page's 99th percentile and largest answer, in the
// order of pages.
func (p *pageTimes) note(pages []consolePage) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for _, pg := range pages {
		ts := p.times[pg.name]
		if len(ts) == 0 {
			continue
		}
		slices.Sort(ts)
		p99 := ts[min(len(ts)-1, len(ts)*99/100)]
		parts = append(parts, fmt.Sprintf("%s p99 %s (%s reads, largest %s KB)",
			pg.name, p99.Round(10*time.Microsecond), group(int64(len(ts))), group(int64((p.largest[pg.name]+1023)/1024))))
	}
	return "per page: " + strings.Join(parts, "; ")
}

// consoleStep returns a step of console (the seller's HTML pages, signed
// in) or console-api (the same reads through the API with the seller's
// key).
func (b *bench) consoleStep(ctx context.Context, scenario string, clients int) (*step, error) {
	if b.console == nil {
		f, err := b.seedConsole(ctx)
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		b.console = f
	}
	f := b.console
	html := scenario == ScenarioConsole
	hc := newLoadClient(clients)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rngs := make([]*rand.Rand, clients)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(b.seed, uint64(b.steps)<<32|uint64(i)))
	}
	times := &pageTimes{from: time.Now().Add(b.cfg.Warmup), times: map[string][]time.Duration{}, largest: map[string]int{}}
	do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
		pg := f.pages[(int64(client)+seq)%int64(len(f.pages))]
		path := pg.api(rngs[client])
		if html {
			path = pg.console(rngs[client])
		}
		t0 := time.Now()
		req, err := http.NewRequestWithContext(ctx, "GET", b.api.base+path, nil)
		if err != nil {
			return ClientError, err.Error()
		}
		if html {
			req.AddCookie(f.cookie)
		} else {
			req.Header.Set("Authorization", "Bearer "+f.sellerKey)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return TransportError, err.Error()
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		if err != nil {
			return TransportError, "read the answer: " + err.Error()
		}
		d := time.Since(t0)
		if resp.StatusCode != http.StatusOK {
			o, detail := classify(resp.StatusCode, body)
			return o, path + ": " + detail
		}
		if html && (!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), pg.consoleMarker)) {
			return ClientError, path + ": not the page: " + shorten(string(body), 200)
		}
		times.add(pg.name, t0, d, len(body))
		return OK, ""
	}
	check := func(context.Context, measurement) (string, []string, error) {
		return times.note(f.pages), nil, nil
	}
	return &step{do: do, check: check, close: hc.CloseIdleConnections}, nil
}

// closeConsole revokes the console store's seller key, which ends its
// session.
func (b *bench) closeConsole(ctx context.Context) {
	if b.console == nil || b.console.sellerKeyID == "" {
		return
	}
	if err := b.api.revokeKey(ctx, b.console.sellerKeyID); err != nil {
		fmt.Fprintf(b.log, "could not revoke the console's seller key %s: %v\n", b.console.sellerKeyID, err)
	}
}
