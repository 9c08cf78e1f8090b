package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// requestTimeout bounds one request of a client; a request that takes
// longer counts as a transport error.
const requestTimeout = 60 * time.Second

// step is one scenario at one client count, seeded and ready to run.
type step struct {
	// do sends one request.
	do requestFunc
	// window, when set, makes the measured window last as long as it
	// runs, instead of Config.Duration: it is called once the warm-up is
	// over.
	window func(ctx context.Context)
	// check, when set, checks what the server stored against what the
	// step measured. It returns a line describing a check that passed, and
	// the problems it found; its error means it could not check.
	check func(ctx context.Context, m measurement) (note string, problems []string, err error)
	// close releases the step's connections.
	close func()
}

// newLoadClient returns the HTTP client of one step: keep-alive
// connections, enough of them idle for every client, no proxy and no
// compression, so that each client reuses its own connection.
func newLoadClient(clients int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        clients + 16,
		MaxIdleConnsPerHost: clients + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout}
}

// postJSON returns a POST of body to url with a bearer key.
func postJSON(ctx context.Context, url, key string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// sendRequest sends req and classifies the answer. The body is always
// read to its end, so that the connection is reused.
func sendRequest(hc *http.Client, req *http.Request) (Outcome, string) {
	resp, err := hc.Do(req)
	if err != nil {
		return TransportError, err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return TransportError, "read the answer: " + err.Error()
		}
		return OK, ""
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		return TransportError, "read the answer: " + err.Error()
	}
	return classify(resp.StatusCode, b)
}

// classify returns the outcome of an answer that is not 2xx, and a short
// description of it.
func classify(status int, body []byte) (Outcome, string) {
	if status == http.StatusConflict {
		var p struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(body, &p) == nil && p.Code == promokit.ERedemptionRefused {
			return Refused, ""
		}
	}
	detail := fmt.Sprintf("status %d: %s", status, shorten(string(body), 300))
	if status >= 500 {
		return ServerError, detail
	}
	return ClientError, detail
}

// shorten returns s on one line, cut to at most n bytes.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// redeemCart is the cart of every redeem: two lines and shipping.
func redeemCart(storeID, currency string) promokit.Cart {
	return promokit.Cart{StoreID: storeID, Currency: currency, Shipping: 499, Lines: []promokit.Line{
		{ProductID: "mug", Quantity: 2, UnitPrice: 1500},
		{ProductID: "tshirt", Quantity: 1, UnitPrice: 2500},
	}}
}

// validateCart is the cart of every validate: five lines and shipping, as
// in bench/validate.lua.
func validateCart(storeID, currency string) promokit.Cart {
	return promokit.Cart{StoreID: storeID, Currency: currency, Shipping: 499, Lines: []promokit.Line{
		{ProductID: "p1", Quantity: 1, UnitPrice: 1999},
		{ProductID: "p2", Quantity: 2, UnitPrice: 550},
		{ProductID: "p3", Quantity: 1, UnitPrice: 12000},
		{ProductID: "p4", Quantity: 3, UnitPrice: 99},
		{ProductID: "p5", Quantity: 1, UnitPrice: 4500},
	}}
}

// redeemStep seeds a new promotion for one redeem step and returns the
// step: redeem-hot's promotion has HotCodes codes and the configured limit,
// redeem-many's has ManyCodes codes and no total limit. The codes are
// imported, and named after the run and the step so that they are new on
// any server.
func (b *bench) redeemStep(ctx context.Context, scenario string, clients int) (*step, error) {
	n, limit := HotCodes, b.limit()
	if scenario == ScenarioRedeemMany {
		n, limit = b.cfg.ManyCodes, 0
	}
	tag := fmt.Sprintf("%s-%d", b.run, b.steps)
	promo, err := b.api.createPromotion(ctx, b.storeID, fmt.Sprintf("bench %s, %d clients (%s)", scenario, clients, tag), limit, 0)
	if err != nil {
		return nil, fmt.Errorf("create the promotion of %s: %w", scenario, err)
	}
	codes := make([]string, n)
	for i := range codes {
		codes[i] = fmt.Sprintf("B%s-%06d", tag, i)
	}
	if err := b.api.importCodes(ctx, promo, codes); err != nil {
		return nil, fmt.Errorf("create the codes of %s: %w", scenario, err)
	}
	hc := newLoadClient(clients)
	url := b.api.base + "/v1/redeem"
	cart := redeemCart(b.storeID, b.currency)
	email := strings.ToLower(tag)
	var next atomic.Int64
	do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
		code := codes[(next.Add(1)-1)%int64(n)]
		orderID := fmt.Sprintf("bench-%s-%d-%d", tag, client, seq)
		body, err := json.Marshal(engine.RedeemInput{
			OrderID:  orderID,
			Cart:     cart,
			Customer: promokit.Identity{Email: fmt.Sprintf("buyer-%s-%d-%d@bench.example", email, client, seq)},
			Codes:    []string{code},
		})
		if err != nil {
			return ClientError, err.Error()
		}
		req, err := postJSON(ctx, url, b.checkoutKey, body)
		if err != nil {
			return ClientError, err.Error()
		}
		if b.cfg.IdempotencyKey {
			req.Header.Set("Idempotency-Key", orderID)
		}
		return sendRequest(hc, req)
	}
	check := func(ctx context.Context, m measurement) (string, []string, error) {
		uses, err := b.api.promotionUses(ctx, promo)
		if err != nil {
			return "", nil, fmt.Errorf("read the uses of promotion %s: %w", promo, err)
		}
		stored := storedUses{what: "promotion " + promo, uses: uses, rows: -1, limit: limit}
		if limit == 0 {
			stored.limit = HighLimit + 1 // no limit: none is reached
		}
		note, problems := stored.check(m)
		return note, problems, nil
	}
	return &step{do: do, check: check, close: hc.CloseIdleConnections}, nil
}

// validateBodies builds the bodies of validate's requests: the cart and
// each client's guest e-mail are encoded once, and each request only
// joins two codes, each quoted once, to its client's part. The load
// generator shares the server's cores; what it spends per request, the
// server does not get.
type validateBodies struct {
	heads  [][]byte // by client: the body up to the codes' '['
	quoted [][]byte // the codes, as JSON strings
}

// newValidateBodies encodes the parts of the bodies of clients validating
// cart with codes.
func newValidateBodies(cart promokit.Cart, clients int, codes []string) (*validateBodies, error) {
	v := &validateBodies{heads: make([][]byte, clients), quoted: make([][]byte, len(codes))}
	const tail = `[]}`
	for i := range v.heads {
		b, err := json.Marshal(engine.ValidateInput{
			Cart:     cart,
			Customer: promokit.Identity{Email: fmt.Sprintf("buyer-%d@bench.example", i)},
			Codes:    []string{},
		})
		if err != nil {
			return nil, err
		}
		if !bytes.HasSuffix(b, []byte(tail)) {
			return nil, fmt.Errorf("validate's body does not end with its codes: %s", b)
		}
		v.heads[i] = b[:len(b)-len(tail)+1]
	}
	for i, c := range codes {
		b, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		v.quoted[i] = b
	}
	return v, nil
}

// body returns the body of a validate by client of the codes at i and j.
func (v *validateBodies) body(client, i, j int) []byte {
	head, a, b := v.heads[client], v.quoted[i], v.quoted[j]
	out := make([]byte, 0, len(head)+len(a)+len(b)+3)
	out = append(append(append(append(append(out, head...), a...), ','), b...), ']', '}')
	return out
}

// validateFixture is validate's promotion and the codes its clients draw.
type validateFixture struct {
	promo string
	codes []string
}

// seedValidate creates validate's promotion, with a per-customer limit so
// that every validate reads the customer's counters, generates its codes
// with a job, and draws up to validateSample of them from the export.
func (b *bench) seedValidate(ctx context.Context) (*validateFixture, error) {
	promo, err := b.api.createPromotion(ctx, b.storeID, "bench validate ("+b.run+")", 0, 1_000_000)
	if err != nil {
		return nil, fmt.Errorf("create the promotion of validate: %w", err)
	}
	fmt.Fprintf(b.log, "validate: generating %s codes for promotion %s\n", group(b.cfg.Codes), promo)
	started := time.Now()
	if err := b.api.generateCodes(ctx, promo, b.cfg.Codes, b.log); err != nil {
		return nil, fmt.Errorf("generate the codes of validate: %w", err)
	}
	generated := time.Since(started)
	codes, err := b.api.sampleCodes(ctx, promo, validateSample, rand.New(rand.NewPCG(b.seed, 1)))
	if err != nil {
		return nil, fmt.Errorf("read the codes of validate: %w", err)
	}
	if int64(len(codes)) != min(b.cfg.Codes, validateSample) {
		return nil, fmt.Errorf("read the codes of validate: %d codes in the export of %d", len(codes), b.cfg.Codes)
	}
	fmt.Fprintf(b.log, "validate: %s codes generated in %s; the clients draw among %s of them\n",
		group(b.cfg.Codes), generated.Round(time.Millisecond), group(int64(len(codes))))
	return &validateFixture{promo: promo, codes: codes}, nil
}

// validateStep returns a validate step: a 5-line cart with two codes drawn
// at random, and a guest e-mail per client.
func (b *bench) validateStep(ctx context.Context, clients int) (*step, error) {
	if b.validate == nil {
		f, err := b.seedValidate(ctx)
		if err != nil {
			return nil, err
		}
		b.validate = f
	}
	bodies, err := newValidateBodies(validateCart(b.storeID, b.currency), clients, b.validate.codes)
	if err != nil {
		return nil, err
	}
	n := len(b.validate.codes)
	hc := newLoadClient(clients)
	url := b.api.base + "/v1/validate"
	rngs := make([]*rand.Rand, clients)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(b.seed, uint64(b.steps)<<32|uint64(i)))
	}
	do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
		rng := rngs[client]
		body := bodies.body(client, rng.IntN(n), rng.IntN(n))
		req, err := postJSON(ctx, url, b.checkoutKey, body)
		if err != nil {
			return ClientError, err.Error()
		}
		return sendRequest(hc, req)
	}
	return &step{do: do, close: hc.CloseIdleConnections}, nil
}

// healthzStep returns a healthz step.
func (b *bench) healthzStep(clients int) *step {
	hc := newLoadClient(clients)
	url := b.api.base + "/healthz"
	do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return ClientError, err.Error()
		}
		return sendRequest(hc, req)
	}
	return &step{do: do, close: hc.CloseIdleConnections}
}

// baselineStep resets the hot row, opening it on the first call, and
// returns a baseline step.
func (b *bench) baselineStep(ctx context.Context) (*step, error) {
	if err := b.openHotRow(ctx); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	limit := b.limit()
	if err := b.hot.Reset(ctx, limit); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	tag := fmt.Sprintf("%s-%d", b.run, b.steps)
	do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
		return b.hot.Redeem(ctx, fmt.Sprintf("bench-%s-%d-%d", tag, client, seq))
	}
	check := func(ctx context.Context, m measurement) (string, []string, error) {
		used, rows, err := b.hot.Used(ctx)
		if err != nil {
			return "", nil, fmt.Errorf("baseline: %w", err)
		}
		note, problems := storedUses{what: "the hot row", uses: used, rows: rows, limit: limit}.check(m)
		return note, problems, nil
	}
	return &step{do: do, check: check, close: func() {}}, nil
}

// storedUses is what the database holds after a redeem or baseline step:
// a counter of uses, the rows written beside it (-1 when unknown) and the
// limit of the counter.
type storedUses struct {
	what       string
	uses, rows int64
	limit      int64
}

// check compares s with the step's measurement, warm-up included: the
// stored uses and rows must equal the successful redeems, never exceed the
// limit, and a redeem may be refused only once the limit is reached. It
// returns a line describing a check that passed, or the problems found.
func (s storedUses) check(m measurement) (string, []string) {
	redeemed := m.Counts.OK + m.Warmup.OK
	refused := m.Counts.Refused + m.Warmup.Refused
	lost := m.Counts.TransportErrors + m.Warmup.TransportErrors
	var problems []string
	if s.uses != redeemed {
		p := fmt.Sprintf("%s: stored %s uses, but %s redeems succeeded (warm-up included)", s.what, group(s.uses), group(redeemed))
		if lost > 0 {
			p += fmt.Sprintf("; %s requests got no answer and may have been stored", group(lost))
		}
		problems = append(problems, p)
	}
	if s.rows >= 0 && s.rows != s.uses {
		problems = append(problems, fmt.Sprintf("%s: stored %s uses but %s rows", s.what, group(s.uses), group(s.rows)))
	}
	if s.uses > s.limit {
		problems = append(problems, fmt.Sprintf("%s: stored %s uses, over its limit of %s", s.what, group(s.uses), group(s.limit)))
	}
	if refused > 0 && redeemed != s.limit {
		problems = append(problems, fmt.Sprintf("%s: %s redeems were refused, but %s succeeded where the limit is %s",
			s.what, group(refused), group(redeemed), limitText(s.limit)))
	}
	if len(problems) > 0 {
		return "", problems
	}
	note := fmt.Sprintf("exact: %s stored %s uses = %s successful redeems (warm-up included)", s.what, group(s.uses), group(redeemed))
	if refused > 0 {
		note += fmt.Sprintf("; limit %s reached, %s refused", group(s.limit), group(refused))
	} else if s.limit < HighLimit {
		note += fmt.Sprintf("; limit %s not reached", group(s.limit))
	}
	return note, nil
}

// limitText returns a limit as printed: "none" for the stand-in of no limit.
func limitText(limit int64) string {
	if limit > HighLimit {
		return "none"
	}
	return group(limit)
}
