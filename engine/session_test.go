package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// mustCreateKey creates a key as the admin and returns its id and secret.
func mustCreateKey(t *testing.T, b *bundle, in engine.KeyInput) (string, string) {
	t.Helper()
	k, secret, err := b.svc.CreateKey(b.admin, in)
	if err != nil {
		t.Fatalf("CreateKey(%+v): %v", in, err)
	}
	return k.ID, secret
}

// mustSignIn signs in with secret and returns the session id.
func mustSignIn(t *testing.T, svc *engine.Service, secret string) string {
	t.Helper()
	id, _, err := svc.SignIn(context.Background(), secret, "192.0.2.1", engine.AuthLimits{})
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	return id
}

// wantSession fails unless session id is live on svc with the principal of
// key keyID, or, with keyID "", ended.
func wantSession(t *testing.T, svc *engine.Service, id, keyID string) {
	t.Helper()
	p, err := svc.Session(context.Background(), id)
	if keyID == "" {
		if promokit.ErrorCode(err) != promokit.EUnauthenticated {
			t.Fatalf("Session of an ended session: %+v, %v; want unauthenticated", p, err)
		}
		return
	}
	if err != nil || p.KeyID != keyID {
		t.Fatalf("Session = %+v, %v; want the principal of %s", p, err, keyID)
	}
}

// TestSignIn checks which keys may sign in, the principal a session
// carries, and that sign-ins count toward the limit on failed
// authentications.
func TestSignIn(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		sellerID, seller := mustCreateKey(t, b, engine.KeyInput{Role: promokit.RoleSeller, StoreID: b.shop.ID})
		_, checkout := mustCreateKey(t, b, engine.KeyInput{Role: promokit.RoleCheckout, StoreID: b.shop.ID})
		_, storefront := mustCreateKey(t, b, engine.KeyInput{Role: promokit.RoleStorefront, StoreID: b.shop.ID})
		partnerID, partner := mustCreateKey(t, b, engine.KeyInput{Role: promokit.RolePartner, PartnerID: b.partnr.ID})
		adminID, admin := mustCreateKey(t, b, engine.KeyInput{Role: promokit.RoleAdmin})

		for _, k := range []struct{ id, secret string }{{adminID, admin}, {sellerID, seller}, {partnerID, partner}} {
			id := mustSignIn(t, b.svc, k.secret)
			if !promokit.ValidSessionID(id) {
				t.Fatalf("session id %q is not of the session ids' form", id)
			}
			wantSession(t, b.svc, id, k.id)
		}
		p, err := b.svc.Session(context.Background(), mustSignIn(t, b.svc, seller))
		if err != nil || p.Role != promokit.RoleSeller || p.StoreID != b.shop.ID {
			t.Fatalf("seller session: %+v %v", p, err)
		}

		for _, secret := range []string{checkout, storefront} {
			id, _, err := b.svc.SignIn(context.Background(), secret, "192.0.2.1", engine.AuthLimits{})
			if e := wantCode(t, err, promokit.EForbidden); id != "" || e == nil {
				t.Fatalf("SignIn of a shop's key: %q %v", id, err)
			}
		}

		// Wrong keys fail as requests do and count per address: the
		// failure past the limit is refused, and so is the right key
		// from that address until the minute ends.
		lim := engine.AuthLimits{Addr: 2}
		for i, secret := range []string{"pk_wrong-one-xxxxxxxxxxxx", "pk_wrong-two-xxxxxxxxxxxx"} {
			_, _, err := b.svc.SignIn(context.Background(), secret, "198.51.100.7", lim)
			var failure *engine.AuthFailure
			if !errors.As(err, &failure) {
				t.Fatalf("wrong key %d: %v, want an AuthFailure", i, err)
			}
		}
		_, _, err = b.svc.SignIn(context.Background(), "pk_wrong-three-xxxxxxxxxx", "198.51.100.7", lim)
		var refusal *engine.AuthRefusal
		if !errors.As(err, &refusal) || refusal.Kind != engine.AuthLimitAddr {
			t.Fatalf("the failure past the limit: %v, want an AuthRefusal of the address", err)
		}
		if _, _, err := b.svc.SignIn(context.Background(), admin, "198.51.100.7", lim); !errors.As(err, &refusal) {
			t.Fatalf("the right key from a blocked address: %v, want an AuthRefusal", err)
		}
		mustSignIn(t, b.svc, admin) // from another address
	})
}

// TestSessionEnds checks every way a session ends: idle past the idle
// timeout, past its lifetime however used, by sign-out, and by revoking its
// key; and that a session id of another form, or unknown, is no session.
func TestSessionEnds(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupWith(t, open, engine.Config{SessionIdle: 30 * time.Minute, SessionLifetime: 2 * time.Hour})
		keyID, secret := mustCreateKey(t, b, engine.KeyInput{Role: promokit.RoleSeller, StoreID: b.shop.ID})

		// Idle: used every 20 minutes it lives; 31 minutes idle ends it.
		idle := mustSignIn(t, b.svc, secret)
		for range 3 {
			b.clock.Add(20 * time.Minute)
			wantSession(t, b.svc, idle, keyID)
		}
		b.clock.Add(31 * time.Minute)
		wantSession(t, b.svc, idle, "")

		// Lifetime: used every 20 minutes, it ends 2 hours after sign-in.
		long := mustSignIn(t, b.svc, secret)
		for range 5 {
			b.clock.Add(20 * time.Minute)
			wantSession(t, b.svc, long, keyID)
		}
		b.clock.Add(20 * time.Minute)
		wantSession(t, b.svc, long, "")

		// Sign-out, twice: the second finds it ended.
		out := mustSignIn(t, b.svc, secret)
		for range 2 {
			if err := b.svc.SignOut(context.Background(), out); err != nil {
				t.Fatalf("SignOut: %v", err)
			}
		}
		wantSession(t, b.svc, out, "")

		for _, id := range []string{"", "short", promokit.NewSessionID() + "x", "!" + promokit.NewSessionID()[1:], promokit.NewSessionID()} {
			wantSession(t, b.svc, id, "")
		}

		// Revoking the key ends its sessions.
		a, c := mustSignIn(t, b.svc, secret), mustSignIn(t, b.svc, secret)
		if _, err := b.svc.RevokeKey(b.admin, keyID); err != nil {
			t.Fatal(err)
		}
		wantSession(t, b.svc, a, "")
		wantSession(t, b.svc, c, "")
	})
}

// TestSessionPurge checks that the purge deletes the sessions that time
// ended and keeps the live ones.
func TestSessionPurge(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupWith(t, open, engine.Config{SessionIdle: 30 * time.Minute, SessionLifetime: 2 * time.Hour})
		adminID, admin := mustCreateKey(t, b, engine.KeyInput{Role: promokit.RoleAdmin})
		idle := mustSignIn(t, b.svc, admin)
		b.clock.Add(20 * time.Minute)
		live := mustSignIn(t, b.svc, admin)
		b.clock.Add(20 * time.Minute)
		n, err := b.svc.PurgeSessions(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("PurgeSessions = %d, %v; want 1", n, err)
		}
		wantSession(t, b.svc, idle, "")
		wantSession(t, b.svc, live, adminID)
	})
}

// TestSessionShared checks that two services on one database, as two
// server processes, share sessions: made on one, used on the other, ended
// by a sign-out or a revocation on either.
func TestSessionShared(t *testing.T) {
	t.Parallel()
	for _, database := range []string{"sqlite", "postgres"} {
		t.Run(database, func(t *testing.T) {
			t.Parallel()
			st1, st2 := dbtest.OpenShared(t, database)
			clock := promokit.NewFixedClock(jan1)
			a := engine.New(engine.Config{DB: st1, Clock: clock})
			b := engine.New(engine.Config{DB: st2, Clock: clock})
			if _, _, err := a.Bootstrap(context.Background()); err != nil {
				t.Fatal(err)
			}
			admin := as(promokit.Principal{KeyID: "key_admin", Role: promokit.RoleAdmin})
			k, secret, err := a.CreateKey(admin, engine.KeyInput{Role: promokit.RoleAdmin})
			if err != nil {
				t.Fatal(err)
			}
			s1 := mustSignIn(t, a, secret)
			wantSession(t, b, s1, k.ID)
			if err := b.SignOut(context.Background(), s1); err != nil {
				t.Fatal(err)
			}
			wantSession(t, a, s1, "")

			s2 := mustSignIn(t, b, secret)
			wantSession(t, a, s2, k.ID)
			// Revoked through a: b, which authenticated the key lately
			// and keeps it in its key cache, ends the session at once.
			if _, err := a.RevokeKey(admin, k.ID); err != nil {
				t.Fatal(err)
			}
			wantSession(t, b, s2, "")
		})
	}
}
