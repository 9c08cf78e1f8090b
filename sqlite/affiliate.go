package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the affiliate program (migration 0007): memberships,
// rates, and the helpers of the program's queries.

const membershipColumns = `id, store_id, url, joined_at, exit_requested_at, exits_at`

// MembershipCreate inserts a store's membership; storage.ErrExists when its id
// exists, storage.ErrNotFound when the store does not.
func (t *tx) MembershipCreate(ctx context.Context, m *promokit.Membership) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO memberships (`+membershipColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		m.ID, m.StoreID, m.URL, micros(m.JoinedAt), nullMicros(m.ExitRequestedAt), nullMicros(m.ExitsAt))
	if err != nil {
		switch constraintViolation(err) {
		case uniqueViolation:
			return storage.Exists("membership", m.ID)
		case foreignKeyViolation:
			return notFound("store", m.StoreID)
		}
		return fmt.Errorf("sqlite: create membership %q: %w", m.ID, err)
	}
	return nil
}

// MembershipGetLatest returns the store's latest membership. lock needs no
// work on SQLite: a write transaction already holds the only write lock.
func (t *tx) MembershipGetLatest(ctx context.Context, storeID string, lock bool) (*promokit.Membership, error) {
	m, err := scanMembership(t.q.QueryRowContext(ctx, `SELECT `+membershipColumns+` FROM memberships
		WHERE store_id = ? ORDER BY joined_at DESC, id DESC LIMIT 1`, storeID))
	if err != nil {
		return nil, noRows(err, "membership of store", storeID)
	}
	return m, nil
}

// MembershipSetExit records an exit request of a membership that has not
// asked to exit yet.
func (t *tx) MembershipSetExit(ctx context.Context, id string, requestedAt, exitsAt time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE memberships SET exit_requested_at = ?, exits_at = ?
		WHERE id = ? AND exit_requested_at IS NULL`, micros(requestedAt), micros(exitsAt), id)
	if err != nil {
		return fmt.Errorf("sqlite: set exit of membership %q: %w", id, err)
	}
	return mustAffect(res, "membership without an exit", id)
}

func scanMembership(row scanner) (*promokit.Membership, error) {
	var (
		m               promokit.Membership
		joined          int64
		requested, exit sql.NullInt64
	)
	if err := row.Scan(&m.ID, &m.StoreID, &m.URL, &joined, &requested, &exit); err != nil {
		return nil, err
	}
	m.JoinedAt = fromMicros(joined)
	m.ExitRequestedAt, m.ExitsAt = timePtr(requested), timePtr(exit)
	return &m, nil
}

const rateColumns = `id, store_id, product_id, rate_bp, removed, effective_at`

// RateAdd inserts a rate and sets its ID; storage.ErrNotFound when the store
// does not exist.
func (t *tx) RateAdd(ctx context.Context, r *promokit.Rate) error {
	res, err := t.q.ExecContext(ctx, `INSERT INTO affiliate_rates (store_id, product_id, rate_bp, removed, effective_at)
		VALUES (?, ?, ?, ?, ?)`, r.StoreID, r.ProductID, int64(r.Rate), boolInt(r.Removed), micros(r.EffectiveAt))
	if err != nil {
		if constraintViolation(err) == foreignKeyViolation {
			return notFound("store", r.StoreID)
		}
		return fmt.Errorf("sqlite: add rate of store %q: %w", r.StoreID, err)
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: add rate of store %q: %w", r.StoreID, err)
	}
	return nil
}

// RateListAt returns the rates in force at t of the general rate and of the
// products among productIDs, in one query: for each id of the JSON array,
// the index finds the latest row at or before t.
func (t *tx) RateListAt(ctx context.Context, storeID string, at time.Time, productIDs []string) ([]*promokit.Rate, error) {
	ids := distinct(append([]string{""}, productIDs...))
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode product ids: %w", err)
	}
	return queryList(ctx, t, "rates", `SELECT r.id, r.store_id, r.product_id, r.rate_bp, r.removed, r.effective_at
		FROM json_each(?1) p JOIN affiliate_rates r ON r.id = (
			SELECT x.id FROM affiliate_rates x
			WHERE x.store_id = ?2 AND x.product_id = p.value AND x.effective_at <= ?3
			ORDER BY x.effective_at DESC, x.id DESC LIMIT 1)
		ORDER BY r.product_id`, []any{string(list), storeID, micros(at)}, scanRate)
}

// RateList returns a store's rates newest first, those below the id
// p.After when it is set.
func (t *tx) RateList(ctx context.Context, storeID string, p storage.IDPage) ([]*promokit.Rate, error) {
	before := p.After
	if before == 0 {
		before = maxID
	}
	return queryList(ctx, t, "rates", `SELECT `+rateColumns+` FROM affiliate_rates
		WHERE store_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, []any{storeID, before, p.Size()}, scanRate)
}

func scanRate(row scanner) (*promokit.Rate, error) {
	var (
		r         promokit.Rate
		rate      int64
		effective int64
	)
	if err := row.Scan(&r.ID, &r.StoreID, &r.ProductID, &rate, &r.Removed, &effective); err != nil {
		return nil, err
	}
	r.Rate, r.EffectiveAt = promokit.BasisPoints(rate), fromMicros(effective)
	return &r, nil
}

// maxID stands for "no upper bound" in queries on integer ids.
const maxID = int64(1<<63 - 1)

// distinct returns the values of all, in order and each once.
func distinct(all []string) []string {
	return subtract(all, nil)
}
