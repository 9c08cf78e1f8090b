package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/promokit/promokit"
)

// clickAgent is the user agent of the click scenario's clients: a
// browser's, so that the clicks are a person's, not a bot's.
const clickAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

// clickFixture is the affiliate partner and product the click steps link
// to; the store joins the affiliate program once.
type clickFixture struct {
	partnerID string
	joinedAt  time.Time
}

// seedClicks makes the run's store a member of the affiliate program,
// with a product, and creates an affiliate partner.
func (b *bench) seedClicks(ctx context.Context) (*clickFixture, error) {
	var joined struct {
		Membership struct {
			JoinedAt time.Time `json:"joined_at"`
		} `json:"membership"`
	}
	err := b.api.call(ctx, "POST", "/v1/stores/"+b.storeID+"/affiliate/join",
		map[string]any{"accept_terms": true, "rate_bp": 500, "url": "https://bench.example/store"}, http.StatusCreated, &joined)
	if err != nil {
		return nil, fmt.Errorf("join the affiliate program: %w", err)
	}
	err = b.api.call(ctx, "PUT", "/v1/stores/"+b.storeID+"/products/bench-product",
		map[string]any{"name": "Bench product", "url": "https://bench.example/product"}, http.StatusOK, nil)
	if err != nil {
		return nil, fmt.Errorf("create the product: %w", err)
	}
	var p struct {
		ID string `json:"id"`
	}
	err = b.api.call(ctx, "POST", "/v1/partners", map[string]any{"name": "bench affiliate " + b.run, "kind": "affiliate"}, http.StatusCreated, &p)
	if err != nil {
		return nil, fmt.Errorf("create the affiliate: %w", err)
	}
	return &clickFixture{partnerID: p.ID, joinedAt: joined.Membership.JoinedAt}, nil
}

// clickStep returns a click step: a new link per step, opened by each
// client as its own visitor (its cookie) with a browser's user agent. Its
// check waits for the clicks to be written and compares their count with
// the redirects answered.
func (b *bench) clickStep(ctx context.Context, clients int) (*step, error) {
	if b.click == nil {
		f, err := b.seedClicks(ctx)
		if err != nil {
			return nil, err
		}
		b.click = f
	}
	var l struct {
		ID   string `json:"id"`
		Path string `json:"path"`
	}
	err := b.api.call(ctx, "POST", "/v1/links",
		map[string]any{"store_id": b.storeID, "product_id": "bench-product", "partner_id": b.click.partnerID}, http.StatusCreated, &l)
	if err != nil {
		return nil, fmt.Errorf("create the link: %w", err)
	}
	hc := newLoadClient(clients)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	url := b.api.base + l.Path
	cookies := make([]string, clients)
	for i := range cookies {
		cookies[i] = "pk_vid=" + promokit.NewVisitorID()
	}
	do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return ClientError, err.Error()
		}
		req.Header.Set("User-Agent", clickAgent)
		req.Header.Set("Cookie", cookies[client])
		resp, err := hc.Do(req)
		if err != nil {
			return TransportError, err.Error()
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if err != nil {
			return TransportError, "read the answer: " + err.Error()
		}
		if resp.StatusCode == http.StatusFound {
			return OK, ""
		}
		return classify(resp.StatusCode, body)
	}
	check := func(ctx context.Context, m measurement) (string, []string, error) {
		answered := m.Counts.OK + m.Warmup.OK
		var stored int64
		// The server writes queued clicks every flush interval: wait for
		// the last ones, up to ten seconds.
		for deadline := time.Now().Add(10 * time.Second); ; {
			var v struct {
				Clicks int64 `json:"clicks"`
			}
			if err := b.api.call(ctx, "GET", "/v1/links/"+l.ID, nil, http.StatusOK, &v); err != nil {
				return "", nil, err
			}
			stored = v.Clicks
			if stored >= answered || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if stored != answered {
			return "", []string{fmt.Sprintf("the link stored %s clicks, but %s redirects were answered (warm-up included)", group(stored), group(answered))}, nil
		}
		return fmt.Sprintf("exact: the link stored %s clicks = %s redirects answered (warm-up included)", group(stored), group(answered)), nil, nil
	}
	return &step{do: do, check: check, close: hc.CloseIdleConnections}, nil
}
