package load

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// ClickSeed is what Config.SeedClicks inserts: N clicks on one link, made
// by Visitors visitors (SeedVisitor(run, i) for i below Visitors, in
// turn) and spread evenly from From to To.
type ClickSeed struct {
	Run                        string
	StoreID, LinkID, PartnerID string
	N, Visitors                int64
	From, To                   time.Time
}

// seedClickBatch is how many seeded clicks one transaction inserts.
const seedClickBatch = 20_000

// SeedClicksInto inserts the clicks s describes into db, in batches.
func SeedClicksInto(ctx context.Context, db storage.DB, s ClickSeed) error {
	step := s.To.Sub(s.From) / time.Duration(max(s.N, 1))
	batch := make([]*promokit.Click, 0, seedClickBatch)
	for i := int64(0); i < s.N; {
		batch = batch[:0]
		for ; i < s.N && len(batch) < seedClickBatch; i++ {
			batch = append(batch, &promokit.Click{
				LinkID: s.LinkID, StoreID: s.StoreID, PartnerID: s.PartnerID,
				VisitorID: SeedVisitor(s.Run, i%s.Visitors),
				ClickedAt: s.From.Add(time.Duration(i) * step).UTC().Truncate(time.Microsecond),
				UserAgent: "promokit bench seed",
			})
		}
		if err := db.Write(ctx, func(tx storage.Tx) error { return tx.ClickInsertMany(ctx, batch) }); err != nil {
			return err
		}
	}
	return nil
}

// SeedVisitor returns the visitor id of seeded visitor i of a run: the
// form of a cookie's id, derived so that the seeder and the clients agree.
func SeedVisitor(run string, i int64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	h := sha256.Sum256(append([]byte(run), b[:]...))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// Clicks is what ClickSeed.N is by default, and the most visitors the
// order scenarios draw from.
const (
	DefaultClicks  = 100_000
	clicksPerVisit = 10
)

// orderFixture is what the order scenarios share: the program store's
// link, its seeded visitors, and a second store out of the program with
// its own checkout key.
type orderFixture struct {
	visitors   int64
	plainStore string
	plainKey   string
	plainKeyID string
}

// seedOrders seeds the clicks of the order scenarios: cfg.Clicks clicks on
// a link of the run's store (a member of the affiliate program) by
// cfg.Clicks/10 visitors since the store joined, written straight to the
// database through cfg.SeedClicks; and a second store, never in the
// program, for order-plain.
func (b *bench) seedOrders(ctx context.Context) (*orderFixture, error) {
	if b.click == nil {
		f, err := b.seedClicks(ctx)
		if err != nil {
			return nil, err
		}
		b.click = f
	}
	var l struct {
		ID string `json:"id"`
	}
	err := b.api.call(ctx, "POST", "/v1/links",
		map[string]any{"store_id": b.storeID, "product_id": "bench-product", "partner_id": b.click.partnerID}, http.StatusCreated, &l)
	if err != nil {
		return nil, fmt.Errorf("create the link: %w", err)
	}
	if b.cfg.Clicks == 0 {
		b.cfg.Clicks = DefaultClicks
	}
	f := &orderFixture{visitors: max(b.cfg.Clicks/clicksPerVisit, 1)}
	if b.cfg.SeedClicks == nil {
		return nil, fmt.Errorf("the order scenarios write their clicks straight to the database: give the server's database (--database)")
	}
	// Clicks before the store joined do not count (A3): they are spread
	// from the join until now.
	from := b.click.joinedAt
	fmt.Fprintf(b.log, "orders: seeding %s clicks by %s visitors\n", group(b.cfg.Clicks), group(f.visitors))
	started := time.Now()
	err = b.cfg.SeedClicks(ctx, ClickSeed{Run: b.run, StoreID: b.storeID, LinkID: l.ID, PartnerID: b.click.partnerID,
		N: b.cfg.Clicks, Visitors: f.visitors, From: from, To: time.Now()})
	if err != nil {
		return nil, fmt.Errorf("seed the clicks: %w", err)
	}
	fmt.Fprintf(b.log, "orders: %s clicks seeded in %s\n", group(b.cfg.Clicks), time.Since(started).Round(time.Millisecond))
	if f.plainStore, err = b.api.createStore(ctx, "promokit bench plain "+b.run); err != nil {
		return nil, fmt.Errorf("create the second store: %w", err)
	}
	if f.plainKeyID, f.plainKey, err = b.api.createCheckoutKey(ctx, f.plainStore, "promokit bench plain "+b.run); err != nil {
		return nil, fmt.Errorf("create the second checkout key: %w", err)
	}
	return f, nil
}

// orderStep returns an order step: each request reports a new order
// placed, of two lines, by a seeded visitor drawn at random, to the run's
// store (order-attributed: the affiliate program finds the visitor's
// latest click among the seeded ones and accrues the commissions) or to a
// store out of the program (order-plain: the same event without
// attribution). Its check counts the orders attributed.
func (b *bench) orderStep(ctx context.Context, scenario string, clients int) (*step, error) {
	if b.orders == nil {
		f, err := b.seedOrders(ctx)
		if err != nil {
			return nil, err
		}
		b.orders = f
	}
	f := b.orders
	store, key := b.storeID, b.checkoutKey
	if scenario == ScenarioOrderPlain {
		store, key = f.plainStore, f.plainKey
	}
	hc := newLoadClient(clients)
	base := b.api.base + "/v1/stores/" + store + "/orders/"
	tag := fmt.Sprintf("%s-%d", b.run, b.steps)
	rngs := make([]*rand.Rand, clients)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(b.seed, uint64(b.steps)<<32|uint64(i)))
	}
	var attributed, answered atomic.Int64
	do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
		order := fmt.Sprintf("bench-%s-%d-%d", tag, client, seq)
		body, err := json.Marshal(map[string]any{
			"id": order + "-placed", "type": "placed", "currency": b.currency,
			"visitor_id": SeedVisitor(b.run, rngs[client].Int64N(f.visitors)),
			"lines": []map[string]any{
				{"product_id": "bench-product", "quantity": 1, "amount": 10000},
				{"product_id": "other-product", "quantity": 2, "amount": 4999},
			},
			"shipping": 500,
		})
		if err != nil {
			return ClientError, err.Error()
		}
		req, err := postJSON(ctx, base+order+"/events", key, body)
		if err != nil {
			return ClientError, err.Error()
		}
		resp, err := hc.Do(req)
		if err != nil {
			return TransportError, err.Error()
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return TransportError, "read the answer: " + err.Error()
		}
		if resp.StatusCode != http.StatusCreated {
			return classify(resp.StatusCode, raw)
		}
		// The answer is the order; a look for its attribution is enough,
		// and keeps the load generator's own work small on a machine it
		// shares with the server.
		if !bytes.HasPrefix(raw, []byte(`{"order":{`)) {
			return ClientError, "unexpected answer: " + shorten(string(raw), 200)
		}
		answered.Add(1)
		if bytes.Contains(raw, []byte(`"attribution":{"program":"affiliate"`)) {
			attributed.Add(1)
		}
		return OK, ""
	}
	check := func(ctx context.Context, m measurement) (string, []string, error) {
		n, a := answered.Load(), attributed.Load()
		if scenario == ScenarioOrderPlain {
			if a != 0 {
				return "", []string{fmt.Sprintf("%s of %s orders of a store out of the program were attributed", group(a), group(n))}, nil
			}
			return fmt.Sprintf("%s orders placed, none attributed (the store is out of the program)", group(n)), nil, nil
		}
		if a != n {
			return "", []string{fmt.Sprintf("%s of %s orders were attributed; every visitor has clicks in the window", group(a), group(n))}, nil
		}
		return fmt.Sprintf("%s orders placed, each attributed to a click among %s seeded", group(n), group(b.cfg.Clicks)), nil, nil
	}
	return &step{do: do, check: check, close: hc.CloseIdleConnections}, nil
}
