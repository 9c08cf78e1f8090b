package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

const keyColumns = `id, name, role, store_id, partner_id, prefix, hash, created_at, revoked_at`

// scanKey reads one row of keyColumns.
func scanKey(row pgx.Row) (*promokit.Key, error) {
	var k promokit.Key
	if err := row.Scan(&k.ID, &k.Name, &k.Role, &k.StoreID, &k.PartnerID, &k.Prefix, &k.Hash, &k.CreatedAt, &k.RevokedAt); err != nil {
		return nil, err
	}
	return &k, nil
}

// KeyCreate inserts an API key; storage.ErrExists when its id or hash exists.
func (t *tx) KeyCreate(ctx context.Context, k *promokit.Key) error {
	_, err := t.q.Exec(ctx, `
		INSERT INTO api_keys (id, name, role, store_id, partner_id, prefix, hash, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		k.ID, k.Name, k.Role, k.StoreID, k.PartnerID, k.Prefix, k.Hash, k.CreatedAt, k.RevokedAt)
	if err != nil {
		return createErr(err, "key", k.ID, "", "")
	}
	return nil
}

// KeyGet returns a key, revoked or not; storage.ErrNotFound when there is none.
func (t *tx) KeyGet(ctx context.Context, id string) (*promokit.Key, error) {
	k, err := scanKey(t.q.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if err != nil {
		return nil, scanErr(err, "key", id)
	}
	return k, nil
}

// KeyGetByHash returns the key whose secret hashes to hash, revoked or not, so
// that the caller can tell a revoked key from an unknown one;
// storage.ErrNotFound when there is none.
func (t *tx) KeyGetByHash(ctx context.Context, hash []byte) (*promokit.Key, error) {
	k, err := scanKey(t.q.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash))
	if err != nil {
		// Only a prefix of the hash goes into the error, never a secret.
		return nil, scanErr(err, "key with hash", hex.EncodeToString(hash[:min(len(hash), 4)]))
	}
	return k, nil
}

// KeyList returns a page of keys ordered by id, of f's store and partner
// when they are set.
func (t *tx) KeyList(ctx context.Context, f storage.KeyFilter) ([]*promokit.Key, error) {
	var w where
	if f.StoreID != "" {
		w.add("store_id = ?", f.StoreID)
	}
	if f.PartnerID != "" {
		w.add("partner_id = ?", f.PartnerID)
	}
	if f.After != "" {
		w.add("id > ?", f.After)
	}
	sql := `SELECT ` + keyColumns + ` FROM api_keys` + w.sql() + ` ORDER BY id LIMIT ` + w.arg(f.Page.Size())
	return queryList(ctx, t.q, "keys", sql, w.args, scanKey)
}

// KeyRevoke sets revoked_at of an unrevoked key to now; storage.ErrNotFound
// when there is no such key or it is already revoked.
func (t *tx) KeyRevoke(ctx context.Context, id string, now time.Time) error {
	tag, err := t.q.Exec(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, now)
	if err != nil {
		return fmt.Errorf("postgres: revoke key %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("key", id)
	}
	return nil
}
