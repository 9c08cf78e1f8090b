package engine

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Statements of the three parties, each over a period as sums of the
// ledger's entries: a partner's (what stores and the marketplace owe it,
// by program, and what they paid out), a store's (the commissions it owes
// partners, the fees it owes the marketplace and the subsidies the
// marketplace owes it, kept apart) and the marketplace's (fees earned,
// shares owed to partners, subsidies owed to stores). Besides the entries
// the database keeps only their daily roll-ups, sums of whole closed days
// that never change once written (entries are only ever appended), so a
// statement always reconciles with the entries.

// StatementQuery selects a statement: of a party (the marketplace, a
// store or a partner: promokit.PartyKind), only with Counterparty when it
// is set, over [From, To).
type StatementQuery struct {
	Party        string
	Counterparty string
	From         time.Time
	To           time.Time
}

func (q StatementQuery) filter() storage.LedgerFilter {
	return storage.LedgerFilter{Party: q.Party, Counterparty: q.Counterparty, From: q.From, To: q.To}
}

// Statement is the balance of a party with each kind of counterparty at
// the start and end of a period, and the movements in between, per
// currency. Its times are in the marketplace's time zone.
type Statement struct {
	Party        string              `json:"party"`
	PartyKind    string              `json:"party_kind"`
	Counterparty string              `json:"counterparty,omitempty"`
	TimeZone     string              `json:"time_zone"`
	From         time.Time           `json:"from"`
	To           time.Time           `json:"to"`
	Currencies   []CurrencyStatement `json:"currencies"`
}

// CurrencyStatement is a statement in one currency, an account for each
// side and kind of counterparty the party has entries with.
type CurrencyStatement struct {
	Currency string    `json:"currency"`
	Accounts []Account `json:"accounts"`
}

// Account is what a party owes parties of one kind, or is owed by them
// (promokit.Account names it): the balance by status (pending, payable,
// paid) before the period and at its end, and the period's movements by
// program, status and kind.
type Account struct {
	Account      string     `json:"account"`
	Side         string     `json:"side"`
	Counterparty string     `json:"counterparty"`
	Opening      Balance    `json:"opening"`
	Movements    []Movement `json:"movements"`
	Closing      Balance    `json:"closing"`
}

// Movement is the sum of a period's entries of one program, status and
// kind in an account.
type Movement struct {
	Program string `json:"program"`
	Status  string `json:"status"`
	Kind    string `json:"kind"`
	Amount  int64  `json:"amount"`
	Entries int64  `json:"entries"`
}

// Balance is what is pending, what is payable and what was paid out.
type Balance struct {
	Pending int64 `json:"pending"`
	Payable int64 `json:"payable"`
	Paid    int64 `json:"paid"`
}

func (b *Balance) add(status string, amount int64) {
	switch status {
	case promokit.LedgerPending:
		b.Pending += amount
	case promokit.LedgerPaid:
		b.Paid += amount
	default:
		b.Payable += amount
	}
}

// maxStatementSpan bounds a statement's period.
const maxStatementSpan = 366 * 24 * time.Hour

// ledgerCaller checks that the caller may read the ledger q selects: the
// admin anything, a partner or a seller what is between its own party (its
// partner, its store) and another, as the party or as the counterparty.
// Foreign principals get ENotFound.
func ledgerCaller(ctx context.Context, q *StatementQuery) error {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RolePartner, promokit.RoleSeller)
	if err != nil {
		return err
	}
	own := ""
	switch p.Role {
	case promokit.RolePartner:
		own = p.PartnerID
	case promokit.RoleSeller:
		own = p.StoreID
	}
	if own != "" && q.Party != own && q.Counterparty != own {
		if q.Party == promokit.Marketplace && q.Counterparty == "" {
			return promokit.Errorf(promokit.EForbidden, "the marketplace's whole ledger is the admin's: name your own party as the counterparty")
		}
		return partyNotFound(q.Party)
	}
	if q.Party == "" {
		return promokit.Errorf(promokit.EInvalid, "a statement is of the marketplace, a store or a partner")
	}
	var v promokit.Validation
	if q.Counterparty == q.Party {
		v.Add("counterparty", "invalid", "a party has no entries with itself")
	}
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) {
		v.Add("from", "invalid", "a statement needs from before to")
	} else if q.To.Sub(q.From) > maxStatementSpan {
		v.Add("to", "out_of_range", "a statement covers at most 366 days")
	}
	return v.Err()
}

// partyNotFound is the ENotFound of a party id.
func partyNotFound(id string) error {
	noun := promokit.PartyKind(id)
	if noun == "" {
		noun = "party"
	}
	return notFound(noun, id)
}

// GetStatement answers a statement: the balance of each account before
// the period, the period's movements and the balance at its end, summed by
// the database.
func (s *Service) GetStatement(ctx context.Context, q StatementQuery) (*Statement, error) {
	if err := ledgerCaller(ctx, &q); err != nil {
		return nil, err
	}
	var (
		before, during []storage.LedgerTotal
		loc            *time.Location
	)
	err := s.read(ctx, func(tx storage.Tx) error {
		var err error
		if loc, err = s.ledgerOwners(ctx, tx, q); err != nil {
			return err
		}
		prior := q.filter()
		prior.From, prior.To = time.Time{}, q.From
		if before, err = tx.LedgerSum(ctx, prior); err != nil {
			return err
		}
		during, err = tx.LedgerSum(ctx, q.filter())
		return err
	})
	if err != nil {
		return nil, err
	}
	return buildStatement(q, loc, before, during), nil
}

// ledgerOwners reports ENotFound for a party or counterparty that does
// not exist, and returns the marketplace's time zone.
func (s *Service) ledgerOwners(ctx context.Context, tx storage.Tx, q StatementQuery) (*time.Location, error) {
	for _, id := range []string{q.Party, q.Counterparty} {
		var err error
		switch promokit.PartyKind(id) {
		case promokit.PartyMarketplace:
		case promokit.PartyStore:
			_, err = tx.StoreGet(ctx, id, false)
		case promokit.PartyPartner:
			_, err = tx.PartnerGet(ctx, id)
		default:
			if id != "" {
				err = partyNotFound(id)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	settings, err := tx.SettingsGet(ctx)
	if err != nil {
		return nil, err
	}
	return settings.Location(), nil
}

// buildStatement puts the sums before and during the period together.
func buildStatement(q StatementQuery, loc *time.Location, before, during []storage.LedgerTotal) *Statement {
	type key struct{ currency, side, counterparty string }
	accounts := map[key]*Account{}
	kind := promokit.PartyKind(q.Party)
	get := func(t storage.LedgerTotal) *Account {
		k := key{t.Currency, t.Side, t.Counterparty}
		a := accounts[k]
		if a == nil {
			a = &Account{Account: promokit.Account(kind, t.Side, t.Counterparty), Side: t.Side, Counterparty: t.Counterparty,
				Movements: []Movement{}}
			accounts[k] = a
		}
		return a
	}
	for _, t := range before {
		a := get(t)
		a.Opening.add(t.Status, t.Amount)
		a.Closing.add(t.Status, t.Amount)
	}
	for _, t := range during {
		a := get(t)
		a.Movements = append(a.Movements, Movement{Program: t.Program, Status: t.Status, Kind: t.Kind, Amount: t.Amount,
			Entries: t.Entries})
		a.Closing.add(t.Status, t.Amount)
	}
	keys := slices.SortedFunc(maps.Keys(accounts), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.currency, b.currency), cmp.Compare(a.side, b.side), cmp.Compare(a.counterparty, b.counterparty))
	})
	out := &Statement{Party: q.Party, PartyKind: kind, Counterparty: q.Counterparty, TimeZone: loc.String(),
		From: q.From.In(loc), To: q.To.In(loc), Currencies: []CurrencyStatement{}}
	for _, k := range keys {
		a := accounts[k]
		slices.SortFunc(a.Movements, func(a, b Movement) int {
			return cmp.Or(cmp.Compare(a.Program, b.Program), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Kind, b.Kind))
		})
		if n := len(out.Currencies); n == 0 || out.Currencies[n-1].Currency != k.currency {
			out.Currencies = append(out.Currencies, CurrencyStatement{Currency: k.currency})
		}
		cs := &out.Currencies[len(out.Currencies)-1]
		cs.Accounts = append(cs.Accounts, *a)
	}
	return out
}

// ListEntries returns a page of the entries q selects, by id, with their
// times in the marketplace's time zone.
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
		loc, err := s.ledgerOwners(ctx, tx, q)
		if err != nil {
			return err
		}
		if out, err = tx.LedgerList(ctx, q.filter(), p); err != nil {
			return err
		}
		for _, e := range out {
			e.CreatedAt = e.CreatedAt.In(loc)
		}
		return nil
	})
	return out, err
}

// exportPage is how many entries one read of an export takes.
const exportPage = 5000

// ExportEntries streams every entry q selects, by id, to fn, a page of
// exportPage entries per read, so that an export of millions of entries
// holds one page in memory. The caller writes the times in the
// marketplace's time zone (Period gives it).
func (s *Service) ExportEntries(ctx context.Context, q StatementQuery, fn func(*promokit.LedgerEntry) error) error {
	if err := ledgerCaller(ctx, &q); err != nil {
		return err
	}
	f := q.filter()
	page := storage.IDPage{Limit: exportPage}
	for first := true; ; first = false {
		var es []*promokit.LedgerEntry
		err := s.read(ctx, func(tx storage.Tx) error {
			if first {
				if _, err := s.ledgerOwners(ctx, tx, q); err != nil {
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
