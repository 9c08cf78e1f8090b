package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// GetIdempotency returns the record of a key's Idempotency-Key; ENotFound
// when there is none.
func (t *tx) GetIdempotency(ctx context.Context, keyID, key string) (*engine.IdempotencyRecord, error) {
	var r engine.IdempotencyRecord
	err := t.q.QueryRow(ctx, `
		SELECT key_id, key, request_hash, status, headers, body, created_at
		FROM idempotency_keys WHERE key_id = $1 AND key = $2`, keyID, key).
		Scan(&r.KeyID, &r.Key, &r.RequestHash, &r.Status, &r.Headers, &r.Body, &r.CreatedAt)
	if err != nil {
		return nil, scanErr(err, "idempotency key", key)
	}
	return &r, nil
}

// CreateIdempotency inserts a record; EConflict when one exists for the
// same key and Idempotency-Key. The insert does nothing on conflict rather
// than fail, so the transaction can go on and read the existing record.
func (t *tx) CreateIdempotency(ctx context.Context, r *engine.IdempotencyRecord) error {
	tag, err := t.q.Exec(ctx, `
		INSERT INTO idempotency_keys (key_id, key, request_hash, status, headers, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (key_id, key) DO NOTHING`,
		r.KeyID, r.Key, r.RequestHash, r.Status, r.Headers, r.Body, r.CreatedAt)
	if err != nil {
		return fmt.Errorf("postgres: create idempotency key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return promokit.Errorf(promokit.EConflict, "idempotency key %q is already recorded", r.Key)
	}
	return nil
}

// CompleteIdempotency stores the response status, headers and body of a
// record; ENotFound when there is no such record.
func (t *tx) CompleteIdempotency(ctx context.Context, r *engine.IdempotencyRecord) error {
	tag, err := t.q.Exec(ctx, `
		UPDATE idempotency_keys SET status = $3, headers = $4, body = $5
		WHERE key_id = $1 AND key = $2`,
		r.KeyID, r.Key, r.Status, r.Headers, r.Body)
	if err != nil {
		return fmt.Errorf("postgres: complete idempotency key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("idempotency key", r.Key)
	}
	return nil
}

// DeleteIdempotency removes a record, if there is one.
func (t *tx) DeleteIdempotency(ctx context.Context, keyID, key string) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM idempotency_keys WHERE key_id = $1 AND key = $2`, keyID, key); err != nil {
		return fmt.Errorf("postgres: delete idempotency key: %w", err)
	}
	return nil
}

// DeleteIdempotencyBefore removes the records created before before and
// returns how many it removed.
func (t *tx) DeleteIdempotencyBefore(ctx context.Context, before time.Time) (int64, error) {
	tag, err := t.q.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
