package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the accounts of the marketplace: stores, partners and
// the stores' products.

const storeColumns = `id, name, partner_promo_codes, created_at, max_promotions_per_order, redirect_hosts`

// StoreCreate inserts a store; storage.ErrExists when its id exists.
func (t *tx) StoreCreate(ctx context.Context, s *promokit.Store) error {
	hosts, err := encodeHosts(s.RedirectHosts)
	if err != nil {
		return err
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO stores (`+storeColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		s.ID, s.Name, boolInt(s.PartnerPromoCodes), micros(s.CreatedAt), s.MaxPromotionsPerOrder, hosts)
	if err != nil {
		if constraintViolation(err) == uniqueViolation {
			return storage.Exists("store", s.ID)
		}
		return fmt.Errorf("sqlite: create store %q: %w", s.ID, err)
	}
	return nil
}

// StoreGet returns a store; storage.ErrNotFound when there is none. lock needs
// no work on SQLite: a write transaction already holds the only write lock.
func (t *tx) StoreGet(ctx context.Context, id string, lock bool) (*promokit.Store, error) {
	s, err := scanStore(t.q.QueryRowContext(ctx, `SELECT `+storeColumns+` FROM stores WHERE id = ?`, id))
	if err != nil {
		return nil, noRows(err, "store", id)
	}
	return s, nil
}

// StoreList returns one page of stores ordered by id.
func (t *tx) StoreList(ctx context.Context, p storage.Page) ([]*promokit.Store, error) {
	return queryList(ctx, t, "stores", `SELECT `+storeColumns+` FROM stores WHERE id > ? ORDER BY id LIMIT ?`,
		[]any{p.After, p.Size()}, scanStore)
}

// StoreUpdate writes a store's name, P4 flag, stacking rule and redirect
// hosts; storage.ErrNotFound when there is no such store.
func (t *tx) StoreUpdate(ctx context.Context, s *promokit.Store) error {
	hosts, err := encodeHosts(s.RedirectHosts)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE stores SET name = ?, partner_promo_codes = ?, max_promotions_per_order = ?, redirect_hosts = ?
		WHERE id = ?`, s.Name, boolInt(s.PartnerPromoCodes), s.MaxPromotionsPerOrder, hosts, s.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update store %q: %w", s.ID, err)
	}
	return mustAffect(res, "store", s.ID)
}

func scanStore(row scanner) (*promokit.Store, error) {
	var (
		s         promokit.Store
		createdAt int64
		hosts     string
	)
	if err := row.Scan(&s.ID, &s.Name, &s.PartnerPromoCodes, &createdAt, &s.MaxPromotionsPerOrder, &hosts); err != nil {
		return nil, err
	}
	s.CreatedAt = fromMicros(createdAt)
	var err error
	if s.RedirectHosts, err = decodeHosts(hosts); err != nil {
		return nil, err
	}
	return &s, nil
}

// encodeHosts is the stored form of redirect hosts: a JSON array.
func encodeHosts(hosts []string) (string, error) {
	if len(hosts) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(hosts)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode redirect hosts: %w", err)
	}
	return string(b), nil
}

// decodeHosts reads stored redirect hosts; most stores have none, which
// costs no decoding (every checkout reads its store).
func decodeHosts(s string) ([]string, error) {
	if s == "[]" {
		return []string{}, nil
	}
	var hosts []string
	if err := json.Unmarshal([]byte(s), &hosts); err != nil {
		return nil, fmt.Errorf("sqlite: decode redirect hosts: %w", err)
	}
	if hosts == nil {
		hosts = []string{}
	}
	return hosts, nil
}

const partnerColumns = `id, name, kind, created_at`

// PartnerCreate inserts a partner; storage.ErrExists when its id exists.
func (t *tx) PartnerCreate(ctx context.Context, p *promokit.Partner) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO partners (`+partnerColumns+`) VALUES (?, ?, ?, ?)`,
		p.ID, p.Name, string(p.Kind), micros(p.CreatedAt))
	if err != nil {
		if constraintViolation(err) == uniqueViolation {
			return storage.Exists("partner", p.ID)
		}
		return fmt.Errorf("sqlite: create partner %q: %w", p.ID, err)
	}
	return nil
}

// PartnerGet returns a partner; storage.ErrNotFound when there is none.
func (t *tx) PartnerGet(ctx context.Context, id string) (*promokit.Partner, error) {
	p, err := scanPartner(t.q.QueryRowContext(ctx, `SELECT `+partnerColumns+` FROM partners WHERE id = ?`, id))
	if err != nil {
		return nil, noRows(err, "partner", id)
	}
	return p, nil
}

// PartnerList returns one page of partners ordered by id.
func (t *tx) PartnerList(ctx context.Context, p storage.Page) ([]*promokit.Partner, error) {
	return queryList(ctx, t, "partners", `SELECT `+partnerColumns+` FROM partners WHERE id > ? ORDER BY id LIMIT ?`,
		[]any{p.After, p.Size()}, scanPartner)
}

func scanPartner(row scanner) (*promokit.Partner, error) {
	var (
		p         promokit.Partner
		kind      string
		createdAt int64
	)
	if err := row.Scan(&p.ID, &p.Name, &kind, &createdAt); err != nil {
		return nil, err
	}
	p.Kind = promokit.PartnerKind(kind)
	p.CreatedAt = fromMicros(createdAt)
	return &p, nil
}

const productColumns = `store_id, id, name, url, created_at, updated_at`

// ProductPut inserts a product of a store, or replaces the name, URL and
// updated_at of the existing one; created_at keeps its first value.
// storage.ErrNotFound when the store does not exist.
func (t *tx) ProductPut(ctx context.Context, p *promokit.Product) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO products (`+productColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (store_id, id) DO UPDATE SET name = excluded.name, url = excluded.url, updated_at = excluded.updated_at`,
		p.StoreID, p.ID, p.Name, p.URL, micros(p.CreatedAt), micros(p.UpdatedAt))
	if err != nil {
		if constraintViolation(err) == foreignKeyViolation {
			return notFound("store", p.StoreID)
		}
		return fmt.Errorf("sqlite: put product %q of store %q: %w", p.ID, p.StoreID, err)
	}
	return nil
}

// ProductGet returns a product of a store; storage.ErrNotFound when the store
// has no such product.
func (t *tx) ProductGet(ctx context.Context, storeID, id string) (*promokit.Product, error) {
	p, err := scanProduct(t.q.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products WHERE store_id = ? AND id = ?`, storeID, id))
	if err != nil {
		return nil, noRows(err, "product", id)
	}
	return p, nil
}

// ProductList returns one page of a store's products ordered by id.
func (t *tx) ProductList(ctx context.Context, storeID string, p storage.Page) ([]*promokit.Product, error) {
	return queryList(ctx, t, "products", `SELECT `+productColumns+` FROM products WHERE store_id = ? AND id > ? ORDER BY id LIMIT ?`,
		[]any{storeID, p.After, p.Size()}, scanProduct)
}

// ProductMissing returns the ids among ids, in their order and each once,
// that are not products of the store.
func (t *tx) ProductMissing(ctx context.Context, storeID string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode product ids: %w", err)
	}
	found, err := queryList(ctx, t, "products", `SELECT id FROM products WHERE store_id = ? AND id IN (SELECT value FROM json_each(?))`,
		[]any{storeID, string(list)}, scanString)
	if err != nil {
		return nil, err
	}
	return subtract(ids, found), nil
}

func scanProduct(row scanner) (*promokit.Product, error) {
	var (
		p                    promokit.Product
		createdAt, updatedAt int64
	)
	if err := row.Scan(&p.StoreID, &p.ID, &p.Name, &p.URL, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMicros(createdAt)
	p.UpdatedAt = fromMicros(updatedAt)
	return &p, nil
}
