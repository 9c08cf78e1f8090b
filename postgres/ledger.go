package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// This file holds the ledger of what partners are owed (migration 0007):
// entries are only ever appended.

const entryColumns = `id, partner_id, store_id, order_id, line, program, status, kind, amount, currency, basis, rate_bp,
	rate_id, event_id, created_at`

// AddEntries appends ledger entries in one statement, their columns
// travelling as arrays, and sets their IDs. As InsertClicks does, it
// inserts the rows in the order of es and hands out the ids sorted.
func (t *tx) AddEntries(ctx context.Context, es []*promokit.LedgerEntry) error {
	if len(es) == 0 {
		return nil
	}
	n := len(es)
	var (
		partners, stores, orders = make([]string, n), make([]string, n), make([]string, n)
		programs, statuses       = make([]string, n), make([]string, n)
		kinds, currencies, evts  = make([]string, n), make([]string, n), make([]string, n)
		lines                    = make([]int32, n)
		amounts, bases           = make([]int64, n), make([]int64, n)
		rates, rateIDs           = make([]int64, n), make([]int64, n)
		times                    = make([]time.Time, n)
	)
	for i, e := range es {
		partners[i], stores[i], orders[i], lines[i] = e.PartnerID, e.StoreID, e.OrderID, int32(e.Line)
		programs[i], statuses[i], kinds[i] = e.Program, e.Status, e.Kind
		amounts[i], currencies[i], bases[i], rates[i], rateIDs[i] = e.Amount, e.Currency, e.Basis, int64(e.Rate), e.RateID
		evts[i], times[i] = e.EventID, e.CreatedAt
	}
	rows, err := t.q.Query(ctx, `INSERT INTO ledger_entries (partner_id, store_id, order_id, line, program, status, kind,
			amount, currency, basis, rate_bp, rate_id, event_id, created_at)
		SELECT partner_id, store_id, order_id, line, program, status, kind, amount, currency, basis, rate_bp, rate_id, event_id, created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[],
				$8::bigint[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::timestamptz[])
			WITH ORDINALITY AS e(partner_id, store_id, order_id, line, program, status, kind,
				amount, currency, basis, rate_bp, rate_id, event_id, created_at, n)
		ORDER BY n
		RETURNING id`,
		partners, stores, orders, lines, programs, statuses, kinds, amounts, currencies, bases, rates, rateIDs, evts, times)
	if err != nil {
		return fmt.Errorf("postgres: add ledger entries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("postgres: add ledger entries: %w", err)
	}
	if len(ids) != n {
		return fmt.Errorf("postgres: add ledger entries: %d ids for %d entries", len(ids), n)
	}
	slices.Sort(ids)
	for i, e := range es {
		e.ID = ids[i]
	}
	return nil
}

// OrderEntries returns the entries of an order, by id.
func (t *tx) OrderEntries(ctx context.Context, storeID, orderID string) ([]*promokit.LedgerEntry, error) {
	return queryList(ctx, t.q, "ledger entries", `SELECT `+entryColumns+` FROM ledger_entries
		WHERE store_id = $1 AND order_id = $2 ORDER BY id`, []any{storeID, orderID}, scanEntry)
}

// LedgerTotals sums the entries f selects by currency, status and kind:
// an index-only scan of the partner's or the store's index, whose INCLUDE
// columns hold all the sums need (migration 0007).
func (t *tx) LedgerTotals(ctx context.Context, f engine.LedgerFilter) ([]engine.LedgerTotal, error) {
	w, err := ledgerWhere(f)
	if err != nil {
		return nil, err
	}
	return queryList(ctx, t.q, "ledger totals", `SELECT currency, status, kind, sum(amount)::bigint, count(*) FROM ledger_entries`+
		w.sql()+` GROUP BY currency, status, kind ORDER BY currency, status, kind`, w.args,
		func(row pgx.Row) (engine.LedgerTotal, error) {
			var s engine.LedgerTotal
			err := row.Scan(&s.Currency, &s.Status, &s.Kind, &s.Amount, &s.Entries)
			return s, err
		})
}

// ListEntries returns one page of the entries f selects, by id. The ids
// of the page are found first by an index-only scan of the partner's or
// the store's index, so that only the page's rows are read from the
// table.
func (t *tx) ListEntries(ctx context.Context, f engine.LedgerFilter, p engine.Page) ([]*promokit.LedgerEntry, error) {
	w, err := ledgerWhere(f)
	if err != nil {
		return nil, err
	}
	after, err := parseAfter(p.After)
	if err != nil {
		return nil, err
	}
	w.add("id > ?", after)
	return queryList(ctx, t.q, "ledger entries", `SELECT `+entryColumns+` FROM ledger_entries WHERE id IN (
		SELECT id FROM ledger_entries`+w.sql()+` ORDER BY id LIMIT `+w.arg(limit(p))+`) ORDER BY id`, w.args, scanEntry)
}

// ledgerWhere returns the conditions of a ledger filter.
func ledgerWhere(f engine.LedgerFilter) (*where, error) {
	if f.PartnerID == "" && f.StoreID == "" {
		return nil, promokit.Errorf(promokit.EInvalid, "a ledger filter needs a partner or a store")
	}
	var w where
	if f.PartnerID != "" {
		w.add("partner_id = ?", f.PartnerID)
	}
	if f.StoreID != "" {
		w.add("store_id = ?", f.StoreID)
	}
	if !f.From.IsZero() {
		w.add("created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		w.add("created_at < ?", f.To)
	}
	return &w, nil
}

func scanEntry(row pgx.Row) (*promokit.LedgerEntry, error) {
	var (
		e    promokit.LedgerEntry
		line int32
		rate int64
	)
	if err := row.Scan(&e.ID, &e.PartnerID, &e.StoreID, &e.OrderID, &line, &e.Program, &e.Status, &e.Kind, &e.Amount,
		&e.Currency, &e.Basis, &rate, &e.RateID, &e.EventID, &e.CreatedAt); err != nil {
		return nil, err
	}
	e.Line, e.Rate = int(line), promokit.BasisPoints(rate)
	return &e, nil
}
