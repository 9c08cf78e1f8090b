package engine_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// keyReads is a store that counts the keys it is asked for by hash.
type keyReads struct {
	storage.DB
	n atomic.Int64
}

func (s *keyReads) Read(ctx context.Context, fn func(storage.Tx) error) error {
	return s.DB.Read(ctx, func(tx storage.Tx) error { return fn(&keyReadsTx{Tx: tx, n: &s.n}) })
}

type keyReadsTx struct {
	storage.Tx
	n *atomic.Int64
}

func (t *keyReadsTx) KeyGetByHash(ctx context.Context, hash []byte) (*promokit.Key, error) {
	t.n.Add(1)
	return t.Tx.KeyGetByHash(ctx, hash)
}

// wantAuth fails unless authenticating secret with lim gives the error of
// kind want ("" for none, "none", "cache", "database" for an AuthFailure so
// decided, "addr" or "global" for an AuthRefusal) after reads key reads.
func wantAuth(t *testing.T, svc *engine.Service, st *keyReads, secret string, lim engine.AuthLimits, want string, reads int64) {
	t.Helper()
	before := st.n.Load()
	_, err := svc.AuthenticateFrom(context.Background(), secret, "192.0.2.1", lim)
	var (
		failure *engine.AuthFailure
		refusal *engine.AuthRefusal
		got     string
	)
	switch {
	case err == nil:
	case errors.As(err, &failure):
		got = failure.Checked
		if promokit.ErrorCode(err) != promokit.EUnauthenticated {
			t.Errorf("failure %v: code %q, want unauthenticated", err, promokit.ErrorCode(err))
		}
	case errors.As(err, &refusal):
		got = refusal.Kind
	default:
		t.Fatalf("AuthenticateFrom: %v", err)
	}
	if got != want || st.n.Load()-before != reads {
		t.Fatalf("AuthenticateFrom: %q after %d key reads, want %q after %d", got, st.n.Load()-before, want, reads)
	}
}

// TestAuthNegativeCache: a refused secret is refused from memory for
// NegativeKeyTTL, then read again; a key created by the process clears
// the refusals; a revoked key is refused and forgotten, so that a flood
// that reaches the global limit does not serve it from the cache again.
func TestAuthNegativeCache(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		st := &keyReads{DB: open(t)}
		b := setupWith(t, func(*testing.T) storage.DB { return st }, engine.Config{})
		const wrong = "pk_wrong_wrong_wrong_wrong_wrong_wrong_wrong"
		none := engine.AuthLimits{}
		wantAuth(t, b.svc, st, wrong, none, engine.AuthCheckedDatabase, 1)
		wantAuth(t, b.svc, st, wrong, none, engine.AuthCheckedCache, 0)
		wantAuth(t, b.svc, st, "short", none, engine.AuthCheckedNone, 0)
		b.clock.Add(engine.NegativeKeyTTL)
		wantAuth(t, b.svc, st, wrong, none, engine.AuthCheckedDatabase, 1)
		if !b.svc.KeyRefused(wrong) {
			t.Fatal("the wrong key is not refused from memory")
		}
		k, secret, err := b.svc.CreateKey(b.seller, engine.KeyInput{Name: "till", Role: promokit.RoleCheckout})
		if err != nil {
			t.Fatal(err)
		}
		if b.svc.KeyRefused(wrong) {
			t.Fatal("a key was created, and the refusals are still remembered")
		}

		// The key is cached, then revoked through another process; past
		// the cache's TTL this one reads it, refuses it and forgets it.
		b.clock.Set(jan1.Truncate(time.Minute).Add(time.Minute))
		lim := engine.AuthLimits{Global: 1}
		wantAuth(t, b.svc, st, secret, lim, "", 1)
		wantAuth(t, b.svc, st, secret, lim, "", 0)
		other := engine.New(engine.Config{DB: st, Clock: b.clock})
		if _, err := other.RevokeKey(b.seller, k.ID); err != nil {
			t.Fatal(err)
		}
		b.clock.Add(6 * time.Second)
		wantAuth(t, b.svc, st, secret, lim, engine.AuthCheckedDatabase, 1)
		// The global limit (1) is reached. Once the refusal has expired,
		// the revoked key is not served from the cache's grace.
		b.clock.Add(engine.NegativeKeyTTL)
		wantAuth(t, b.svc, st, secret, lim, engine.AuthLimitGlobal, 0)
	})
}
