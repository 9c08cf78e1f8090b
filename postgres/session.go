package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/promokit/promokit"
)

// SessionCreate inserts a console session; storage.ErrExists when its hash
// exists, storage.ErrNotFound when its key does not.
func (t *tx) SessionCreate(ctx context.Context, s *promokit.Session) error {
	_, err := t.q.Exec(ctx, `INSERT INTO console_sessions (hash, key_id, created_at, seen_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		s.Hash, s.KeyID, s.CreatedAt, s.SeenAt, s.ExpiresAt)
	if err != nil {
		// The hash is never named: it would let a log reader sign in.
		return createErr(err, "session", "", "key", s.KeyID)
	}
	return nil
}

// SessionGet returns the session whose id hashes to hash with its key,
// revoked or not, in one statement; storage.ErrNotFound when there is none.
func (t *tx) SessionGet(ctx context.Context, hash []byte) (*promokit.SessionKey, error) {
	var sk promokit.SessionKey
	err := t.q.QueryRow(ctx, `
		SELECT s.hash, s.key_id, s.created_at, s.seen_at, s.expires_at,
		       k.name, k.role, k.store_id, k.partner_id, k.prefix, k.created_at, k.revoked_at
		FROM console_sessions s JOIN api_keys k ON k.id = s.key_id
		WHERE s.hash = $1`, hash).
		Scan(&sk.Hash, &sk.KeyID, &sk.CreatedAt, &sk.SeenAt, &sk.ExpiresAt,
			&sk.Key.Name, &sk.Key.Role, &sk.Key.StoreID, &sk.Key.PartnerID, &sk.Key.Prefix, &sk.Key.CreatedAt, &sk.Key.RevokedAt)
	if err != nil {
		return nil, scanErr(err, "session", "")
	}
	sk.Key.ID = sk.KeyID
	return &sk, nil
}

// SessionTouch sets the session's seen_at; storage.ErrNotFound when there
// is no such session.
func (t *tx) SessionTouch(ctx context.Context, hash []byte, seenAt time.Time) error {
	tag, err := t.q.Exec(ctx, `UPDATE console_sessions SET seen_at = $2 WHERE hash = $1`, hash, seenAt)
	if err != nil {
		return fmt.Errorf("postgres: touch session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("session", "")
	}
	return nil
}

// SessionDelete deletes a session; storage.ErrNotFound when there is none.
func (t *tx) SessionDelete(ctx context.Context, hash []byte) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM console_sessions WHERE hash = $1`, hash)
	if err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("session", "")
	}
	return nil
}

// SessionDeleteByKey deletes every session made from a key and returns
// how many there were.
func (t *tx) SessionDeleteByKey(ctx context.Context, keyID string) (int64, error) {
	tag, err := t.q.Exec(ctx, `DELETE FROM console_sessions WHERE key_id = $1`, keyID)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete sessions of key %q: %w", keyID, err)
	}
	return tag.RowsAffected(), nil
}

// SessionPurge deletes the sessions that expired at now or were last seen
// before seenBefore, and returns how many there were.
func (t *tx) SessionPurge(ctx context.Context, now, seenBefore time.Time) (int64, error) {
	tag, err := t.q.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1 OR seen_at < $2`, now, seenBefore)
	if err != nil {
		return 0, fmt.Errorf("postgres: purge sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
