package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the accounts of the marketplace: stores, partners and
// the stores' products.

const storeColumns = `id, name, partner_promo_codes, created_at, max_promotions_per_order, redirect_hosts`

// scanStore reads one row of storeColumns.
func scanStore(row pgx.Row) (*promokit.Store, error) {
	var s promokit.Store
	if err := row.Scan(&s.ID, &s.Name, &s.PartnerPromoCodes, &s.CreatedAt, &s.MaxPromotionsPerOrder, &s.RedirectHosts); err != nil {
		return nil, err
	}
	if s.RedirectHosts == nil {
		s.RedirectHosts = []string{}
	}
	return &s, nil
}

// StoreCreate inserts a store; storage.ErrExists when its id exists.
func (t *tx) StoreCreate(ctx context.Context, s *promokit.Store) error {
	_, err := t.q.Exec(ctx, `INSERT INTO stores (`+storeColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.ID, s.Name, s.PartnerPromoCodes, s.CreatedAt, s.MaxPromotionsPerOrder, emptyIfNil(s.RedirectHosts))
	if err != nil {
		return createErr(err, "store", s.ID, "", "")
	}
	return nil
}

// StoreGet returns a store; with lock it also locks the store's row (FOR
// UPDATE) until the transaction ends, which serialises the writes that
// check a per-store quota. storage.ErrNotFound when there is none.
func (t *tx) StoreGet(ctx context.Context, id string, lock bool) (*promokit.Store, error) {
	sql := `SELECT ` + storeColumns + ` FROM stores WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	s, err := scanStore(t.q.QueryRow(ctx, sql, id))
	if err != nil {
		return nil, scanErr(err, "store", id)
	}
	return s, nil
}

// StoreList returns a page of stores ordered by id.
func (t *tx) StoreList(ctx context.Context, p storage.Page) ([]*promokit.Store, error) {
	return queryList(ctx, t.q, "stores", `SELECT `+storeColumns+` FROM stores WHERE id > $1 ORDER BY id LIMIT $2`,
		[]any{p.After, p.Size()}, scanStore)
}

// StoreUpdate writes a store's name, P4 flag, stacking rule and redirect
// hosts; storage.ErrNotFound when there is no such store.
func (t *tx) StoreUpdate(ctx context.Context, s *promokit.Store) error {
	tag, err := t.q.Exec(ctx, `UPDATE stores SET name = $2, partner_promo_codes = $3, max_promotions_per_order = $4, redirect_hosts = $5
		WHERE id = $1`, s.ID, s.Name, s.PartnerPromoCodes, s.MaxPromotionsPerOrder, emptyIfNil(s.RedirectHosts))
	if err != nil {
		return fmt.Errorf("postgres: update store %q: %w", s.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("store", s.ID)
	}
	return nil
}

const partnerColumns = `id, name, kind, created_at`

// scanPartner reads one row of partnerColumns.
func scanPartner(row pgx.Row) (*promokit.Partner, error) {
	var p promokit.Partner
	if err := row.Scan(&p.ID, &p.Name, &p.Kind, &p.CreatedAt); err != nil {
		return nil, err
	}
	return &p, nil
}

// PartnerCreate inserts a partner; storage.ErrExists when its id exists.
func (t *tx) PartnerCreate(ctx context.Context, p *promokit.Partner) error {
	_, err := t.q.Exec(ctx, `INSERT INTO partners (`+partnerColumns+`) VALUES ($1, $2, $3, $4)`,
		p.ID, p.Name, p.Kind, p.CreatedAt)
	if err != nil {
		return createErr(err, "partner", p.ID, "", "")
	}
	return nil
}

// PartnerGet returns a partner; storage.ErrNotFound when there is none.
func (t *tx) PartnerGet(ctx context.Context, id string) (*promokit.Partner, error) {
	p, err := scanPartner(t.q.QueryRow(ctx, `SELECT `+partnerColumns+` FROM partners WHERE id = $1`, id))
	if err != nil {
		return nil, scanErr(err, "partner", id)
	}
	return p, nil
}

// PartnerList returns a page of partners ordered by id.
func (t *tx) PartnerList(ctx context.Context, p storage.Page) ([]*promokit.Partner, error) {
	return queryList(ctx, t.q, "partners", `SELECT `+partnerColumns+` FROM partners WHERE id > $1 ORDER BY id LIMIT $2`,
		[]any{p.After, p.Size()}, scanPartner)
}

const productColumns = `store_id, id, name, url, created_at, updated_at`

// scanProduct reads one row of productColumns.
func scanProduct(row pgx.Row) (*promokit.Product, error) {
	var p promokit.Product
	if err := row.Scan(&p.StoreID, &p.ID, &p.Name, &p.URL, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	return &p, nil
}

// ProductPut inserts a product of a store, or replaces the name, URL and
// updated_at of the existing one; created_at keeps its first value.
// storage.ErrNotFound when the store does not exist.
func (t *tx) ProductPut(ctx context.Context, p *promokit.Product) error {
	_, err := t.q.Exec(ctx, `INSERT INTO products (`+productColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (store_id, id) DO UPDATE
		SET name = excluded.name, url = excluded.url, updated_at = excluded.updated_at`,
		p.StoreID, p.ID, p.Name, p.URL, p.CreatedAt, p.UpdatedAt)
	if err != nil {
		return createErr(err, "product", p.ID, "store", p.StoreID)
	}
	return nil
}

// ProductGet returns a product of a store; storage.ErrNotFound when the store
// has no such product.
func (t *tx) ProductGet(ctx context.Context, storeID, id string) (*promokit.Product, error) {
	p, err := scanProduct(t.q.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE store_id = $1 AND id = $2`, storeID, id))
	if err != nil {
		return nil, scanErr(err, "product", id)
	}
	return p, nil
}

// ProductList returns a page of a store's products ordered by id.
func (t *tx) ProductList(ctx context.Context, storeID string, p storage.Page) ([]*promokit.Product, error) {
	return queryList(ctx, t.q, "products",
		`SELECT `+productColumns+` FROM products WHERE store_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		[]any{storeID, p.After, p.Size()}, scanProduct)
}

// ProductMissing returns the ids among ids, in their order and each once,
// that are not products of the store.
func (t *tx) ProductMissing(ctx context.Context, storeID string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return queryList(ctx, t.q, "missing products", `
		SELECT x.id FROM unnest($2::text[]) WITH ORDINALITY AS x (id, n)
		WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.store_id = $1 AND p.id = x.id)
		GROUP BY x.id ORDER BY min(x.n)`,
		[]any{storeID, ids}, scanString)
}
