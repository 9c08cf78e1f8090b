package promokit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Session is a signed-in console visit: the browser holds a random session
// id in a cookie, the database its hash, the key it was made from and its
// times. Every process on the database finds it, a revoked key ends it, and
// it ends by itself when it was idle longer than the idle timeout (SeenAt)
// or reaches ExpiresAt, whatever its use.
type Session struct {
	Hash      []byte
	KeyID     string
	CreatedAt time.Time
	SeenAt    time.Time
	ExpiresAt time.Time
}

// SessionKey is a session with the key it was made from, as a look-up
// returns it: the key tells who the session's principal is and whether it
// was revoked.
type SessionKey struct {
	Session
	Key Key
}

// NewSessionID returns a new random session id: 256 bits from crypto/rand,
// as 43 URL-safe characters. It is shown to the browser alone; the database
// keeps HashSession of it.
func NewSessionID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashSession returns the stored form of a session id. As with key secrets
// (HashKey), the id has 256 bits of entropy, so a fast hash is enough: one
// who reads the table cannot turn a hash back into a cookie.
func HashSession(id string) []byte {
	h := sha256.Sum256([]byte("session:" + id))
	return h[:]
}

// ValidSessionID reports whether id has the form NewSessionID gives, so that
// a cookie of another form is refused before the database is asked.
func ValidSessionID(id string) bool {
	if len(id) != 43 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Live reports whether s is in force at now under the idle timeout idle:
// not past its absolute expiry, and seen less than idle ago.
func (s *Session) Live(now time.Time, idle time.Duration) bool {
	return now.Before(s.ExpiresAt) && now.Before(s.SeenAt.Add(idle))
}
