package load

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// DefaultEntries is how many ledger entries the statement scenarios seed.
const (
	DefaultEntries = 1_000_000
	MaxEntries     = 100_000_000
)

// EntrySeed is what Config.SeedEntries inserts: N ledger entries of one
// partner and store, spread evenly from From to To, with amounts drawn
// from Seed; their sum is Sum, which SeedEntriesInto returns.
type EntrySeed struct {
	PartnerID, StoreID, Currency string
	N                            int64
	From, To                     time.Time
	Seed                         uint64
}

// seedEntryBatch is how many seeded entries one transaction inserts.
const seedEntryBatch = 20_000

// SeedEntriesInto inserts the entries s describes into db, in batches,
// rolls up their closed days as the server would have, and returns the
// sum of their amounts: pending accruals and payable releases, one of
// each per order line.
func SeedEntriesInto(ctx context.Context, db storage.DB, s EntrySeed) (int64, error) {
	rng := rand.New(rand.NewPCG(s.Seed, 7))
	step := s.To.Sub(s.From) / time.Duration(max(s.N, 1))
	var sum int64
	batch := make([]*promokit.LedgerEntry, 0, seedEntryBatch)
	for i := int64(0); i < s.N; {
		batch = batch[:0]
		for ; i < s.N && len(batch) < seedEntryBatch; i++ {
			e := &promokit.LedgerEntry{
				PartnerID: s.PartnerID, StoreID: s.StoreID, OrderID: "bench-" + strconv.FormatInt(i/2, 10), Line: 0,
				Program: promokit.ProgramAffiliate, Status: promokit.LedgerPending, Kind: promokit.EntryAccrued,
				Amount: 1 + rng.Int64N(5000), Currency: s.Currency, Basis: 10000, Rate: 500,
				EventID: "bench", CreatedAt: s.From.Add(time.Duration(i) * step).UTC().Truncate(time.Microsecond),
			}
			if i%2 == 1 {
				e.Status, e.Kind = promokit.LedgerPayable, promokit.EntryReleased
			}
			sum += e.Amount
			batch = append(batch, e)
		}
		if err := db.Write(ctx, func(tx storage.Tx) error { return tx.LedgerAddMany(ctx, batch) }); err != nil {
			return 0, err
		}
	}
	// The entries are a month of history: roll up its closed days as the
	// server does once each day has been closed for an hour.
	until := time.Now().UTC().Add(-time.Hour).Truncate(24 * time.Hour)
	for {
		var rolled time.Time
		err := db.Write(ctx, func(tx storage.Tx) (err error) {
			rolled, err = tx.LedgerRollup(ctx, until, 31)
			return err
		})
		if err != nil {
			return 0, err
		}
		if rolled.IsZero() || !rolled.Before(until) {
			return sum, nil
		}
	}
}

// statementFixture is the partner whose ledger the statement scenarios
// read, its period and what its entries add up to.
type statementFixture struct {
	partnerID string
	from, to  time.Time
	sum       int64
}

// seedStatement creates an affiliate and writes cfg.Entries ledger entries
// of it straight into the database, spread over the 30 days before now.
func (b *bench) seedStatement(ctx context.Context) (*statementFixture, error) {
	if b.cfg.SeedEntries == nil {
		return nil, fmt.Errorf("the statement scenarios write their entries straight to the database: give the server's database (--database)")
	}
	var p struct {
		ID string `json:"id"`
	}
	err := b.api.call(ctx, "POST", "/v1/partners", map[string]any{"name": "bench statement " + b.run, "kind": "affiliate"}, http.StatusCreated, &p)
	if err != nil {
		return nil, fmt.Errorf("create the affiliate: %w", err)
	}
	n := b.cfg.Entries
	if n == 0 {
		n = DefaultEntries
	}
	now := time.Now().UTC().Truncate(time.Second)
	f := &statementFixture{partnerID: p.ID, from: now.Add(-30 * 24 * time.Hour), to: now.Add(time.Minute)}
	fmt.Fprintf(b.log, "statement: seeding %s ledger entries\n", group(n))
	started := time.Now()
	f.sum, err = b.cfg.SeedEntries(ctx, EntrySeed{PartnerID: p.ID, StoreID: b.storeID, Currency: b.currency, N: n,
		From: f.from.Add(time.Second), To: now, Seed: b.seed})
	if err != nil {
		return nil, fmt.Errorf("seed the ledger entries: %w", err)
	}
	fmt.Fprintf(b.log, "statement: %s entries seeded in %s\n", group(n), time.Since(started).Round(time.Millisecond))
	return f, nil
}

// statementStep returns a statement step: GET the partner's statement of
// the seeded period (statement), or the baseline, a plain SUM of the
// amounts of the partner's entries in the period run on the database
// (statement-sum). Each check compares the total with the seeded sum.
func (b *bench) statementStep(ctx context.Context, scenario string, clients int) (*step, error) {
	if b.statement == nil {
		f, err := b.seedStatement(ctx)
		if err != nil {
			return nil, err
		}
		b.statement = f
	}
	f := b.statement
	var last atomic.Int64
	if scenario == ScenarioStatementSum {
		if err := b.openHotRow(ctx); err != nil {
			return nil, fmt.Errorf("statement-sum: %w", err)
		}
		do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
			sum, err := b.hot.LedgerSum(ctx, f.partnerID, f.from, f.to)
			if err != nil {
				return ServerError, err.Error()
			}
			last.Store(sum)
			return OK, ""
		}
		return &step{do: do, check: f.checkSum(&last, "the plain SUM"), close: func() {}}, nil
	}
	hc := newLoadClient(clients)
	u := b.api.base + "/v1/partners/" + f.partnerID + "/statement?" + url.Values{
		"from": {f.from.Format(time.RFC3339)}, "to": {f.to.Format(time.RFC3339)}}.Encode()
	do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
		req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
		if err != nil {
			return ClientError, err.Error()
		}
		req.Header.Set("Authorization", "Bearer "+b.api.key)
		resp, err := hc.Do(req)
		if err != nil {
			return TransportError, err.Error()
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return TransportError, "read the answer: " + err.Error()
		}
		if resp.StatusCode != http.StatusOK {
			return classify(resp.StatusCode, raw)
		}
		var st engine.Statement
		if err := json.Unmarshal(raw, &st); err != nil || len(st.Currencies) != 1 {
			return ClientError, "decode the statement: " + shorten(string(raw), 200)
		}
		c := st.Currencies[0].Closing
		last.Store(c.Pending + c.Payable)
		return OK, ""
	}
	return &step{do: do, check: f.checkSum(&last, "the statement"), close: hc.CloseIdleConnections}, nil
}

// checkSum returns a check that the last total read equals the seeded sum.
func (f *statementFixture) checkSum(last *atomic.Int64, what string) func(context.Context, measurement) (string, []string, error) {
	return func(ctx context.Context, m measurement) (string, []string, error) {
		if got := last.Load(); got != f.sum {
			return "", []string{fmt.Sprintf("%s totals %d, the seeded entries %d", what, got, f.sum)}, nil
		}
		return fmt.Sprintf("%s totals %d = the seeded entries' sum", what, f.sum), nil, nil
	}
}
