package sqlite

import (
	"context"
	"fmt"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// This file holds the ledger of what partners are owed (migration 0007):
// entries are only ever appended.

const entryColumns = `id, partner_id, store_id, order_id, line, program, status, kind, amount, currency, basis, rate_bp,
	rate_id, event_id, created_at`

// AddEntries appends ledger entries and sets their IDs, one prepared
// statement each.
func (t *tx) AddEntries(ctx context.Context, es []*promokit.LedgerEntry) error {
	for _, e := range es {
		res, err := t.q.ExecContext(ctx, `INSERT INTO ledger_entries (partner_id, store_id, order_id, line, program, status, kind,
			amount, currency, basis, rate_bp, rate_id, event_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.PartnerID, e.StoreID, e.OrderID, e.Line, e.Program, e.Status, e.Kind,
			e.Amount, e.Currency, e.Basis, int64(e.Rate), e.RateID, e.EventID, micros(e.CreatedAt))
		if err != nil {
			return fmt.Errorf("sqlite: add ledger entry of order %q: %w", e.OrderID, err)
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlite: add ledger entry of order %q: %w", e.OrderID, err)
		}
	}
	return nil
}

// OrderEntries returns the entries of an order, by id.
func (t *tx) OrderEntries(ctx context.Context, storeID, orderID string) ([]*promokit.LedgerEntry, error) {
	return queryList(ctx, t, "ledger entries", `SELECT `+entryColumns+` FROM ledger_entries
		WHERE store_id = ? AND order_id = ? ORDER BY id`, []any{storeID, orderID}, scanEntry)
}

// LedgerTotals sums the entries f selects by currency, status and kind,
// from the partner's or the store's covering index alone.
func (t *tx) LedgerTotals(ctx context.Context, f engine.LedgerFilter) ([]engine.LedgerTotal, error) {
	w, err := ledgerWhere(f)
	if err != nil {
		return nil, err
	}
	return queryList(ctx, t, "ledger totals", `SELECT currency, status, kind, sum(amount), count(*) FROM ledger_entries`+
		w.String()+` GROUP BY currency, status, kind ORDER BY currency, status, kind`, w.args,
		func(row scanner) (engine.LedgerTotal, error) {
			var s engine.LedgerTotal
			err := row.Scan(&s.Currency, &s.Status, &s.Kind, &s.Amount, &s.Entries)
			return s, err
		})
}

// ListEntries returns one page of the entries f selects, by id. The ids
// of the page are found first in the partner's or the store's index, so
// that only the page's rows are read from the table.
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
	return queryList(ctx, t, "ledger entries", `SELECT `+entryColumns+` FROM ledger_entries WHERE id IN (
		SELECT id FROM ledger_entries`+w.String()+` ORDER BY id LIMIT ?) ORDER BY id`, append(w.args, limit(p)), scanEntry)
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
		w.add("created_at >= ?", micros(f.From))
	}
	if !f.To.IsZero() {
		w.add("created_at < ?", micros(f.To))
	}
	return &w, nil
}

func scanEntry(row scanner) (*promokit.LedgerEntry, error) {
	var (
		e       promokit.LedgerEntry
		rate    int64
		created int64
	)
	if err := row.Scan(&e.ID, &e.PartnerID, &e.StoreID, &e.OrderID, &e.Line, &e.Program, &e.Status, &e.Kind, &e.Amount,
		&e.Currency, &e.Basis, &rate, &e.RateID, &e.EventID, &created); err != nil {
		return nil, err
	}
	e.Rate, e.CreatedAt = promokit.BasisPoints(rate), fromMicros(created)
	return &e, nil
}
