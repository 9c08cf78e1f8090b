package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the affiliate program (migration 0007): memberships,
// rates, and the helpers of the program's queries.

const membershipColumns = `id, store_id, url, joined_at, exit_requested_at, exits_at`

// MembershipCreate inserts a store's membership; storage.ErrExists when its id
// exists, storage.ErrNotFound when the store does not.
func (t *tx) MembershipCreate(ctx context.Context, m *promokit.Membership) error {
	_, err := t.q.Exec(ctx, `INSERT INTO memberships (`+membershipColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		m.ID, m.StoreID, m.URL, m.JoinedAt, m.ExitRequestedAt, m.ExitsAt)
	if err != nil {
		return createErr(err, "membership", m.ID, "store", m.StoreID)
	}
	return nil
}

const latestMembershipSQL = `SELECT ` + membershipColumns + ` FROM memberships
	WHERE store_id = $1 ORDER BY joined_at DESC, id DESC LIMIT 1`

// MembershipGetLatest returns the store's latest membership. With lock it
// first locks the store's row (FOR UPDATE, as GetStore does) and then
// reads: both statements go in one round trip, and at READ COMMITTED the
// read takes its snapshot once the lock is held, so it sees the
// membership a writer that held the lock before has committed.
func (t *tx) MembershipGetLatest(ctx context.Context, storeID string, lock bool) (*promokit.Membership, error) {
	if !lock {
		m, err := scanMembership(t.q.QueryRow(ctx, latestMembershipSQL, storeID))
		if err != nil {
			return nil, scanErr(err, "membership of store", storeID)
		}
		return m, nil
	}
	var (
		b pgx.Batch
		m *promokit.Membership
	)
	b.Queue(`SELECT 1 FROM stores WHERE id = $1 FOR UPDATE`, storeID)
	b.Queue(latestMembershipSQL, storeID)
	err := t.sendBatch(ctx, &b, "latest membership", func(i int, br pgx.BatchResults) error {
		if i == 0 {
			_, err := br.Exec()
			return err
		}
		var err error
		if m, err = scanMembership(br.QueryRow()); err != nil {
			return scanErr(err, "membership of store", storeID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// MembershipSetExit records an exit request of a membership that has not
// asked to exit yet.
func (t *tx) MembershipSetExit(ctx context.Context, id string, requestedAt, exitsAt time.Time) error {
	tag, err := t.q.Exec(ctx, `UPDATE memberships SET exit_requested_at = $2, exits_at = $3
		WHERE id = $1 AND exit_requested_at IS NULL`, id, requestedAt, exitsAt)
	if err != nil {
		return fmt.Errorf("postgres: set exit of membership %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("membership without an exit", id)
	}
	return nil
}

func scanMembership(row pgx.Row) (*promokit.Membership, error) {
	var m promokit.Membership
	if err := row.Scan(&m.ID, &m.StoreID, &m.URL, &m.JoinedAt, &m.ExitRequestedAt, &m.ExitsAt); err != nil {
		return nil, err
	}
	return &m, nil
}

const rateColumns = `id, store_id, product_id, rate_bp, removed, effective_at`

// RateAdd inserts a rate and sets its ID; storage.ErrNotFound when the store
// does not exist.
func (t *tx) RateAdd(ctx context.Context, r *promokit.Rate) error {
	err := t.q.QueryRow(ctx, `INSERT INTO affiliate_rates (store_id, product_id, rate_bp, removed, effective_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, r.StoreID, r.ProductID, int64(r.Rate), r.Removed, r.EffectiveAt).Scan(&r.ID)
	if err != nil {
		return createErr(err, "rate of store", r.StoreID, "store", r.StoreID)
	}
	return nil
}

// RateListAt returns the rates in force at t of the general rate and of the
// products among productIDs, in one query: for each id, the index finds
// the latest row at or before t.
func (t *tx) RateListAt(ctx context.Context, storeID string, at time.Time, productIDs []string) ([]*promokit.Rate, error) {
	ids := distinct(append([]string{""}, productIDs...))
	return queryList(ctx, t.q, "rates", `SELECT r.id, r.store_id, r.product_id, r.rate_bp, r.removed, r.effective_at
		FROM unnest($2::text[]) AS p(id) CROSS JOIN LATERAL (
			SELECT `+rateColumns+` FROM affiliate_rates
			WHERE store_id = $1 AND product_id = p.id AND effective_at <= $3
			ORDER BY effective_at DESC, id DESC LIMIT 1) r
		ORDER BY r.product_id`, []any{storeID, ids, at}, scanRate)
}

// RateList returns a store's rates newest first, those below the id
// p.After when it is set.
func (t *tx) RateList(ctx context.Context, storeID string, p storage.IDPage) ([]*promokit.Rate, error) {
	before := p.After
	if before == 0 {
		before = maxID
	}
	return queryList(ctx, t.q, "rates", `SELECT `+rateColumns+` FROM affiliate_rates
		WHERE store_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, []any{storeID, before, p.Size()}, scanRate)
}

func scanRate(row pgx.Row) (*promokit.Rate, error) {
	var (
		r    promokit.Rate
		rate int64
	)
	if err := row.Scan(&r.ID, &r.StoreID, &r.ProductID, &rate, &r.Removed, &r.EffectiveAt); err != nil {
		return nil, err
	}
	r.Rate = promokit.BasisPoints(rate)
	return &r, nil
}

// maxID stands for "no upper bound" in queries on integer ids.
const maxID = int64(1<<63 - 1)

// distinct returns the values of all, in order and each once.
func distinct(all []string) []string {
	seen := make(map[string]bool, len(all))
	out := make([]string, 0, len(all))
	for _, s := range all {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
