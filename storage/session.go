package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// SessionTx reads and writes console sessions. A session is found by the
// hash of its id (promokit.HashSession); the id itself is never stored.
type SessionTx interface {
	// SessionCreate inserts a session; ErrExists when its hash exists,
	// ErrNotFound when its key does not.
	SessionCreate(ctx context.Context, s *promokit.Session) error
	// SessionGet returns the session whose id hashes to hash, with its
	// key, revoked or not, in one statement; ErrNotFound when there is
	// none.
	SessionGet(ctx context.Context, hash []byte) (*promokit.SessionKey, error)
	// SessionTouch sets the session's seen_at; ErrNotFound when there is
	// no such session.
	SessionTouch(ctx context.Context, hash []byte, seenAt time.Time) error
	// SessionDelete deletes a session; ErrNotFound when there is none.
	SessionDelete(ctx context.Context, hash []byte) error
	// SessionDeleteByKey deletes every session made from a key and
	// returns how many there were.
	SessionDeleteByKey(ctx context.Context, keyID string) (int64, error)
	// SessionPurge deletes the sessions that expired at now or were last
	// seen before seenBefore, and returns how many there were.
	SessionPurge(ctx context.Context, now, seenBefore time.Time) (int64, error)
}
