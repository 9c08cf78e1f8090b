package storagetest

import (
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// testSettings checks InitSettings, GetSettings and UpdateSettings with its
// version check.
func testSettings(t *testing.T, b *bundle) {
	err := b.readErr(func(tx storage.Tx) error {
		_, err := tx.SettingsGet(b.ctx)
		return err
	})
	wantErr(t, "GetSettings before InitSettings", err, storage.ErrNotFound)

	s := promokit.DefaultSettings(b.now)
	s.TimeZone = "Europe/Paris"
	var inserted bool
	b.write(t, func(tx storage.Tx) (err error) {
		inserted, err = tx.SettingsInit(b.ctx, &s)
		return err
	})
	if !inserted {
		t.Fatal("InitSettings on an empty database = false, want true")
	}
	other := promokit.DefaultSettings(b.at(time.Minute))
	other.Name = "other"
	b.write(t, func(tx storage.Tx) (err error) {
		inserted, err = tx.SettingsInit(b.ctx, &other)
		return err
	})
	if inserted {
		t.Fatal("second InitSettings = true, want false")
	}
	wantEqual(t, "settings", &s, mustGetSettings(t, b))

	// An update at the current version succeeds and bumps the version.
	next := s
	next.Name = "Market"
	next.Currency = "EUR"
	next.Policy, _ = promokit.PolicyPreset(promokit.PresetOpen)
	next.Policy.Affiliate.HoldDays = 14
	next.UpdatedAt = b.at(time.Hour)
	b.write(t, func(tx storage.Tx) error { return tx.SettingsUpdate(b.ctx, &next, s.Version) })
	if next.Version != s.Version+1 {
		t.Fatalf("Version after UpdateSettings = %d, want %d", next.Version, s.Version+1)
	}
	wantEqual(t, "updated settings", &next, mustGetSettings(t, b))

	// An update at the old version loses.
	stale := s
	stale.Name = "Stale"
	err = b.writeErr(func(tx storage.Tx) error { return tx.SettingsUpdate(b.ctx, &stale, s.Version) })
	wantErr(t, "UpdateSettings at a stale version", err, storage.ErrStale)
	wantEqual(t, "settings after the stale update", &next, mustGetSettings(t, b))
}

func mustGetSettings(t *testing.T, b *bundle) *promokit.Settings {
	t.Helper()
	var got *promokit.Settings
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.SettingsGet(b.ctx)
		return err
	})
	return got
}
