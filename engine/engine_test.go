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

// jan1 is where the tests stand unless they move the clock.
var jan1 = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// bundle is one test's engine, clock and principals.
type bundle struct {
	svc     *engine.Service
	store   storage.DB
	clock   *promokit.FixedClock
	admin   context.Context
	seller  context.Context // owns shop
	foreign context.Context // owns other
	partner context.Context
	check   context.Context // checkout key bound to shop
	shop    *promokit.Store
	other   *promokit.Store
	partnr  *promokit.Partner
}

func as(p promokit.Principal) context.Context {
	return promokit.NewContext(context.Background(), p)
}

// setup opens a store, bootstraps it and creates two stores with products,
// a partner and a principal of every role.
func setup(t *testing.T, open func(*testing.T) storage.DB) *bundle {
	t.Helper()
	return setupWith(t, open, engine.Config{})
}

// setupWith is setup with a service configured as cfg (its store, clock
// and generation batch are the test's).
func setupWith(t *testing.T, open func(*testing.T) storage.DB, cfg engine.Config) *bundle {
	t.Helper()
	st := open(t)
	clock := promokit.NewFixedClock(jan1)
	cfg.DB, cfg.Clock, cfg.GenerateBatch = st, clock, testBatch
	b := &bundle{store: st, clock: clock, svc: engine.New(cfg)}
	if _, created, err := b.svc.Bootstrap(context.Background()); err != nil || !created {
		t.Fatalf("Bootstrap: %v %v", created, err)
	}
	b.admin = as(promokit.Principal{KeyID: "key_admin", Role: promokit.RoleAdmin})
	b.shop = mustCreateStore(t, b, "Shop", false)
	b.other = mustCreateStore(t, b, "Other", false)
	var err error
	b.partnr, err = b.svc.CreatePartner(b.admin, engine.PartnerInput{Name: "Ann", Kind: promokit.PartnerInfluencer})
	if err != nil {
		t.Fatal(err)
	}
	b.seller = as(promokit.Principal{KeyID: "key_seller", Role: promokit.RoleSeller, StoreID: b.shop.ID})
	b.foreign = as(promokit.Principal{KeyID: "key_foreign", Role: promokit.RoleSeller, StoreID: b.other.ID})
	b.partner = as(promokit.Principal{KeyID: "key_partner", Role: promokit.RolePartner, PartnerID: b.partnr.ID})
	b.check = as(promokit.Principal{KeyID: "key_checkout", Role: promokit.RoleCheckout, StoreID: b.shop.ID})
	return b
}

func mustCreateStore(t *testing.T, b *bundle, name string, p4 bool) *promokit.Store {
	t.Helper()
	s, err := b.svc.CreateStore(b.admin, engine.StoreInput{Name: &name, PartnerPromoCodes: &p4})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"tshirt", "mug"} {
		if _, err := b.svc.PutProduct(b.admin, s.ID, id, engine.ProductInput{Name: id, URL: "https://example.com/" + id}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func set[T any](v T) engine.Nullable[T] { return engine.Nullable[T]{Set: true, Value: v} }

// percentInput is a valid promotion starting tomorrow.
func percentInput() engine.PromotionInput {
	return engine.PromotionInput{
		Name: ptr("Spring"), Type: ptr(promokit.PercentOff), PercentOff: ptr(promokit.BasisPoints(1500)),
		StartsAt: ptr(jan1.Add(24 * time.Hour)), EndsAt: set(jan1.Add(30 * 24 * time.Hour)),
		TotalUses: set(int64(100)),
	}
}

func mustCreatePromotion(t *testing.T, ctx context.Context, b *bundle, in engine.PromotionInput) *promokit.Promotion {
	t.Helper()
	p, err := b.svc.CreatePromotion(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code string) *promokit.Error {
	t.Helper()
	if got := promokit.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	var e *promokit.Error
	errors.As(err, &e)
	return e
}

func TestBootstrapOnce(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		st := open(t)
		a := engine.New(engine.Config{DB: st})
		b := engine.New(engine.Config{DB: st})
		results := make(chan bool, 2)
		for _, s := range []*engine.Service{a, b} {
			go func() {
				_, created, err := s.Bootstrap(context.Background())
				if err != nil {
					t.Error(err)
				}
				results <- created
			}()
		}
		if n := btoi(<-results) + btoi(<-results); n != 1 {
			t.Fatalf("%d processes created an admin key, want exactly 1", n)
		}
		if _, created, err := a.Bootstrap(context.Background()); err != nil || created {
			t.Fatalf("a later start created a key: %v %v", created, err)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestKeys(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		ctx := context.Background()
		k, secret, err := b.svc.CreateKey(b.seller, engine.KeyInput{Name: "till", Role: promokit.RoleCheckout})
		if err != nil {
			t.Fatal(err)
		}
		if k.StoreID != b.shop.ID || len(secret) < 40 || string(k.Hash) == secret {
			t.Fatalf("key %+v", k)
		}
		p, err := b.svc.Authenticate(ctx, secret)
		if err != nil || p.Role != promokit.RoleCheckout || p.StoreID != b.shop.ID {
			t.Fatalf("Authenticate: %+v %v", p, err)
		}
		// A seller cannot mint keys for another store or an admin key.
		_, _, err = b.svc.CreateKey(b.seller, engine.KeyInput{Role: promokit.RoleCheckout, StoreID: b.other.ID})
		wantCode(t, err, promokit.ENotFound)
		_, _, err = b.svc.CreateKey(b.seller, engine.KeyInput{Role: promokit.RoleAdmin})
		wantCode(t, err, promokit.EForbidden)
		_, _, err = b.svc.CreateKey(b.partner, engine.KeyInput{Role: promokit.RolePartner})
		wantCode(t, err, promokit.EForbidden)
		_, _, err = b.svc.CreateKey(b.admin, engine.KeyInput{Role: promokit.RolePartner, PartnerID: "par_missing"})
		wantCode(t, err, promokit.EInvalid)
		// Lists never show secrets and stay in scope.
		keys, err := b.svc.ListKeys(b.foreign, storage.KeyFilter{})
		if err != nil || len(keys) != 0 {
			t.Fatalf("foreign seller sees %d keys: %v", len(keys), err)
		}
		_, err = b.svc.RevokeKey(b.foreign, k.ID)
		wantCode(t, err, promokit.ENotFound)
		// A second process with a cached key sees the revocation after its
		// cache; this process at once.
		other := engine.New(engine.Config{DB: b.store, KeyCacheTTL: -1})
		if _, err := b.svc.RevokeKey(b.seller, k.ID); err != nil {
			t.Fatal(err)
		}
		_, err = b.svc.Authenticate(ctx, secret)
		wantCode(t, err, promokit.EUnauthenticated)
		_, err = other.Authenticate(ctx, secret)
		wantCode(t, err, promokit.EUnauthenticated)
		_, err = b.svc.Authenticate(ctx, "pk_forged_forged_forged_forged_forged_forged")
		wantCode(t, err, promokit.EUnauthenticated)
	})
}

func TestSettingsUpdate(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		s, err := b.svc.Settings(b.partner)
		if err != nil || s.Currency != "USD" || s.Policy.PartnerCodes.MaxCodesPerWindow != 20 {
			t.Fatalf("Settings: %+v %v", s, err)
		}
		_, err = b.svc.UpdateSettings(b.seller, s.Version, engine.SettingsInput{TimeZone: ptr("Europe/Paris")})
		wantCode(t, err, promokit.EForbidden)
		_, err = b.svc.UpdateSettings(b.admin, s.Version, engine.SettingsInput{TimeZone: ptr("Europe/Atlantis")})
		wantCode(t, err, promokit.EInvalid)
		u, err := b.svc.UpdateSettings(b.admin, s.Version, engine.SettingsInput{TimeZone: ptr("Europe/Paris"), Preset: ptr(promokit.PresetOpen)})
		if err != nil || u.TimeZone != "Europe/Paris" || u.Policy.Preset != promokit.PresetOpen || u.Version != s.Version+1 {
			t.Fatalf("UpdateSettings: %+v %v", u, err)
		}
		_, err = b.svc.UpdateSettings(b.admin, s.Version, engine.SettingsInput{Name: ptr("late")})
		wantCode(t, err, promokit.EVersionMismatch)
		mustCreatePromotion(t, b.seller, b, percentInput())
		_, err = b.svc.UpdateSettings(b.admin, u.Version, engine.SettingsInput{Currency: ptr("EUR")})
		wantCode(t, err, promokit.EConflict)
	})
}
