package engine

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Statements: a partner's (what it is owed) and a store's (what it owes),
// over a period, as sums of the ledger's entries. Besides the entries the
// database keeps only their daily roll-ups, sums of whole closed days that
// never change once written (entries are only ever appended), so a
// statement always reconciles with the entries.

// StatementQuery selects a statement: of a partner or of a store (the
// other one narrows it), over [From, To).
type StatementQuery struct {
	PartnerID string
	StoreID   string
	From      time.Time
	To        time.Time
}

// Statement is the balance of a partner, or of a store, at the start and
// end of a period, and the movements in between, per currency.
type Statement struct {
	PartnerID  string              `json:"partner_id,omitempty"`
	StoreID    string              `json:"store_id,omitempty"`
	From       time.Time           `json:"from"`
	To         time.Time           `json:"to"`
	Currencies []CurrencyStatement `json:"currencies"`
}

// CurrencyStatement is a statement in one currency: the balance by status
// (pending, payable) before the period and at its end, and the period's
// movements by status and kind.
type CurrencyStatement struct {
	Currency  string                `json:"currency"`
	Opening   Balance               `json:"opening"`
	Movements []storage.LedgerTotal `json:"movements"`
	Closing   Balance               `json:"closing"`
}

// Balance is what is pending and what is payable.
type Balance struct {
	Pending int64 `json:"pending"`
	Payable int64 `json:"payable"`
}

func (b *Balance) add(status string, amount int64) {
	if status == promokit.LedgerPending {
		b.Pending += amount
	} else {
		b.Payable += amount
	}
}

// maxStatementSpan bounds a statement's period.
const maxStatementSpan = 366 * 24 * time.Hour

// ledgerCaller checks that the caller may read the ledger q selects: the
// admin anything, a partner its own (PartnerID set to it), a seller its
// store's (StoreID set to it). Foreign principals get ENotFound.
func ledgerCaller(ctx context.Context, q *StatementQuery) error {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RolePartner, promokit.RoleSeller)
	if err != nil {
		return err
	}
	switch p.Role {
	case promokit.RolePartner:
		if q.PartnerID != p.PartnerID {
			return notFound("partner", q.PartnerID)
		}
	case promokit.RoleSeller:
		if q.StoreID != p.StoreID {
			return notFound("store", q.StoreID)
		}
	}
	if q.PartnerID == "" && q.StoreID == "" {
		return promokit.Errorf(promokit.EInvalid, "a statement is of a partner or of a store")
	}
	var v promokit.Validation
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) {
		v.Add("from", "invalid", "a statement needs from before to")
	} else if q.To.Sub(q.From) > maxStatementSpan {
		v.Add("to", "out_of_range", "a statement covers at most 366 days")
	}
	return v.Err()
}

// GetStatement answers a statement: the balance before the period, the
// period's movements and the balance at its end, summed by the database.
func (s *Service) GetStatement(ctx context.Context, q StatementQuery) (*Statement, error) {
	if err := ledgerCaller(ctx, &q); err != nil {
		return nil, err
	}
	var before, during []storage.LedgerTotal
	err := s.read(ctx, func(tx storage.Tx) error {
		if err := s.checkLedgerOwner(ctx, tx, q); err != nil {
			return err
		}
		var err error
		if before, err = tx.LedgerSum(ctx, storage.LedgerFilter{PartnerID: q.PartnerID, StoreID: q.StoreID, To: q.From}); err != nil {
			return err
		}
		during, err = tx.LedgerSum(ctx, storage.LedgerFilter{PartnerID: q.PartnerID, StoreID: q.StoreID, From: q.From, To: q.To})
		return err
	})
	if err != nil {
		return nil, err
	}
	return buildStatement(q, before, during), nil
}

// checkLedgerOwner reports ENotFound for a partner or store that does not
// exist.
func (s *Service) checkLedgerOwner(ctx context.Context, tx storage.Tx, q StatementQuery) error {
	if q.PartnerID != "" {
		if _, err := tx.PartnerGet(ctx, q.PartnerID); err != nil {
			return err
		}
	}
	if q.StoreID != "" {
		if _, err := tx.StoreGet(ctx, q.StoreID, false); err != nil {
			return err
		}
	}
	return nil
}

// buildStatement puts the sums before and during the period together.
func buildStatement(q StatementQuery, before, during []storage.LedgerTotal) *Statement {
	byCur := map[string]*CurrencyStatement{}
	get := func(c string) *CurrencyStatement {
		cs := byCur[c]
		if cs == nil {
			cs = &CurrencyStatement{Currency: c, Movements: []storage.LedgerTotal{}}
			byCur[c] = cs
		}
		return cs
	}
	for _, t := range before {
		cs := get(t.Currency)
		cs.Opening.add(t.Status, t.Amount)
		cs.Closing.add(t.Status, t.Amount)
	}
	for _, t := range during {
		cs := get(t.Currency)
		cs.Movements = append(cs.Movements, t)
		cs.Closing.add(t.Status, t.Amount)
	}
	out := &Statement{PartnerID: q.PartnerID, StoreID: q.StoreID, From: q.From, To: q.To, Currencies: []CurrencyStatement{}}
	for _, cs := range byCur {
		slices.SortFunc(cs.Movements, func(a, b storage.LedgerTotal) int {
			return cmp.Or(cmp.Compare(a.Status, b.Status), cmp.Compare(a.Kind, b.Kind))
		})
		out.Currencies = append(out.Currencies, *cs)
	}
	slices.SortFunc(out.Currencies, func(a, b CurrencyStatement) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

// ListEntries returns a page of the entries q selects, by id.
func (s *Service) ListEntries(ctx context.Context, q StatementQuery, page storage.Page) ([]*promokit.LedgerEntry, error) {
	if err := ledgerCaller(ctx, &q); err != nil {
		return nil, err
	}
	page.Bound()
	p, err := idPage(page)
	if err != nil {
		return nil, promokit.Errorf(promokit.EInvalid, "after must be an entry id")
	}
	var out []*promokit.LedgerEntry
	err = s.read(ctx, func(tx storage.Tx) error {
		if err := s.checkLedgerOwner(ctx, tx, q); err != nil {
			return err
		}
		var err error
		out, err = tx.LedgerList(ctx, storage.LedgerFilter{PartnerID: q.PartnerID, StoreID: q.StoreID, From: q.From, To: q.To}, p)
		return err
	})
	return out, err
}

// exportPage is how many entries one read of an export takes.
const exportPage = 5000

// ExportEntries streams every entry q selects, by id, to fn, a page of
// exportPage entries per read, so that an export of millions of entries
// holds one page in memory.
func (s *Service) ExportEntries(ctx context.Context, q StatementQuery, fn func(*promokit.LedgerEntry) error) error {
	if err := ledgerCaller(ctx, &q); err != nil {
		return err
	}
	f := storage.LedgerFilter{PartnerID: q.PartnerID, StoreID: q.StoreID, From: q.From, To: q.To}
	page := storage.IDPage{Limit: exportPage}
	for first := true; ; first = false {
		var es []*promokit.LedgerEntry
		err := s.read(ctx, func(tx storage.Tx) error {
			if first {
				if err := s.checkLedgerOwner(ctx, tx, q); err != nil {
					return err
				}
			}
			var err error
			es, err = tx.LedgerList(ctx, f, page)
			return err
		})
		if err != nil {
			return err
		}
		for _, e := range es {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(es) < page.Limit {
			return nil
		}
		page.After = es[len(es)-1].ID
	}
}

// Period turns a statement's from and to into times: each is a date
// (YYYY-MM-DD, 0:00 of that day in the marketplace's time zone) or an RFC
// 3339 time. Without from the period starts on the 1st of the current
// month; without to it ends a month after from. It also returns the
// marketplace's time zone, in which the dates were read.
func (s *Service) Period(ctx context.Context, from, to string) (time.Time, time.Time, *time.Location, error) {
	var loc *time.Location
	err := s.read(ctx, func(tx storage.Tx) error {
		settings, err := tx.SettingsGet(ctx)
		if err == nil {
			loc = settings.Location()
		}
		return err
	})
	if err != nil {
		return time.Time{}, time.Time{}, nil, err
	}
	var v promokit.Validation
	parse := func(field, s string) time.Time {
		if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
			return t.UTC()
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC().Truncate(time.Microsecond)
		}
		v.Add(field, "invalid", "%s must be a date (2026-01-31) or an RFC 3339 time", field)
		return time.Time{}
	}
	var f, t time.Time
	if from == "" {
		n := s.now().In(loc)
		f = time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc).UTC()
	} else {
		f = parse("from", from)
	}
	if to == "" {
		t = f.In(loc).AddDate(0, 1, 0).UTC()
	} else {
		t = parse("to", to)
	}
	return f, t, loc, v.Err()
}

// ledgerSettle is how long after a UTC day ends its entries are rolled
// up. An entry's created_at is its writer's clock while its transaction
// runs, and the transaction commits a little later; a roll-up reads only
// what has committed, so it waits an hour for any transaction still
// writing entries of the day before. An entry that commits later still (a
// transaction held open for longer, or a server whose clock is behind by
// more) would be left out of the roll-ups: UsageCheck reports it.
const ledgerSettle = time.Hour

// rollupDays is how many days one roll-up transaction takes at most, so
// that a first roll-up of a long ledger commits a month at a time.
const rollupDays = 31

// utcDay returns the start (0:00 UTC) of t's UTC day. Go's times count from
// 0:00 UTC, January 1 of year 1, so whole days from there are UTC days.
func utcDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// rollupUntil returns the day start before which the days have closed for
// at least ledgerSettle.
func (s *Service) rollupUntil() time.Time { return utcDay(s.now().Add(-ledgerSettle)) }

// RollupLedger rolls up the ledger's entries of the UTC days that closed at
// least an hour ago (ledgerSettle), up to rollupDays days a transaction
// until it has caught up, and returns how far the roll-ups then go (zero
// when there is no entry). Statements read the roll-ups for whole days
// and stay the sums of the entries. It runs in the background (RunJobs);
// several processes may run it at once.
func (s *Service) RollupLedger(ctx context.Context) (time.Time, error) {
	return s.rollupLedger(ctx, s.rollupUntil())
}

func (s *Service) rollupLedger(ctx context.Context, until time.Time) (time.Time, error) {
	var rolled time.Time
	for {
		var next time.Time
		err := s.write(ctx, func(tx storage.Tx) error {
			var err error
			next, err = tx.LedgerRollup(ctx, until, rollupDays)
			return err
		})
		if err != nil {
			return rolled, err
		}
		// Done when caught up, when there is nothing to roll up, or
		// when a step made no progress.
		if next.IsZero() || !next.Before(until) || !next.After(rolled) {
			return next, nil
		}
		rolled = next
	}
}
