package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the ledger of what each party owes another (migrations
// 0007 and 0014): entries are only ever appended. Their daily roll-ups
// (migrations 0008 and 0014) answer the statements for the days that have
// closed.

const entryColumns = `id, payer, payee, store_id, order_id, line, program, rule, status, kind, amount, currency, basis,
	rate_bp, rate_id, event_id, payout_id, created_at`

// LedgerAddMany appends ledger entries and sets their IDs, one prepared
// statement each.
func (t *tx) LedgerAddMany(ctx context.Context, es []*promokit.LedgerEntry) error {
	for _, e := range es {
		res, err := t.q.ExecContext(ctx, `INSERT INTO ledger_entries (payer, payee, store_id, order_id, line, program, rule,
			status, kind, amount, currency, basis, rate_bp, rate_id, event_id, payout_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Payer, e.Payee, e.StoreID, e.OrderID, e.Line, e.Program, e.Rule, e.Status, e.Kind,
			e.Amount, e.Currency, e.Basis, int64(e.Rate), e.RateID, e.EventID, e.PayoutID, micros(e.CreatedAt))
		if err != nil {
			return fmt.Errorf("sqlite: add ledger entry of order %q: %w", e.OrderID, err)
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlite: add ledger entry of order %q: %w", e.OrderID, err)
		}
	}
	return nil
}

// LedgerListByOrder returns the entries of an order, by id.
func (t *tx) LedgerListByOrder(ctx context.Context, storeID, orderID string) ([]*promokit.LedgerEntry, error) {
	return queryList(ctx, t, "ledger entries", `SELECT `+entryColumns+` FROM ledger_entries
		WHERE store_id = ? AND order_id = ? ORDER BY id`, []any{storeID, orderID}, scanEntry)
}

// LedgerSum sums the entries f selects by f.Party's side, the
// counterparty's kind, currency, program, status and kind. The whole UTC
// days that are rolled up (f.RolledDays) are summed from their rows of
// ledger_daily, by its primary key (what the party pays) and
// ledger_daily_payee (what it is paid); the entries before and after them
// from the covering indexes ledger_payer and ledger_payee alone. The
// roll-ups only ever gain days at or after rolled_until, so reading it in
// its own statement is safe while a roll-up commits.
func (t *tx) LedgerSum(ctx context.Context, f storage.LedgerFilter) ([]storage.LedgerTotal, error) {
	if f.Party == "" {
		return nil, errors.New("sqlite: a ledger filter needs a party")
	}
	rolled, err := t.rolledUntil(ctx)
	if err != nil {
		return nil, err
	}
	query, args := ledgerTotalsSQL(f, rolled)
	return queryList(ctx, t, "ledger totals", query, args, func(row scanner) (storage.LedgerTotal, error) {
		var s storage.LedgerTotal
		err := row.Scan(&s.Side, &s.Counterparty, &s.Currency, &s.Program, &s.Status, &s.Kind, &s.Amount, &s.Entries)
		return s, err
	})
}

// ledgerTotalsSQL returns the query of LedgerSum and its arguments: for
// each side of f.Party, the sums of the roll-ups of the days of f rolled
// up before rolled and of the entries of f outside those days, added up
// by side, counterparty kind, currency, program, status and kind. Each
// part groups by the counterparty itself, and only the outer query turns
// the few rows left into kinds, so that no entry's row computes one.
func ledgerTotalsSQL(f storage.LedgerFilter, rolled time.Time) (string, []any) {
	var (
		parts []string
		args  []any
	)
	sum := func(side partySide, table, entries, column string, from, to time.Time) {
		var w where
		cond, condArgs := side.cond("", f.Party, f.Counterparty)
		w.add(cond, condArgs...)
		if !from.IsZero() {
			w.add(column+" >= ?", micros(from))
		}
		if !to.IsZero() {
			w.add(column+" < ?", micros(to))
		}
		parts = append(parts, `SELECT '`+side.column+`' AS side, `+side.other+` AS other, currency, program, status, kind, sum(amount) AS amount, `+
			entries+` AS entries FROM `+table+w.String()+` GROUP BY `+side.other+`, currency, program, status, kind`)
		args = append(args, w.args...)
	}
	for _, side := range partySides {
		if from, to, ok := f.RolledDays(rolled); ok {
			sum(side, "ledger_daily", "sum(entries)", "day", from, to)
			if !f.From.IsZero() && f.From.Before(from) {
				sum(side, "ledger_entries", "count(*)", "created_at", f.From, from)
			}
			if f.To.IsZero() || to.Before(f.To) {
				sum(side, "ledger_entries", "count(*)", "created_at", to, f.To)
			}
		} else {
			sum(side, "ledger_entries", "count(*)", "created_at", f.From, f.To)
		}
	}
	return `SELECT side, ` + storage.PartyKindSQL("other") + ` AS cp, currency, program, status, kind, sum(amount), sum(entries) FROM (` +
		strings.Join(parts, " UNION ALL ") + `) GROUP BY side, cp, currency, program, status, kind
		ORDER BY side, cp, currency, program, status, kind`, args
}

// rolledUntil returns the roll-ups' rolled_until, zero when nothing is
// rolled up.
func (t *tx) rolledUntil(ctx context.Context) (time.Time, error) {
	var rolled sql.NullInt64
	err := t.q.QueryRowContext(ctx, `SELECT rolled_until FROM ledger_rollup WHERE id = 1`).Scan(&rolled)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("sqlite: read the ledger roll-up: %w", err)
	}
	if !rolled.Valid {
		return time.Time{}, nil
	}
	return fromMicros(rolled.Int64), nil
}

// microsPerDay is the length of a UTC day in microseconds.
const microsPerDay = 24 * 60 * 60 * 1_000_000

// rollupSQL sums the entries of [?, ?) by payer, UTC day, payee,
// currency, program, status and kind into new rows of ledger_daily,
// reading the range on ledger_created.
const rollupSQL = `INSERT INTO ledger_daily (payer, day, payee, currency, program, status, kind, amount, entries)
SELECT payer, created_at - created_at % 86400000000, payee, currency, program, status, kind, sum(amount), count(*)
FROM ledger_entries
WHERE created_at >= ? AND created_at < ?
GROUP BY payer, created_at - created_at % 86400000000, payee, currency, program, status, kind`

// LedgerRollup rolls up the entries of at most maxDays UTC days from
// rolled_until (the first time, from the day of the first entry) up to
// until, in one INSERT … SELECT, and moves rolled_until. Write
// transactions are serialised (BEGIN IMMEDIATE), so a concurrent roll-up
// starts where this one ended. The rows it inserts are new: no day at or
// after rolled_until was rolled up before.
func (t *tx) LedgerRollup(ctx context.Context, until time.Time, maxDays int) (time.Time, error) {
	until = until.UTC().Truncate(24 * time.Hour)
	start, err := t.rolledUntil(ctx)
	if err != nil {
		return time.Time{}, err
	}
	rolled := start
	if start.IsZero() {
		var first sql.NullInt64
		if err := t.q.QueryRowContext(ctx, `SELECT min(created_at) FROM ledger_entries`).Scan(&first); err != nil {
			return time.Time{}, fmt.Errorf("sqlite: roll up the ledger: %w", err)
		}
		if !first.Valid {
			return time.Time{}, nil
		}
		start = fromMicros(first.Int64 - first.Int64%microsPerDay)
	}
	end := start.AddDate(0, 0, max(maxDays, 1))
	if until.Before(end) {
		end = until
	}
	if !start.Before(end) {
		return rolled, nil
	}
	if _, err := t.q.ExecContext(ctx, rollupSQL, micros(start), micros(end)); err != nil {
		return time.Time{}, fmt.Errorf("sqlite: roll up the ledger from %s: %w", start.Format(time.DateOnly), err)
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO ledger_rollup (id, rolled_until) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET rolled_until = excluded.rolled_until`, micros(end)); err != nil {
		return time.Time{}, fmt.Errorf("sqlite: roll up the ledger: %w", err)
	}
	return end, nil
}

// LedgerList returns one page of the entries f selects, by id. The ids
// of the page are found first in ledger_payer and ledger_payee, a page on
// each, so that only the page's rows are read from the table. No entry has
// the same payer and payee, so the two sides never both hold one.
func (t *tx) LedgerList(ctx context.Context, f storage.LedgerFilter, p storage.IDPage) ([]*promokit.LedgerEntry, error) {
	if f.Party == "" {
		return nil, errors.New("sqlite: a ledger filter needs a party")
	}
	var (
		parts []string
		args  []any
	)
	for _, side := range partySides {
		var w where
		cond, condArgs := side.cond("", f.Party, f.Counterparty)
		w.add(cond, condArgs...)
		if !f.From.IsZero() {
			w.add("created_at >= ?", micros(f.From))
		}
		if !f.To.IsZero() {
			w.add("created_at < ?", micros(f.To))
		}
		w.add("id > ?", p.After)
		parts = append(parts, `SELECT id FROM (SELECT id FROM ledger_entries`+w.String()+` ORDER BY id LIMIT ?)`)
		args = append(args, append(w.args, p.Size())...)
	}
	return queryList(ctx, t, "ledger entries", `SELECT `+entryColumns+` FROM ledger_entries WHERE id IN (
		`+strings.Join(parts, " UNION ALL ")+` ORDER BY id LIMIT ?) ORDER BY id`, append(args, p.Size()), scanEntry)
}

func scanEntry(row scanner) (*promokit.LedgerEntry, error) {
	var (
		e       promokit.LedgerEntry
		rate    int64
		created int64
	)
	if err := row.Scan(&e.ID, &e.Payer, &e.Payee, &e.StoreID, &e.OrderID, &e.Line, &e.Program, &e.Rule, &e.Status, &e.Kind,
		&e.Amount, &e.Currency, &e.Basis, &rate, &e.RateID, &e.EventID, &e.PayoutID, &created); err != nil {
		return nil, err
	}
	e.Rate, e.CreatedAt = promokit.BasisPoints(rate), fromMicros(created)
	return &e, nil
}
