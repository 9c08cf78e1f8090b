package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// CreateStore inserts a store; EConflict when its id exists.
func (t *tx) CreateStore(ctx context.Context, s *promokit.Store) error {
	_, err := t.q.Exec(ctx, `
		INSERT INTO stores (id, name, partner_promo_codes, created_at) VALUES ($1, $2, $3, $4)`,
		s.ID, s.Name, s.PartnerPromoCodes, s.CreatedAt)
	if err != nil {
		return writeErr(err, "create", "store "+s.ID)
	}
	return nil
}

// GetStore returns a store; with lock it also locks the store's row (FOR
// UPDATE) until the transaction ends, which serialises the writes that
// check a per-store quota. ENotFound when there is none.
func (t *tx) GetStore(ctx context.Context, id string, lock bool) (*promokit.Store, error) {
	sql := `SELECT id, name, partner_promo_codes, created_at FROM stores WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	var s promokit.Store
	if err := t.q.QueryRow(ctx, sql, id).Scan(&s.ID, &s.Name, &s.PartnerPromoCodes, &s.CreatedAt); err != nil {
		return nil, scanErr(err, "store", id)
	}
	return &s, nil
}

// ListStores returns a page of stores ordered by id.
func (t *tx) ListStores(ctx context.Context, p engine.Page) ([]*promokit.Store, error) {
	rows, err := t.q.Query(ctx, `
		SELECT id, name, partner_promo_codes, created_at FROM stores
		WHERE id > $1 ORDER BY id LIMIT $2`, p.After, limit(p))
	if err != nil {
		return nil, fmt.Errorf("postgres: list stores: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*promokit.Store, error) {
		var s promokit.Store
		err := r.Scan(&s.ID, &s.Name, &s.PartnerPromoCodes, &s.CreatedAt)
		return &s, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list stores: %w", err)
	}
	return out, nil
}

// UpdateStore writes a store's name and P4 flag; ENotFound when there is
// no such store.
func (t *tx) UpdateStore(ctx context.Context, s *promokit.Store) error {
	tag, err := t.q.Exec(ctx, `UPDATE stores SET name = $2, partner_promo_codes = $3 WHERE id = $1`,
		s.ID, s.Name, s.PartnerPromoCodes)
	if err != nil {
		return fmt.Errorf("postgres: update store %q: %w", s.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("store", s.ID)
	}
	return nil
}

// CreatePartner inserts a partner; EConflict when its id exists.
func (t *tx) CreatePartner(ctx context.Context, p *promokit.Partner) error {
	_, err := t.q.Exec(ctx, `INSERT INTO partners (id, name, kind, created_at) VALUES ($1, $2, $3, $4)`,
		p.ID, p.Name, p.Kind, p.CreatedAt)
	if err != nil {
		return writeErr(err, "create", "partner "+p.ID)
	}
	return nil
}

// GetPartner returns a partner; ENotFound when there is none.
func (t *tx) GetPartner(ctx context.Context, id string) (*promokit.Partner, error) {
	var p promokit.Partner
	err := t.q.QueryRow(ctx, `SELECT id, name, kind, created_at FROM partners WHERE id = $1`, id).
		Scan(&p.ID, &p.Name, &p.Kind, &p.CreatedAt)
	if err != nil {
		return nil, scanErr(err, "partner", id)
	}
	return &p, nil
}

// ListPartners returns a page of partners ordered by id.
func (t *tx) ListPartners(ctx context.Context, p engine.Page) ([]*promokit.Partner, error) {
	rows, err := t.q.Query(ctx, `
		SELECT id, name, kind, created_at FROM partners
		WHERE id > $1 ORDER BY id LIMIT $2`, p.After, limit(p))
	if err != nil {
		return nil, fmt.Errorf("postgres: list partners: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*promokit.Partner, error) {
		var p promokit.Partner
		err := r.Scan(&p.ID, &p.Name, &p.Kind, &p.CreatedAt)
		return &p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list partners: %w", err)
	}
	return out, nil
}

// PutProduct inserts a product or replaces the name, URL and updated_at of
// an existing one. The first created_at is kept, and p.CreatedAt is set to it.
func (t *tx) PutProduct(ctx context.Context, p *promokit.Product) error {
	err := t.q.QueryRow(ctx, `
		INSERT INTO products (store_id, id, name, url, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (store_id, id) DO UPDATE
		SET name = excluded.name, url = excluded.url, updated_at = excluded.updated_at
		RETURNING created_at`,
		p.StoreID, p.ID, p.Name, p.URL, p.CreatedAt, p.UpdatedAt).Scan(&p.CreatedAt)
	if err != nil {
		return fmt.Errorf("postgres: put product %q of store %q: %w", p.ID, p.StoreID, err)
	}
	return nil
}

// GetProduct returns a product of a store; ENotFound when there is none.
func (t *tx) GetProduct(ctx context.Context, storeID, id string) (*promokit.Product, error) {
	var p promokit.Product
	err := t.q.QueryRow(ctx, `
		SELECT store_id, id, name, url, created_at, updated_at
		FROM products WHERE store_id = $1 AND id = $2`, storeID, id).
		Scan(&p.StoreID, &p.ID, &p.Name, &p.URL, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return nil, scanErr(err, "product", id)
	}
	return &p, nil
}

// ListProducts returns a page of a store's products ordered by id.
func (t *tx) ListProducts(ctx context.Context, storeID string, p engine.Page) ([]*promokit.Product, error) {
	rows, err := t.q.Query(ctx, `
		SELECT store_id, id, name, url, created_at, updated_at FROM products
		WHERE store_id = $1 AND id > $2 ORDER BY id LIMIT $3`, storeID, p.After, limit(p))
	if err != nil {
		return nil, fmt.Errorf("postgres: list products of store %q: %w", storeID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*promokit.Product, error) {
		var p promokit.Product
		err := r.Scan(&p.StoreID, &p.ID, &p.Name, &p.URL, &p.CreatedAt, &p.UpdatedAt)
		return &p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list products of store %q: %w", storeID, err)
	}
	return out, nil
}

// MissingProducts returns, in the order given and once each, the ids among
// ids that are not products of the store.
func (t *tx) MissingProducts(ctx context.Context, storeID string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := t.q.Query(ctx, `
		SELECT x.id FROM unnest($2::text[]) WITH ORDINALITY AS x (id, n)
		WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.store_id = $1 AND p.id = x.id)
		GROUP BY x.id ORDER BY min(x.n)`, storeID, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: missing products of store %q: %w", storeID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: missing products of store %q: %w", storeID, err)
	}
	return out, nil
}
