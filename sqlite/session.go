package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// SessionCreate inserts a console session; storage.ErrExists when its hash
// exists, storage.ErrNotFound when its key does not.
func (t *tx) SessionCreate(ctx context.Context, s *promokit.Session) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO console_sessions (hash, key_id, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		nonNil(s.Hash), s.KeyID, micros(s.CreatedAt), micros(s.SeenAt), micros(s.ExpiresAt))
	switch constraintViolation(err) {
	case noViolation:
	case uniqueViolation:
		return storage.Exists("session", "")
	case foreignKeyViolation:
		return notFound("key", s.KeyID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	return nil
}

// SessionGet returns the session whose id hashes to hash with its key,
// revoked or not, in one statement; storage.ErrNotFound when there is none.
func (t *tx) SessionGet(ctx context.Context, hash []byte) (*promokit.SessionKey, error) {
	var (
		sk                          promokit.SessionKey
		created, seen, expires, kat int64
		role                        string
		revokedAt                   sql.NullInt64
	)
	err := t.q.QueryRowContext(ctx, `
		SELECT s.hash, s.key_id, s.created_at, s.seen_at, s.expires_at,
		       k.name, k.role, k.store_id, k.partner_id, k.prefix, k.created_at, k.revoked_at
		FROM console_sessions s JOIN api_keys k ON k.id = s.key_id
		WHERE s.hash = ?`, nonNil(hash)).
		Scan(&sk.Hash, &sk.KeyID, &created, &seen, &expires,
			&sk.Key.Name, &role, &sk.Key.StoreID, &sk.Key.PartnerID, &sk.Key.Prefix, &kat, &revokedAt)
	if err != nil {
		// The hash is never named: it would let a log reader sign in.
		return nil, noRows(err, "session", "")
	}
	sk.CreatedAt, sk.SeenAt, sk.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	sk.Key.ID, sk.Key.Role, sk.Key.CreatedAt, sk.Key.RevokedAt = sk.KeyID, promokit.Role(role), fromMicros(kat), timePtr(revokedAt)
	return &sk, nil
}

// SessionTouch sets the session's seen_at; storage.ErrNotFound when there
// is no such session.
func (t *tx) SessionTouch(ctx context.Context, hash []byte, seenAt time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE console_sessions SET seen_at = ? WHERE hash = ?`, micros(seenAt), nonNil(hash))
	if err != nil {
		return fmt.Errorf("sqlite: touch session: %w", err)
	}
	return mustAffect(res, "session", "")
}

// SessionDelete deletes a session; storage.ErrNotFound when there is none.
func (t *tx) SessionDelete(ctx context.Context, hash []byte) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM console_sessions WHERE hash = ?`, nonNil(hash))
	if err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return mustAffect(res, "session", "")
}

// SessionDeleteByKey deletes every session made from a key and returns
// how many there were.
func (t *tx) SessionDeleteByKey(ctx context.Context, keyID string) (int64, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM console_sessions WHERE key_id = ?`, keyID)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete sessions of key %q: %w", keyID, err)
	}
	return res.RowsAffected()
}

// SessionPurge deletes the sessions that expired at now or were last seen
// before seenBefore, and returns how many there were.
func (t *tx) SessionPurge(ctx context.Context, now, seenBefore time.Time) (int64, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at <= ? OR seen_at < ?`, micros(now), micros(seenBefore))
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge sessions: %w", err)
	}
	return res.RowsAffected()
}
