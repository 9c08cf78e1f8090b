package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/promokit/promokit/storage"
)

const idempotencyColumns = `key_id, key, request_hash, status, headers, body, created_at`

// IdempotencyGet returns the record of an Idempotency-Key of an API key;
// storage.ErrNotFound when there is none.
func (t *tx) IdempotencyGet(ctx context.Context, keyID, key string) (*storage.IdempotencyRecord, error) {
	var (
		r         storage.IdempotencyRecord
		createdAt int64
	)
	err := t.q.QueryRowContext(ctx, `SELECT `+idempotencyColumns+` FROM idempotency_keys WHERE key_id = ? AND key = ?`, keyID, key).
		Scan(&r.KeyID, &r.Key, &r.RequestHash, &r.Status, &r.Headers, &r.Body, &createdAt)
	if err != nil {
		return nil, noRows(err, "idempotency key", key)
	}
	r.CreatedAt = fromMicros(createdAt)
	return &r, nil
}

// IdempotencyCreate inserts a record, normally with Status 0 while its
// request runs. storage.ErrExists when the API key already used that key, which
// tells a concurrent duplicate request that it lost the race.
func (t *tx) IdempotencyCreate(ctx context.Context, r *storage.IdempotencyRecord) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO idempotency_keys (`+idempotencyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.KeyID, r.Key, nonNil(r.RequestHash), r.Status, r.Headers, r.Body, micros(r.CreatedAt))
	if err != nil {
		if constraintViolation(err) == uniqueViolation {
			return storage.Exists("idempotency key", r.Key)
		}
		return fmt.Errorf("sqlite: create idempotency key %q: %w", r.Key, err)
	}
	return nil
}

// IdempotencyComplete stores the status, headers and body of a record's
// response; storage.ErrNotFound when there is no such record.
func (t *tx) IdempotencyComplete(ctx context.Context, r *storage.IdempotencyRecord) error {
	res, err := t.q.ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, headers = ?, body = ? WHERE key_id = ? AND key = ?`,
		r.Status, r.Headers, r.Body, r.KeyID, r.Key)
	if err != nil {
		return fmt.Errorf("sqlite: complete idempotency key %q: %w", r.Key, err)
	}
	return mustAffect(res, "idempotency key", r.Key)
}

// IdempotencyCreateMany inserts records of requests not answered yet, one
// statement each, leaving out those whose key is recorded already.
func (t *tx) IdempotencyCreateMany(ctx context.Context, rs []*storage.IdempotencyRecord) ([]bool, error) {
	created := make([]bool, len(rs))
	for i, r := range rs {
		fresh := *r
		fresh.Status, fresh.Headers, fresh.Body = 0, nil, nil
		err := t.IdempotencyCreate(ctx, &fresh)
		if err != nil && !errors.Is(err, storage.ErrExists) {
			return nil, err
		}
		created[i] = err == nil
	}
	return created, nil
}

// IdempotencyCompleteMany stores the responses of records, one statement
// each, and reports which records existed.
func (t *tx) IdempotencyCompleteMany(ctx context.Context, rs []*storage.IdempotencyRecord) ([]bool, error) {
	found := make([]bool, len(rs))
	for i, r := range rs {
		err := t.IdempotencyComplete(ctx, r)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		found[i] = err == nil
	}
	return found, nil
}

// IdempotencyDelete removes a record, so that a request that failed
// without a response to replay may be retried with the same key. Deleting
// a missing record is not an error.
func (t *tx) IdempotencyDelete(ctx context.Context, keyID, key string) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE key_id = ? AND key = ?`, keyID, key); err != nil {
		return fmt.Errorf("sqlite: delete idempotency key %q: %w", key, err)
	}
	return nil
}

// IdempotencyDeleteBefore removes the records created before t and returns
// how many it removed.
func (t *tx) IdempotencyDeleteBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete idempotency keys: %w", err)
	}
	return n, nil
}
