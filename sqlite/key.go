package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

const keyColumns = `id, name, role, store_id, partner_id, prefix, hash, created_at, revoked_at`

// KeyCreate inserts an API key. It returns storage.ErrExists when a key with
// its id or hash exists.
func (t *tx) KeyCreate(ctx context.Context, k *promokit.Key) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, string(k.Role), k.StoreID, k.PartnerID, k.Prefix, nonNil(k.Hash), micros(k.CreatedAt), nullMicros(k.RevokedAt))
	if err != nil {
		if constraintViolation(err) == uniqueViolation {
			return storage.Exists("key", k.ID)
		}
		return fmt.Errorf("sqlite: create key %q: %w", k.ID, err)
	}
	return nil
}

// KeyGet returns a key by id, revoked or not; storage.ErrNotFound when there
// is none.
func (t *tx) KeyGet(ctx context.Context, id string) (*promokit.Key, error) {
	k, err := scanKey(t.q.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	if err != nil {
		return nil, noRows(err, "key", id)
	}
	return k, nil
}

// KeyGetByHash returns the key whose secret hashes to hash, revoked or not, so
// that the caller can tell a revoked key from an unknown one in its logs;
// storage.ErrNotFound when there is none.
func (t *tx) KeyGetByHash(ctx context.Context, hash []byte) (*promokit.Key, error) {
	k, err := scanKey(t.q.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, nonNil(hash)))
	if err != nil {
		return nil, noRows(err, "key", "by hash")
	}
	return k, nil
}

// KeyList returns one page of keys ordered by id, those of one store or
// partner when the filter names one.
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
	q := `SELECT ` + keyColumns + ` FROM api_keys` + w.String() + ` ORDER BY id LIMIT ?`
	return queryList(ctx, t, "keys", q, append(w.args, f.Page.Size()), scanKey)
}

// KeyRevoke sets revoked_at of an unrevoked key to now; storage.ErrNotFound if
// there is no such key or it is already revoked.
func (t *tx) KeyRevoke(ctx context.Context, id string, now time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(now), id)
	if err != nil {
		return fmt.Errorf("sqlite: revoke key %q: %w", id, err)
	}
	return mustAffect(res, "key", id)
}

func scanKey(row scanner) (*promokit.Key, error) {
	var (
		k         promokit.Key
		role      string
		createdAt int64
		revokedAt sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Name, &role, &k.StoreID, &k.PartnerID, &k.Prefix, &k.Hash, &createdAt, &revokedAt); err != nil {
		return nil, err
	}
	k.Role = promokit.Role(role)
	k.CreatedAt = fromMicros(createdAt)
	k.RevokedAt = timePtr(revokedAt)
	return &k, nil
}
