package engine

import (
	"bytes"
	"context"
	"time"

	"github.com/promokit/promokit"
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
func (s *Service) BeginIdempotent(ctx context.Context, keyID, key string, hash []byte) (*IdempotencyRecord, error) {
	var found *IdempotencyRecord
	err := s.store.Write(ctx, func(tx Tx) error {
		now := s.now()
		r, err := tx.GetIdempotency(ctx, keyID, key)
		switch {
		case isNotFound(err):
			return tx.CreateIdempotency(ctx, &IdempotencyRecord{KeyID: keyID, Key: key, RequestHash: hash, CreatedAt: now})
		case err != nil:
			return err
		case !bytes.Equal(r.RequestHash, hash):
			return promokit.Errorf(promokit.EIdempotencyReuse, "this Idempotency-Key was used with another request")
		case r.Status == 0 && now.Sub(r.CreatedAt) < idempotencyStale:
			return promokit.Errorf(promokit.EIdempotencyBusy, "the first request with this Idempotency-Key is still running; retry later")
		case r.Status == 0:
			if err := tx.DeleteIdempotency(ctx, keyID, key); err != nil {
				return err
			}
			return tx.CreateIdempotency(ctx, &IdempotencyRecord{KeyID: keyID, Key: key, RequestHash: hash, CreatedAt: now})
		case now.Sub(r.CreatedAt) >= IdempotencyTTL:
			if err := tx.DeleteIdempotency(ctx, keyID, key); err != nil {
				return err
			}
			return tx.CreateIdempotency(ctx, &IdempotencyRecord{KeyID: keyID, Key: key, RequestHash: hash, CreatedAt: now})
		}
		found = r
		return nil
	})
	if promokit.ErrorCode(err) == promokit.EConflict {
		// Another request with the key created it between our read and write.
		return nil, promokit.Errorf(promokit.EIdempotencyBusy, "the first request with this Idempotency-Key is still running; retry later")
	}
	return found, err
}

// FinishIdempotent stores the response of a request begun with BeginIdempotent.
func (s *Service) FinishIdempotent(ctx context.Context, r *IdempotencyRecord) error {
	return s.store.Write(ctx, func(tx Tx) error { return tx.CompleteIdempotency(ctx, r) })
}

// AbortIdempotent forgets a request begun with BeginIdempotent that failed
// with a server error, so that a retry runs it again.
func (s *Service) AbortIdempotent(ctx context.Context, keyID, key string) error {
	return s.store.Write(ctx, func(tx Tx) error { return tx.DeleteIdempotency(ctx, keyID, key) })
}

// PurgeIdempotency deletes records older than IdempotencyTTL.
func (s *Service) PurgeIdempotency(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		n, err = tx.DeleteIdempotencyBefore(ctx, s.now().Add(-IdempotencyTTL))
		return err
	})
	return n, err
}
