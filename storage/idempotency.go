package storage

import (
	"context"
	"time"
)

// IdempotencyTx reads and writes the records of requests sent with an
// Idempotency-Key.
type IdempotencyTx interface {
	IdempotencyGet(ctx context.Context, keyID, key string) (*IdempotencyRecord, error)
	// IdempotencyCreate inserts a record; ErrExists when one exists, in
	// which case it writes nothing and the transaction goes on.
	IdempotencyCreate(ctx context.Context, r *IdempotencyRecord) error
	// IdempotencyComplete stores the response of a record.
	IdempotencyComplete(ctx context.Context, r *IdempotencyRecord) error
	// IdempotencyCreateMany inserts records of requests that have not
	// answered yet (their Status, Headers and Body are not written), in
	// order, leaving out each one whose key is recorded already, also by
	// an earlier one of rs, and reports which it inserted. PostgreSQL
	// writes them in one statement.
	IdempotencyCreateMany(ctx context.Context, rs []*IdempotencyRecord) ([]bool, error)
	// IdempotencyCompleteMany stores the responses of records and reports
	// which records existed. PostgreSQL writes them in one statement.
	IdempotencyCompleteMany(ctx context.Context, rs []*IdempotencyRecord) ([]bool, error)
	IdempotencyDelete(ctx context.Context, keyID, key string) error
	// IdempotencyDeleteBefore removes records created before t.
	IdempotencyDeleteBefore(ctx context.Context, t time.Time) (int64, error)
}

// IdempotencyRecord is what the server keeps of a request sent with an
// Idempotency-Key: a hash of the request, and once it is done, the response.
// Status 0 means the first request is still running.
type IdempotencyRecord struct {
	KeyID       string
	Key         string
	RequestHash []byte
	Status      int
	Headers     []byte // JSON object of the response headers to replay
	Body        []byte
	CreatedAt   time.Time
}
