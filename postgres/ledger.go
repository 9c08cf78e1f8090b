package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the ledger of what each party owes another (migrations
// 0007 and 0014): entries are only ever appended. Their daily roll-ups
// (migrations 0008 and 0014) answer the statements for the days that have
// closed.

const entryColumns = `id, payer, payee, store_id, order_id, line, program, rule, status, kind, amount, currency, basis,
	rate_bp, rate_id, event_id, payout_id, created_at`

// LedgerAddMany appends ledger entries in one statement, their columns
// travelling as arrays, and sets their IDs. As ClickInsertMany does, it
// inserts the rows in the order of es and hands out the ids sorted.
func (t *tx) LedgerAddMany(ctx context.Context, es []*promokit.LedgerEntry) error {
	if len(es) == 0 {
		return nil
	}
	sql, args := insertEntries(es)
	rows, err := t.q.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("postgres: add ledger entries: %w", err)
	}
	return setEntryIDs(rows, es)
}

// insertEntries returns the statement that inserts es and returns their
// ids, and its arguments.
func insertEntries(es []*promokit.LedgerEntry) (string, []any) {
	n := len(es)
	var (
		payers, payees, stores   = make([]string, n), make([]string, n), make([]string, n)
		orders, programs, rules  = make([]string, n), make([]string, n), make([]string, n)
		statuses, kinds          = make([]string, n), make([]string, n)
		currencies, evts, payout = make([]string, n), make([]string, n), make([]string, n)
		lines                    = make([]int32, n)
		amounts, bases           = make([]int64, n), make([]int64, n)
		rates, rateIDs           = make([]int64, n), make([]int64, n)
		times                    = make([]time.Time, n)
	)
	for i, e := range es {
		payers[i], payees[i], stores[i], orders[i], lines[i] = e.Payer, e.Payee, e.StoreID, e.OrderID, int32(e.Line)
		programs[i], rules[i], statuses[i], kinds[i] = e.Program, e.Rule, e.Status, e.Kind
		amounts[i], currencies[i], bases[i], rates[i], rateIDs[i] = e.Amount, e.Currency, e.Basis, int64(e.Rate), e.RateID
		evts[i], payout[i], times[i] = e.EventID, e.PayoutID, e.CreatedAt
	}
	return `INSERT INTO ledger_entries (payer, payee, store_id, order_id, line, program, rule, status, kind,
			amount, currency, basis, rate_bp, rate_id, event_id, payout_id, created_at)
		SELECT payer, payee, store_id, order_id, line, program, rule, status, kind, amount, currency, basis, rate_bp, rate_id,
			event_id, payout_id, created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::text[], $8::text[],
				$9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::bigint[], $14::bigint[], $15::text[], $16::text[],
				$17::timestamptz[])
			WITH ORDINALITY AS e(payer, payee, store_id, order_id, line, program, rule, status, kind,
				amount, currency, basis, rate_bp, rate_id, event_id, payout_id, created_at, n)
		ORDER BY n
		RETURNING id`,
		[]any{payers, payees, stores, orders, lines, programs, rules, statuses, kinds, amounts, currencies, bases, rates,
			rateIDs, evts, payout, times}
}

// setEntryIDs reads the ids insertEntries returns into es.
func setEntryIDs(rows pgx.Rows, es []*promokit.LedgerEntry) error {
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("postgres: add ledger entries: %w", err)
	}
	if len(ids) != len(es) {
		return fmt.Errorf("postgres: add ledger entries: %d ids for %d entries", len(ids), len(es))
	}
	slices.Sort(ids)
	for i, e := range es {
		e.ID = ids[i]
	}
	return nil
}

// LedgerListByOrder returns the entries of an order, by id.
func (t *tx) LedgerListByOrder(ctx context.Context, storeID, orderID string) ([]*promokit.LedgerEntry, error) {
	return queryList(ctx, t.q, "ledger entries", `SELECT `+entryColumns+` FROM ledger_entries
		WHERE store_id = $1 AND order_id = $2 ORDER BY id`, []any{storeID, orderID}, scanEntry)
}

// LedgerSum sums the entries f selects by f.Party's side, the
// counterparty's kind, currency, program, status and kind. The whole UTC
// days that are rolled up (f.RolledDays) are summed from their rows of
// ledger_daily, read by the primary key (what the party pays) or
// ledger_daily_payee (what it is paid); the entries before and after them
// by index-only scans of ledger_payer and ledger_payee, whose INCLUDE
// columns hold all the sums need (migration 0014). A month of a million
// entries thus reads a few rows per day. The roll-ups only ever gain days
// at or after rolled_until, so reading it in its own statement is safe
// while a roll-up commits.
func (t *tx) LedgerSum(ctx context.Context, f storage.LedgerFilter) ([]storage.LedgerTotal, error) {
	if f.Party == "" {
		return nil, errors.New("postgres: a ledger filter needs a party")
	}
	rolled, err := t.rolledUntil(ctx, false)
	if err != nil {
		return nil, err
	}
	query, args := ledgerTotalsSQL(f, rolled)
	return queryList(ctx, t.q, "ledger totals", query, args, func(row pgx.Row) (storage.LedgerTotal, error) {
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
		w     where
		parts []string
	)
	party := w.arg(f.Party)
	var counterparty string
	if f.Counterparty != "" {
		counterparty = w.arg(f.Counterparty)
	}
	sum := func(side partySide, table, entries, column string, from, to time.Time) {
		conds := []string{side.cond("", party, counterparty)}
		if !from.IsZero() {
			conds = append(conds, column+" >= "+w.arg(from))
		}
		if !to.IsZero() {
			conds = append(conds, column+" < "+w.arg(to))
		}
		parts = append(parts, `SELECT '`+side.column+`' AS side, `+side.other+` AS other, currency, program, status, kind,
			sum(amount) AS amount, `+entries+` AS entries FROM `+table+` WHERE `+strings.Join(conds, " AND ")+
			` GROUP BY `+side.other+`, currency, program, status, kind`)
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
	return `SELECT side, ` + storage.PartyKindSQL("other") + ` AS cp, currency, program, status, kind, sum(amount)::bigint,
		sum(entries)::bigint FROM (` + strings.Join(parts, " UNION ALL ") + `) t GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`, w.args
}

// rolledUntil returns the roll-ups' rolled_until, zero when nothing is
// rolled up. With lock it first creates the roll-up's row if needed and
// locks it until the transaction ends, which serialises roll-ups.
func (t *tx) rolledUntil(ctx context.Context, lock bool) (time.Time, error) {
	query := `SELECT rolled_until FROM ledger_rollup WHERE id = 1`
	if lock {
		if _, err := t.q.Exec(ctx, `INSERT INTO ledger_rollup (id) VALUES (1) ON CONFLICT (id) DO NOTHING`); err != nil {
			return time.Time{}, fmt.Errorf("postgres: lock the ledger roll-up: %w", err)
		}
		query += ` FOR UPDATE`
	}
	var rolled *time.Time
	err := t.q.QueryRow(ctx, query).Scan(&rolled)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("postgres: read the ledger roll-up: %w", err)
	}
	if rolled == nil {
		return time.Time{}, nil
	}
	return *rolled, nil
}

// rollupSQL sums the entries of [$1, $2) by payer, UTC day, payee,
// currency, program, status and kind into new rows of ledger_daily,
// reading the range on ledger_created. date_bin counts whole days from the
// epoch in absolute time, whatever the session's time zone.
const rollupSQL = `INSERT INTO ledger_daily (payer, day, payee, currency, program, status, kind, amount, entries)
SELECT payer, date_bin('1 day', created_at, timestamptz '1970-01-01 00:00:00+00'), payee, currency, program, status, kind,
       sum(amount), count(*)
FROM ledger_entries
WHERE created_at >= $1 AND created_at < $2
GROUP BY 1, 2, 3, 4, 5, 6, 7`

// LedgerRollup rolls up the entries of at most maxDays UTC days from
// rolled_until (the first time, from the day of the first entry) up to
// until, in one INSERT … SELECT, and moves rolled_until. The roll-up's row
// is locked first (FOR UPDATE), so a concurrent roll-up waits and then
// starts where this one ended. The rows it inserts are new: no day at or
// after rolled_until was rolled up before.
func (t *tx) LedgerRollup(ctx context.Context, until time.Time, maxDays int) (time.Time, error) {
	until = until.UTC().Truncate(24 * time.Hour)
	start, err := t.rolledUntil(ctx, true)
	if err != nil {
		return time.Time{}, err
	}
	rolled := start
	if start.IsZero() {
		var first *time.Time
		if err := t.q.QueryRow(ctx, `SELECT min(created_at) FROM ledger_entries`).Scan(&first); err != nil {
			return time.Time{}, fmt.Errorf("postgres: roll up the ledger: %w", err)
		}
		if first == nil {
			return time.Time{}, nil
		}
		start = first.UTC().Truncate(24 * time.Hour)
	}
	end := start.AddDate(0, 0, max(maxDays, 1))
	if until.Before(end) {
		end = until
	}
	if !start.Before(end) {
		return rolled, nil
	}
	if _, err := t.q.Exec(ctx, rollupSQL, start, end); err != nil {
		return time.Time{}, fmt.Errorf("postgres: roll up the ledger from %s: %w", start.Format(time.DateOnly), err)
	}
	if _, err := t.q.Exec(ctx, `UPDATE ledger_rollup SET rolled_until = $1 WHERE id = 1`, end); err != nil {
		return time.Time{}, fmt.Errorf("postgres: roll up the ledger: %w", err)
	}
	return end, nil
}

// LedgerList returns one page of the entries f selects, by id. The ids
// of the page are found first by index-only scans of ledger_payer and
// ledger_payee, a page on each, so that only the page's rows are read from
// the table. No entry has the same payer and payee, so the two sides never
// both hold one.
func (t *tx) LedgerList(ctx context.Context, f storage.LedgerFilter, p storage.IDPage) ([]*promokit.LedgerEntry, error) {
	if f.Party == "" {
		return nil, errors.New("postgres: a ledger filter needs a party")
	}
	var (
		w     where
		parts []string
	)
	party, after, size := w.arg(f.Party), w.arg(p.After), w.arg(p.Size())
	var counterparty, from, to string
	if f.Counterparty != "" {
		counterparty = w.arg(f.Counterparty)
	}
	if !f.From.IsZero() {
		from = w.arg(f.From)
	}
	if !f.To.IsZero() {
		to = w.arg(f.To)
	}
	for _, side := range partySides {
		conds := []string{side.cond("", party, counterparty), "id > " + after}
		if from != "" {
			conds = append(conds, "created_at >= "+from)
		}
		if to != "" {
			conds = append(conds, "created_at < "+to)
		}
		parts = append(parts, `(SELECT id FROM ledger_entries WHERE `+strings.Join(conds, " AND ")+` ORDER BY id LIMIT `+size+`)`)
	}
	return queryList(ctx, t.q, "ledger entries", `SELECT `+entryColumns+` FROM ledger_entries WHERE id IN (
		SELECT id FROM (`+strings.Join(parts, " UNION ALL ")+`) t ORDER BY id LIMIT `+size+`) ORDER BY id`, w.args, scanEntry)
}

func scanEntry(row pgx.Row) (*promokit.LedgerEntry, error) {
	var (
		e    promokit.LedgerEntry
		line int32
		rate int64
	)
	if err := row.Scan(&e.ID, &e.Payer, &e.Payee, &e.StoreID, &e.OrderID, &line, &e.Program, &e.Rule, &e.Status, &e.Kind,
		&e.Amount, &e.Currency, &e.Basis, &rate, &e.RateID, &e.EventID, &e.PayoutID, &e.CreatedAt); err != nil {
		return nil, err
	}
	e.Line, e.Rate = int(line), promokit.BasisPoints(rate)
	return &e, nil
}
