package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Failed authentications cost a database read each (a key that is not in
// the key cache) and are how one would guess keys. AuthenticateFrom limits
// them in two ways, in the fixed windows of the failed look-ups
// (LookupWindow):
//
//   - Per client address, in the database: each failed authentication that
//     was checked against the database is counted as the subject "auth:"
//     and the address, with the conditional increment of the failed
//     look-ups (FailLookups), so that every process on one database shares
//     the count and at most the limit's failures of an address are ever
//     answered 401 in a window. The one that does not fit is answered with
//     an *AuthRefusal instead, and the process remembers the block until
//     the window ends: every later request from the address is refused
//     before its key is looked at, with no database read, whether the key
//     is right or wrong, so that a blocked address cannot go on guessing.
//     Another process learns of the block at the address's next failure
//     there, which is refused in turn; until then it checks the keys the
//     address sends as usual.
//   - In all, per process, in memory: once a process has checked its limit
//     of unknown keys against the database in a window, it refuses every
//     key it would have to look up until the window ends. This bounds the
//     database reads a flood from many addresses costs each process; a
//     count shared in the database would itself be a write per failure,
//     the load the limit sheds. Keys this process authenticated lately
//     (within the key cache's TTL plus one window) go on being served
//     from memory meanwhile, so that a flood does not lock out the clients
//     at work; a key revoked through another process is then refused after
//     at most that long.
//
// A secret the database refused is refused again from memory for
// NegativeKeyTTL (the key cache's negative answers): a flood of one wrong
// key costs no database read, and counts against no limit, since it
// guesses nothing new. A missing or malformed key is never looked up and
// counts against nothing either.

// AuthLimits are how many failed authentications may be checked against
// the database per window: Addr per client address, counted in the
// database and shared by every process, and Global in all, per process.
// Zero or less leaves that limit off.
type AuthLimits struct {
	Addr, Global int
}

// Kinds of limit on failed authentications (AuthRefusal.Kind).
const (
	AuthLimitAddr   = "addr"
	AuthLimitGlobal = "global"
)

// AuthRefusal is the error of an authentication refused before or instead
// of its answer, because the client address (Kind AuthLimitAddr) or this
// process (AuthLimitGlobal) has had too many failed authentications in the
// current window; RetryAfter is the time until the window ends.
type AuthRefusal struct {
	Kind       string
	RetryAfter time.Duration
}

func (r *AuthRefusal) Error() string {
	if r.Kind == AuthLimitGlobal {
		return "too many failed authentications on this server"
	}
	return "too many failed authentications from this client address"
}

// How a failed authentication was decided (AuthFailure.Checked).
const (
	AuthCheckedNone     = "none"     // the secret cannot be a key: nothing was looked up
	AuthCheckedCache    = "cache"    // the database refused the secret a moment ago
	AuthCheckedDatabase = "database" // the database does not know the key, or it is revoked
)

// AuthFailure is the error of a key that is malformed, unknown or revoked:
// it unwraps to a *promokit.Error with the code EUnauthenticated, and
// Checked tells how it was decided.
type AuthFailure struct {
	Checked string
	err     error
}

func (f *AuthFailure) Error() string { return f.err.Error() }
func (f *AuthFailure) Unwrap() error { return f.err }

func authFailure(checked string) *AuthFailure {
	return &AuthFailure{Checked: checked, err: promokit.Errorf(promokit.EUnauthenticated, "the API key is not valid")}
}

// AuthenticateFrom returns the principal of a key secret sent from the
// client address addr ("" for none, which no address limit counts), under
// lim. A key that is malformed, unknown or revoked is an *AuthFailure
// (EUnauthenticated); an address or a process over its limit is an
// *AuthRefusal, returned before the key is looked at for a blocked address
// and instead of the failure for the failure that does not fit. Any other
// error is the database's. It decides nothing about what the principal may
// do: any secret may be presented.
func (s *Service) AuthenticateFrom(ctx context.Context, secret, addr string, lim AuthLimits) (promokit.Principal, error) {
	now := s.now()
	if lim.Addr > 0 && addr != "" {
		if r := s.auth.blockedAddr(addr, now); r != nil {
			return promokit.Principal{}, r
		}
	}
	if len(secret) < 10 || len(secret) > 200 {
		return promokit.Principal{}, authFailure(AuthCheckedNone)
	}
	hash := string(promokit.HashKey(secret))
	if p, ok := s.keys.get(hash, now, 0); ok {
		return p, nil
	}
	if s.keys.refused(hash, now) {
		return promokit.Principal{}, authFailure(AuthCheckedCache)
	}
	if lim.Global > 0 {
		if r := s.auth.globalRefusal(now, lim.Global); r != nil {
			if p, ok := s.keys.get(hash, now, LookupWindow); ok {
				return p, nil
			}
			return promokit.Principal{}, r
		}
	}
	var k *promokit.Key
	err := s.read(ctx, func(tx storage.Tx) error {
		var err error
		k, err = tx.KeyGetByHash(ctx, []byte(hash))
		return err
	})
	if err != nil && !isNotFound(err) {
		return promokit.Principal{}, err
	}
	if err == nil && k.RevokedAt == nil {
		p := k.Principal()
		s.keys.put(hash, p, now)
		return p, nil
	}
	s.keys.refuse(hash, now)
	return promokit.Principal{}, s.failAuth(ctx, addr, lim)
}

// failAuth counts a failed authentication that was checked against the
// database, in this process and against addr in the database, and returns
// what to answer: its failure when it fits within both limits, the
// refusal of the first it does not fit otherwise (counting nothing
// further). The count is written even if ctx ends: the read has happened.
func (s *Service) failAuth(ctx context.Context, addr string, lim AuthLimits) error {
	if lim.Global > 0 {
		if r := s.auth.takeGlobal(s.now(), lim.Global); r != nil {
			return r
		}
	}
	if lim.Addr > 0 && addr != "" {
		f, err := s.countFailures(context.WithoutCancel(ctx), []string{"auth:" + addr}, []int64{int64(lim.Addr)}, 1)
		if err != nil {
			return err
		}
		if f.over != nil {
			end := f.window.Add(LookupWindow)
			now := s.now()
			s.auth.block(addr, end, now)
			return &AuthRefusal{Kind: AuthLimitAddr, RetryAfter: end.Sub(now)}
		}
	}
	return authFailure(AuthCheckedDatabase)
}

// authGuard is this process's state of the limits on failed
// authentications: its own count of them in the current window, and the
// client addresses it knows to be blocked.
type authGuard struct {
	mu       sync.Mutex
	window   time.Time // of failures
	failures int       // checked against the database in window
	blocked  map[string]time.Time
	last     time.Time    // the latest end of a block
	nBlocked atomic.Int64 // len(blocked), read without the lock
}

// maxAuthBlocks bounds the blocked addresses a process remembers: past it,
// those whose block has ended are forgotten, and if none has, all of them
// (each is learnt again from the database at its next failure).
const maxAuthBlocks = 100_000

// blockedAddr returns the refusal of addr while it is blocked. Without a
// block in the process it reads one atomic counter: every request pays it.
func (g *authGuard) blockedAddr(addr string, now time.Time) *AuthRefusal {
	if g.nBlocked.Load() == 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !now.Before(g.last) { // every block has ended
		clear(g.blocked)
		g.nBlocked.Store(0)
		return nil
	}
	end, ok := g.blocked[addr]
	if !ok || !now.Before(end) {
		return nil
	}
	return &AuthRefusal{Kind: AuthLimitAddr, RetryAfter: end.Sub(now)}
}

// block remembers that addr is blocked until end.
func (g *authGuard) block(addr string, end, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.blocked == nil {
		g.blocked = make(map[string]time.Time)
	}
	if len(g.blocked) >= maxAuthBlocks {
		for a, e := range g.blocked {
			if !now.Before(e) {
				delete(g.blocked, a)
			}
		}
		if len(g.blocked) >= maxAuthBlocks {
			clear(g.blocked)
		}
	}
	g.blocked[addr] = end
	if end.After(g.last) {
		g.last = end
	}
	g.nBlocked.Store(int64(len(g.blocked)))
}

// globalRefusal returns the refusal of the process's limit while it has
// had limit failures in the current window.
func (g *authGuard) globalRefusal(now time.Time, limit int) *AuthRefusal {
	g.mu.Lock()
	defer g.mu.Unlock()
	if w := lookupWindow(now); !w.Equal(g.window) || g.failures < limit {
		return nil
	}
	return &AuthRefusal{Kind: AuthLimitGlobal, RetryAfter: g.window.Add(LookupWindow).Sub(now)}
}

// takeGlobal counts one failure against the process's limit if it fits,
// and returns the refusal otherwise.
func (g *authGuard) takeGlobal(now time.Time, limit int) *AuthRefusal {
	g.mu.Lock()
	defer g.mu.Unlock()
	if w := lookupWindow(now); !w.Equal(g.window) {
		g.window, g.failures = w, 0
	}
	if g.failures >= limit {
		return &AuthRefusal{Kind: AuthLimitGlobal, RetryAfter: g.window.Add(LookupWindow).Sub(now)}
	}
	g.failures++
	return nil
}
