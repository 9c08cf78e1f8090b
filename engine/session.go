package engine

import (
	"context"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Console sessions. A browser signs in to the console with an API key of
// an admin, seller or partner and gets a session id in a cookie; the
// database keeps the id's hash, bound to the key (promokit.Session), so
// that every process on the database knows the session and revoking the
// key ends it. A session ends when it is idle longer than the idle timeout
// or reaches its absolute lifetime, whichever comes first, and when its
// holder signs out.

// Defaults of the session timeouts (Config.SessionIdle,
// Config.SessionLifetime): half an hour without a page, and a working day
// in all, after which one signs in again.
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionLifetime = 12 * time.Hour
)

// maxSessionTouch is how stale a session's last use may be written: a
// session used within it is not written again, so that a page costs one
// read, not a write. The idle timeout counts from the last use written, so
// a session may end up to this much before the idle timeout after its last
// page.
const maxSessionTouch = time.Minute

// sessionTouch returns how often a session's use is written under the
// idle timeout idle: every maxSessionTouch, or a quarter of a shorter
// timeout.
func sessionTouch(idle time.Duration) time.Duration {
	return min(maxSessionTouch, idle/4)
}

// errSessionEnded is the error of a session that is unknown, ended or made
// from a revoked key: the three are indistinguishable on purpose.
func errSessionEnded() error {
	return promokit.Errorf(promokit.EUnauthenticated, "the console session has ended: sign in again")
}

// SignIn exchanges a key secret sent from the client address addr for a
// new console session, and returns the session's id (for the browser's
// cookie, never stored) and its principal. The key is authenticated as a
// request's is (AuthenticateFrom, under lim), so a failed sign-in counts
// toward the limits on failed authentications and returns the same
// *AuthFailure or *AuthRefusal. Checkout and storefront keys, which serve
// shops' servers and pages rather than people, are EForbidden.
func (s *Service) SignIn(ctx context.Context, secret, addr string, lim AuthLimits) (string, promokit.Principal, error) {
	p, err := s.AuthenticateFrom(ctx, secret, addr, lim)
	if err != nil {
		return "", promokit.Principal{}, err
	}
	switch p.Role {
	case promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner:
	default:
		return "", promokit.Principal{}, promokit.Errorf(promokit.EForbidden,
			"a %s key cannot sign in to the console: sign in with an admin, seller or partner key", p.Role)
	}
	id := promokit.NewSessionID()
	now := s.now()
	sess := &promokit.Session{Hash: promokit.HashSession(id), KeyID: p.KeyID, CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(s.sessionLifetime)}
	if err := s.write(ctx, func(tx storage.Tx) error { return tx.SessionCreate(ctx, sess) }); err != nil {
		return "", promokit.Principal{}, err
	}
	return id, p, nil
}

// Session returns the principal of the console session id: the principal
// of its key, as the key's requests have. A session that is unknown,
// idle past the idle timeout, past its lifetime or made from a revoked
// key is EUnauthenticated. Its use is written at most every minute.
func (s *Service) Session(ctx context.Context, id string) (promokit.Principal, error) {
	if !promokit.ValidSessionID(id) {
		return promokit.Principal{}, errSessionEnded()
	}
	hash := promokit.HashSession(id)
	var sk *promokit.SessionKey
	err := s.read(ctx, func(tx storage.Tx) error {
		var err error
		sk, err = tx.SessionGet(ctx, hash)
		return err
	})
	if isNotFound(err) {
		return promokit.Principal{}, errSessionEnded()
	}
	if err != nil {
		return promokit.Principal{}, err
	}
	now := s.now()
	if sk.Key.RevokedAt != nil || !sk.Live(now, s.sessionIdle) {
		return promokit.Principal{}, errSessionEnded()
	}
	if now.Sub(sk.SeenAt) >= sessionTouch(s.sessionIdle) {
		err := s.write(ctx, func(tx storage.Tx) error { return tx.SessionTouch(ctx, hash, now) })
		if isNotFound(err) { // signed out meanwhile
			return promokit.Principal{}, errSessionEnded()
		}
		if err != nil {
			return promokit.Principal{}, err
		}
	}
	return sk.Key.Principal(), nil
}

// SignOut ends the console session id. An id that is no session, or no
// longer one, is ended already: it is no error.
func (s *Service) SignOut(ctx context.Context, id string) error {
	if !promokit.ValidSessionID(id) {
		return nil
	}
	err := s.write(ctx, func(tx storage.Tx) error { return tx.SessionDelete(ctx, promokit.HashSession(id)) })
	if isNotFound(err) {
		return nil
	}
	return err
}

// PurgeSessions deletes the sessions that have ended by time, and returns
// how many there were. An ended session is refused whether or not it is
// purged: this only keeps the table small.
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	now := s.now()
	var n int64
	err := s.write(ctx, func(tx storage.Tx) error {
		var err error
		n, err = tx.SessionPurge(ctx, now, now.Add(-s.sessionIdle))
		return err
	})
	return n, err
}

// SessionIdle returns the idle timeout of console sessions.
func (s *Service) SessionIdle() time.Duration { return s.sessionIdle }

// SessionLifetime returns the absolute lifetime of console sessions.
func (s *Service) SessionLifetime() time.Duration { return s.sessionLifetime }
