package load

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
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

// EntrySeed is what Config.SeedEntries inserts: N ledger entries spread
// evenly from From to To, with amounts drawn from Seed; their sum is what
// SeedEntriesInto returns. Without Mixed they are the commissions store
// StoreID owes partner PartnerID; with Mixed, every kind of entry a store
// has: commissions to PartnerID and to OtherPartnerID under two programs,
// shares to the marketplace, subsidies from it, and payouts.
type EntrySeed struct {
	PartnerID, StoreID, Currency string
	Mixed                        bool
	OtherPartnerID               string
	N                            int64
	From, To                     time.Time
	Seed                         uint64
	// NoRollup leaves the roll-up to a later seed: the days a roll-up
	// covers take no more entries, so the last seed of a run rolls up.
	NoRollup bool
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
	var sum, paid int64
	batch := make([]*promokit.LedgerEntry, 0, seedEntryBatch)
	for i := int64(0); i < s.N; {
		batch = batch[:0]
		for ; i < s.N && len(batch) < seedEntryBatch; i++ {
			e := &promokit.LedgerEntry{
				Payer: s.StoreID, Payee: s.PartnerID, StoreID: s.StoreID, OrderID: "bench-" + strconv.FormatInt(i/2, 10), Line: 0,
				Program: promokit.ProgramAffiliate, Rule: promokit.RuleAffiliate, Status: promokit.LedgerPending, Kind: promokit.EntryAccrued,
				Amount: 1 + rng.Int64N(5000), Currency: s.Currency, Basis: 10000, Rate: 500,
				EventID: "bench", CreatedAt: s.From.Add(time.Duration(i) * step).UTC().Truncate(time.Microsecond),
			}
			if i%2 == 1 {
				e.Status, e.Kind = promokit.LedgerPayable, promokit.EntryReleased
			}
			if s.Mixed {
				mixEntry(e, s, i)
			}
			if e.PayoutID != "" {
				paid += e.Amount
			}
			sum += e.Amount
			batch = append(batch, e)
		}
		if err := db.Write(ctx, func(tx storage.Tx) error { return tx.LedgerAddMany(ctx, batch) }); err != nil {
			return 0, err
		}
	}
	// The payout the paid entries name, of what they moved to paid, so
	// that promokit check finds the seeded ledger consistent.
	if paid > 0 {
		p := &promokit.Payout{ID: seedPayoutID(s), Payer: s.StoreID, Payee: s.PartnerID, StoreID: s.StoreID, Currency: s.Currency,
			Amount: paid, PaidOn: s.To.UTC().Format(time.DateOnly), Reference: "bench", State: promokit.PayoutRecorded, CreatedAt: s.To.UTC()}
		if err := db.Write(ctx, func(tx storage.Tx) error { return tx.PayoutCreate(ctx, p) }); err != nil {
			return 0, err
		}
	}
	if s.NoRollup {
		return sum, nil
	}
	// A month-old ledger has long been vacuumed by the database's own
	// upkeep: do now what it would have done.
	if err := db.LedgerVacuum(ctx); err != nil {
		return 0, err
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

// seedPayoutID is the id of the one payout that the paid entries of a
// mixed seed name: its store's.
func seedPayoutID(s EntrySeed) string { return "pay_bench_" + s.StoreID }

// mixEntry makes e, the i-th seeded entry, one of every kind a store has
// in turn: a commission to the partner or, under a task, to the other
// partner; a P4 share to the marketplace; a subsidy from the marketplace;
// and every tenth a payout of a commission to the partner (i/2%5 is then
// 4), named by seedPayoutID.
func mixEntry(e *promokit.LedgerEntry, s EntrySeed, i int64) {
	switch i / 2 % 5 {
	case 1:
		e.Payee, e.Program, e.Rule = s.OtherPartnerID, promokit.ProgramTask, promokit.RuleTask
	case 2:
		e.Payee, e.Program, e.Rule = promokit.Marketplace, promokit.ProgramPartnerCode, promokit.RulePartnerCode
	case 3:
		e.Payer, e.Payee, e.Program, e.Rule = promokit.Marketplace, s.StoreID, promokit.ProgramEnvelope, promokit.RuleEnvelope
	}
	if i%10 == 9 {
		e.Status, e.Kind, e.OrderID, e.EventID, e.PayoutID = promokit.LedgerPaid, promokit.EntryPaidOut, "", "", seedPayoutID(s)
		e.Program, e.Rule, e.Basis, e.Rate = "", "", 0, 0
	}
}

// statementFixture is the party whose ledger the statement scenarios
// read, the path of its statement, its period and what its entries add
// up to.
type statementFixture struct {
	party    string
	path     string
	from, to time.Time
	sum      int64
}

// seedStatement creates the party of a statement scenario and writes
// cfg.Entries ledger entries of it straight into the database, spread
// over the 30 days before now: for statement, an affiliate's commissions
// from the run's store; for store-statement, a new store's entries of
// every kind (mixEntry).
func (b *bench) seedStatement(ctx context.Context, store, noRollup bool) (*statementFixture, error) {
	if b.cfg.SeedEntries == nil {
		return nil, fmt.Errorf("the statement scenarios write their entries straight to the database: give the server's database (--database)")
	}
	type created struct {
		ID string `json:"id"`
	}
	partner := func(name string) (string, error) {
		var p created
		err := b.api.call(ctx, "POST", "/v1/partners", map[string]any{"name": name + " " + b.run, "kind": "affiliate"}, http.StatusCreated, &p)
		if err != nil {
			return "", fmt.Errorf("create the partner: %w", err)
		}
		return p.ID, nil
	}
	seed := EntrySeed{StoreID: b.storeID, Currency: b.currency, Seed: b.seed, N: b.cfg.Entries, NoRollup: noRollup}
	if seed.N == 0 {
		seed.N = DefaultEntries
	}
	var err error
	if seed.PartnerID, err = partner("bench statement"); err != nil {
		return nil, err
	}
	f := &statementFixture{party: seed.PartnerID, path: "/v1/partners/"}
	if store {
		storeID, err := b.api.createStore(ctx, "bench statement store "+b.run)
		if err != nil {
			return nil, fmt.Errorf("create the store: %w", err)
		}
		if seed.OtherPartnerID, err = partner("bench statement influencer"); err != nil {
			return nil, err
		}
		seed.StoreID, seed.Mixed = storeID, true
		f.party, f.path = storeID, "/v1/stores/"
	}
	f.path += f.party + "/statement"
	now := time.Now().UTC().Truncate(time.Second)
	f.from, f.to = now.Add(-30*24*time.Hour), now.Add(time.Minute)
	seed.From, seed.To = f.from.Add(time.Second), now
	fmt.Fprintf(b.log, "statement: seeding %s ledger entries of %s\n", group(seed.N), f.party)
	started := time.Now()
	if f.sum, err = b.cfg.SeedEntries(ctx, seed); err != nil {
		return nil, fmt.Errorf("seed the ledger entries: %w", err)
	}
	fmt.Fprintf(b.log, "statement: %s entries seeded in %s\n", group(seed.N), time.Since(started).Round(time.Millisecond))
	return f, nil
}

// seedStatements seeds the fixtures of the statement scenarios of the
// run, and then rolls their closed days up: a day rolled up takes no more
// entries.
func (b *bench) seedStatements(ctx context.Context) error {
	partner := slices.Contains(b.cfg.Scenarios, ScenarioStatement) || slices.Contains(b.cfg.Scenarios, ScenarioStatementSum)
	store := slices.Contains(b.cfg.Scenarios, ScenarioStoreStatement) || slices.Contains(b.cfg.Scenarios, ScenarioStoreStatementSum)
	var err error
	if partner {
		if b.statement, err = b.seedStatement(ctx, false, store); err != nil {
			return err
		}
	}
	if store {
		b.storeStatement, err = b.seedStatement(ctx, true, false)
	}
	return err
}

// statementStep returns a statement step: GET the partner's statement of
// the seeded period (statement) or the store's (store-statement), or
// their baseline, a plain SUM of the amounts of the party's entries in the
// period run on the database (statement-sum, store-statement-sum). Each
// check compares the total with the seeded sum.
func (b *bench) statementStep(ctx context.Context, scenario string, clients int) (*step, error) {
	if b.statement == nil && b.storeStatement == nil {
		if err := b.seedStatements(ctx); err != nil {
			return nil, err
		}
	}
	f := b.statement
	if scenario == ScenarioStoreStatement || scenario == ScenarioStoreStatementSum {
		f = b.storeStatement
	}
	var last atomic.Int64
	if scenario == ScenarioStatementSum || scenario == ScenarioStoreStatementSum {
		if err := b.openHotRow(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", scenario, err)
		}
		do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
			sum, err := b.hot.LedgerSum(ctx, f.party, f.from, f.to)
			if err != nil {
				return ServerError, err.Error()
			}
			last.Store(sum)
			return OK, ""
		}
		return &step{do: do, check: f.checkSum(&last, "the plain SUM"), close: func() {}}, nil
	}
	hc := newLoadClient(clients)
	u := b.api.base + f.path + "?" + url.Values{
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
		if err := json.Unmarshal(raw, &st); err != nil || len(st.Currencies) != 1 || st.Party != f.party {
			return ClientError, "decode the statement: " + shorten(string(raw), 200)
		}
		var total int64
		for _, a := range st.Currencies[0].Accounts {
			total += a.Closing.Pending + a.Closing.Payable + a.Closing.Paid
		}
		last.Store(total)
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
