package storage

import (
	"context"
	"strconv"
	"time"

	"github.com/promokit/promokit"
)

// LedgerTx appends to and reads the ledger: what each party owes another.
type LedgerTx interface {
	// LedgerAddMany appends ledger entries and sets their IDs.
	LedgerAddMany(ctx context.Context, es []*promokit.LedgerEntry) error
	// LedgerListByOrder returns the entries of an order, by id.
	LedgerListByOrder(ctx context.Context, storeID, orderID string) ([]*promokit.LedgerEntry, error)
	// LedgerSum sums the entries that f selects by f.Party's side, the
	// counterparty's kind, currency, program, status and kind. It reads
	// the daily roll-ups (LedgerRollup) for the whole UTC days of f that
	// are rolled up (LedgerFilter.RolledDays) and the entries for the
	// rest; the amounts and counts are those of the entries.
	LedgerSum(ctx context.Context, f LedgerFilter) ([]LedgerTotal, error)
	// LedgerList returns at most p.Size() entries that f selects, by id,
	// after the id p.After.
	LedgerList(ctx context.Context, f LedgerFilter, p IDPage) ([]*promokit.LedgerEntry, error)
	// LedgerRollup adds to the daily roll-ups the entries created before
	// until (a UTC day start) that are not rolled up yet, at most maxDays
	// days of them, and returns the new rolled_until (zero when there is no
	// entry at all). Concurrent callers serialise on the roll-up's row.
	LedgerRollup(ctx context.Context, until time.Time, maxDays int) (time.Time, error)
}

// LedgerFilter selects ledger entries: those Party pays or is paid (it
// must be set), only those between it and Counterparty when that is set,
// created at or after From and before To when they are set.
type LedgerFilter struct {
	Party        string
	Counterparty string
	From         time.Time
	To           time.Time
}

// LedgerTotal is the sum of the entries of a filter's party on one side
// (promokit.SidePayer or SidePayee) with counterparties of one kind
// (promokit.PartyKind), in one currency, program, status and kind.
type LedgerTotal struct {
	Side         string
	Counterparty string
	Currency     string
	Program      string
	Status       string
	Kind         string
	Amount       int64
	Entries      int64
}

// PartyKindSQL returns an SQL expression, the same on both databases, of
// the kind of the party id in column: promokit.PartyKind in SQL, so that
// the sums group counterparties by kind in the database.
func PartyKindSQL(column string) string {
	prefix := func(p string) string {
		return "substr(" + column + ", 1, " + strconv.Itoa(len(p)+1) + ") = '" + p + "_'"
	}
	return "CASE WHEN " + column + " = '" + promokit.Marketplace + "' THEN '" + promokit.PartyMarketplace + "'" +
		" WHEN " + prefix(promokit.PrefixStore) + " THEN '" + promokit.PartyStore + "'" +
		" WHEN " + prefix(promokit.PrefixPartner) + " THEN '" + promokit.PartyPartner + "'" +
		" ELSE '' END"
}

// RolledDays returns the whole UTC days [from, to) that the roll-ups answer
// for f when every entry created before rolledUntil (a UTC day start) is
// rolled up: from is the first day start at or after f.From (zero when
// f.From is zero: every day before to), to the last day start at or before
// both f.To and rolledUntil. ok is false when no whole day is covered:
// nothing is rolled up (rolledUntil is zero), or from is not before to.
// The entries of f in [f.From, from) and [to, f.To) are summed one by one.
func (f LedgerFilter) RolledDays(rolledUntil time.Time) (from, to time.Time, ok bool) {
	if rolledUntil.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	end := rolledUntil
	if !f.To.IsZero() && f.To.Before(end) {
		end = f.To
	}
	to = utcDay(end)
	if !f.From.IsZero() {
		if from = utcDay(f.From); from.Before(f.From) {
			from = from.AddDate(0, 0, 1)
		}
		if !from.Before(to) {
			return time.Time{}, time.Time{}, false
		}
	}
	return from, to, true
}

// utcDay returns the start (0:00 UTC) of t's UTC day. Go's times count from
// 0:00 UTC, January 1 of year 1, so whole days from there are UTC days.
func utcDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
