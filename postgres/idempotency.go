package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/storage"
)

// IdempotencyGet returns the record of a key's Idempotency-Key;
// storage.ErrNotFound when there is none.
func (t *tx) IdempotencyGet(ctx context.Context, keyID, key string) (*storage.IdempotencyRecord, error) {
	var r storage.IdempotencyRecord
	err := t.q.QueryRow(ctx, `
		SELECT key_id, key, request_hash, status, headers, body, created_at
		FROM idempotency_keys WHERE key_id = $1 AND key = $2`, keyID, key).
		Scan(&r.KeyID, &r.Key, &r.RequestHash, &r.Status, &r.Headers, &r.Body, &r.CreatedAt)
	if err != nil {
		return nil, scanErr(err, "idempotency key", key)
	}
	return &r, nil
}

// IdempotencyCreate inserts a record; storage.ErrExists when one exists for the
// same key and Idempotency-Key. The insert does nothing on conflict rather
// than fail, so the transaction can go on and read the existing record.
func (t *tx) IdempotencyCreate(ctx context.Context, r *storage.IdempotencyRecord) error {
	tag, err := t.q.Exec(ctx, `
		INSERT INTO idempotency_keys (key_id, key, request_hash, status, headers, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (key_id, key) DO NOTHING`,
		r.KeyID, r.Key, r.RequestHash, r.Status, r.Headers, r.Body, r.CreatedAt)
	if err != nil {
		return fmt.Errorf("postgres: create idempotency key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return storage.Exists("idempotency key", r.Key)
	}
	return nil
}

// IdempotencyComplete stores the response status, headers and body of a
// record; storage.ErrNotFound when there is no such record.
func (t *tx) IdempotencyComplete(ctx context.Context, r *storage.IdempotencyRecord) error {
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

// createIdempotenciesSQL inserts records, in the order of the arrays, of
// requests not answered yet, leaving out those whose key exists, and
// returns the keys of those it inserted.
const createIdempotenciesSQL = `INSERT INTO idempotency_keys (key_id, key, request_hash, created_at)
	SELECT r.key_id, r.key, r.request_hash, r.created_at
	FROM unnest($1::text[], $2::text[], $3::bytea[], $4::timestamptz[]) WITH ORDINALITY AS r(key_id, key, request_hash, created_at, n)
	ORDER BY r.n
	ON CONFLICT (key_id, key) DO NOTHING
	RETURNING key_id, key`

// IdempotencyCreateMany inserts records of requests not answered yet in one
// statement, leaving out each one whose key is recorded already, also by
// an earlier one of rs.
func (t *tx) IdempotencyCreateMany(ctx context.Context, rs []*storage.IdempotencyRecord) ([]bool, error) {
	keyIDs, keys := make([]string, len(rs)), make([]string, len(rs))
	hashes, times := make([][]byte, len(rs)), make([]time.Time, len(rs))
	for i, r := range rs {
		keyIDs[i], keys[i], hashes[i], times[i] = r.KeyID, r.Key, r.RequestHash, r.CreatedAt
	}
	written, err := writtenKeys(ctx, t.q, "create idempotency keys", createIdempotenciesSQL, keyIDs, keys, hashes, times)
	if err != nil {
		return nil, err
	}
	return claim(rs, written), nil
}

// completeIdempotenciesSQL stores the responses of records and returns the
// keys of those that exist.
const completeIdempotenciesSQL = `UPDATE idempotency_keys i SET status = r.status, headers = r.headers, body = r.body
	FROM unnest($1::text[], $2::text[], $3::int[], $4::bytea[], $5::bytea[]) AS r(key_id, key, status, headers, body)
	WHERE i.key_id = r.key_id AND i.key = r.key
	RETURNING i.key_id, i.key`

// IdempotencyCompleteMany stores the responses of records in one statement
// and reports which records existed.
func (t *tx) IdempotencyCompleteMany(ctx context.Context, rs []*storage.IdempotencyRecord) ([]bool, error) {
	keyIDs, keys := make([]string, len(rs)), make([]string, len(rs))
	statuses, headers, bodies := make([]int32, len(rs)), make([][]byte, len(rs)), make([][]byte, len(rs))
	for i, r := range rs {
		keyIDs[i], keys[i], statuses[i], headers[i], bodies[i] = r.KeyID, r.Key, int32(r.Status), r.Headers, r.Body
	}
	written, err := writtenKeys(ctx, t.q, "complete idempotency keys", completeIdempotenciesSQL, keyIDs, keys, statuses, headers, bodies)
	if err != nil {
		return nil, err
	}
	return claim(rs, written), nil
}

// idempotencyKey is the key of a record.
type idempotencyKey struct{ keyID, key string }

// writtenKeys runs a statement that returns the keys of the records it
// wrote, and counts them. The statement keeps one cached generic plan per
// connection, as UsageTakeMany's do (sendWithGenericPlans): planned anew on
// every batch, the insert and the update of a batch's records cost
// PostgreSQL more planning than running (BENCHMARKS.md, 2026-12-03).
func writtenKeys(ctx context.Context, q querier, what, sql string, args ...any) (map[idempotencyKey]int, error) {
	written := make(map[idempotencyKey]int)
	err := sendWithGenericPlans(ctx, q, what, func(b *pgx.Batch) { b.Queue(sql, args...) }, func(_ int, br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k idempotencyKey
			if err := rows.Scan(&k.keyID, &k.key); err != nil {
				return err
			}
			written[k]++
		}
		return rows.Err()
	})
	return written, err
}

// claim reports which of rs were written, given the keys written: the
// first records of each key, in order, as many as were written.
func claim(rs []*storage.IdempotencyRecord, written map[idempotencyKey]int) []bool {
	out := make([]bool, len(rs))
	for i, r := range rs {
		if k := (idempotencyKey{r.KeyID, r.Key}); written[k] > 0 {
			written[k]--
			out[i] = true
		}
	}
	return out
}

// IdempotencyDelete removes a record, if there is one.
func (t *tx) IdempotencyDelete(ctx context.Context, keyID, key string) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM idempotency_keys WHERE key_id = $1 AND key = $2`, keyID, key); err != nil {
		return fmt.Errorf("postgres: delete idempotency key: %w", err)
	}
	return nil
}

// IdempotencyDeleteBefore removes the records created before before and
// returns how many it removed.
func (t *tx) IdempotencyDeleteBefore(ctx context.Context, before time.Time) (int64, error) {
	tag, err := t.q.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
