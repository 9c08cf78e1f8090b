package engine

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// IdempotencyTTL is how long a response is kept for replay.
const IdempotencyTTL = 24 * time.Hour

// idempotencyStale is how long a first request may run before a retry may
// take its key over: its process has surely died by then.
const idempotencyStale = 2 * time.Minute

// BeginIdempotent starts a request that carries an Idempotency-Key. When the
// key is new it records the request as running and returns nil: the caller
// runs the request, then calls FinishIdempotent or AbortIdempotent. When
// the key was used for the same request it returns the stored record, whose
// response the caller replays. The same key with another request is
// EIdempotencyReuse; a first request still running is EIdempotencyBusy.
func (s *Service) BeginIdempotent(ctx context.Context, keyID, key string, hash []byte) (*storage.IdempotencyRecord, error) {
	var found *storage.IdempotencyRecord
	op := &idempotencyOp{keyID: keyID, key: key, done: make(chan struct{}),
		create: &storage.IdempotencyRecord{KeyID: keyID, Key: key, RequestHash: hash, CreatedAt: s.now()}}
	// A new key, the common case, is created with the batch's other new
	// keys in one statement; run reads the record only when one exists.
	op.run = func(ctx context.Context, tx storage.Tx) error {
		found = nil
		now := s.now()
		create := func() error {
			return tx.IdempotencyCreate(ctx, &storage.IdempotencyRecord{KeyID: keyID, Key: key, RequestHash: hash, CreatedAt: now})
		}
		r, err := tx.IdempotencyGet(ctx, keyID, key)
		switch {
		case isNotFound(err): // removed since: purged, or its request aborted
			return create()
		case err != nil:
			return err
		case !bytes.Equal(r.RequestHash, hash):
			return promokit.Errorf(promokit.EIdempotencyReuse, "this Idempotency-Key was used with another request")
		case r.Status == 0 && now.Sub(r.CreatedAt) < idempotencyStale:
			return promokit.Errorf(promokit.EIdempotencyBusy, "the first request with this Idempotency-Key is still running; retry later")
		case r.Status == 0 || now.Sub(r.CreatedAt) >= IdempotencyTTL:
			// A stale first request, or an expired record: taken over.
			if err := tx.IdempotencyDelete(ctx, keyID, key); err != nil {
				return err
			}
			return create()
		}
		found = r
		return nil
	}
	err := s.writeIdempotency(ctx, op)
	if errors.Is(err, storage.ErrExists) {
		// Another request with the key created it between our read and write.
		return nil, promokit.Errorf(promokit.EIdempotencyBusy, "the first request with this Idempotency-Key is still running; retry later")
	}
	return found, apiError(err)
}

// FinishIdempotent stores the response of a request begun with BeginIdempotent.
func (s *Service) FinishIdempotent(ctx context.Context, r *storage.IdempotencyRecord) error {
	return apiError(s.writeIdempotency(ctx, &idempotencyOp{keyID: r.KeyID, key: r.Key, complete: r, done: make(chan struct{})}))
}

// AbortIdempotent forgets a request begun with BeginIdempotent that failed
// with a server error, so that a retry runs it again.
func (s *Service) AbortIdempotent(ctx context.Context, keyID, key string) error {
	return apiError(s.writeIdempotency(ctx, &idempotencyOp{keyID: keyID, key: key, done: make(chan struct{}),
		run: func(ctx context.Context, tx storage.Tx) error { return tx.IdempotencyDelete(ctx, keyID, key) }}))
}

// idempotencyOp is one write of an idempotency record, made with the
// others of its batch: a new record to create (create; run when the key
// is recorded already), a response to store (complete), or another write
// (run).
type idempotencyOp struct {
	keyID, key string
	create     *storage.IdempotencyRecord
	complete   *storage.IdempotencyRecord
	run        func(ctx context.Context, tx storage.Tx) error
	err        error
	done       chan struct{}
}

// maxIdempotencyBatch bounds a batch of idempotency writes.
const maxIdempotencyBatch = 256

// writeIdempotency makes op, a write of the record of its key, in one
// transaction with the concurrent writes of other records. Each request
// with an Idempotency-Key writes twice (begin and finish): with one
// transaction each, SQLite's single writer syncing every commit held
// redeems with the header to a fraction of the rate of those without; with
// one statement each, PostgreSQL's batches took a round trip per record.
// op.run must write nothing when it returns a domain error or a database's
// report (any error but an internal one), since the others' writes commit;
// its error comes back as op.run returned it, for the caller to test and
// translate (apiError). op is made again, in
// a half of the batch, if the batch fails for one of its writes
// (isolate.go). When ctx ends first it returns ctx.Err(), and op is made
// or not: not when its batch has not begun or every caller of the batch
// has gone, and with the others otherwise. A caller that must not leave a
// request half recorded passes a context that is not cancelled
// (context.WithoutCancel, as the HTTP server does); the batch's deadline
// bounds its wait.
func (s *Service) writeIdempotency(ctx context.Context, op *idempotencyOp) error {
	s.idempotency.push(ctx, op)
	if err := await(ctx, op.done); err != nil {
		return err
	}
	return op.err
}

// writeIdempotencyBatch writes a batch of idempotency records in one
// transaction (applyIdempotency), in the order of their keys, so that two
// processes' batches take the rows' locks in one order. A write's domain
// error is its own; any other error undoes the batch, which is then
// written again in halves when the error may be one write's (a value the
// database refuses), and answered to every write otherwise (isolate.go).
// It runs under ctx, the batch's context (batchContext).
func (s *Service) writeIdempotencyBatch(ctx context.Context, batch []*idempotencyOp) {
	slices.SortStableFunc(batch, func(a, b *idempotencyOp) int {
		return cmp.Or(strings.Compare(a.keyID, b.keyID), strings.Compare(a.key, b.key))
	})
	isolateBatch(s, batch, func(part []*idempotencyOp) error {
		return s.write(ctx, func(tx storage.Tx) error { return applyIdempotency(ctx, tx, part) })
	}, func(op *idempotencyOp, err error) { op.err = err })
	for _, op := range batch {
		close(op.done)
	}
}

// applyIdempotency makes ops in tx: the new records in one
// IdempotencyCreateMany, the responses in one IdempotencyCompleteMany, then,
// in order, the other writes and those of the new records whose key was
// recorded already. Each op's own error is left in op.err; it returns an
// error that must undo the transaction.
func applyIdempotency(ctx context.Context, tx storage.Tx, ops []*idempotencyOp) error {
	var (
		creates, completes []*idempotencyOp
		created, answered  []*storage.IdempotencyRecord
	)
	for _, op := range ops {
		op.err = nil
		switch {
		case op.create != nil:
			creates, created = append(creates, op), append(created, op.create)
		case op.complete != nil:
			completes, answered = append(completes, op), append(answered, op.complete)
		}
	}
	made := make(map[*idempotencyOp]bool, len(ops))
	if len(creates) > 0 {
		ok, err := tx.IdempotencyCreateMany(ctx, created)
		if err != nil {
			return err
		}
		for i, op := range creates {
			made[op] = ok[i]
		}
	}
	if len(completes) > 0 {
		found, err := tx.IdempotencyCompleteMany(ctx, answered)
		if err != nil {
			return err
		}
		for i, op := range completes {
			if made[op] = true; !found[i] {
				op.err = notFound("idempotency key", op.key)
			}
		}
	}
	for _, op := range ops {
		if made[op] {
			continue
		}
		if op.err = op.run(ctx, tx); internal(op.err) {
			return op.err
		}
	}
	return nil
}

// PurgeIdempotency deletes records older than IdempotencyTTL.
func (s *Service) PurgeIdempotency(ctx context.Context) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx storage.Tx) error {
		var err error
		n, err = tx.IdempotencyDeleteBefore(ctx, s.now().Add(-IdempotencyTTL))
		return err
	})
	return n, err
}
