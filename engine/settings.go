package engine

import (
	"context"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Bootstrap prepares a new database: on the first start against an empty
// database it stores the default settings and creates an admin key, whose
// secret it returns with created true. On every later start, and in every
// process but one when several start at once, it returns created false.
func (s *Service) Bootstrap(ctx context.Context) (secret string, created bool, err error) {
	now := s.now()
	err = s.write(ctx, func(tx storage.Tx) error {
		settings := promokit.DefaultSettings(now)
		ok, err := tx.SettingsInit(ctx, &settings)
		if err != nil || !ok {
			return err
		}
		secret = promokit.NewKeySecret()
		created = true
		return tx.KeyCreate(ctx, &promokit.Key{
			ID: promokit.NewID(promokit.PrefixKey, now), Name: "admin (first start)", Role: promokit.RoleAdmin,
			Prefix: promokit.KeyPrefix(secret), Hash: promokit.HashKey(secret), CreatedAt: now,
		})
	})
	if err != nil {
		return "", false, err
	}
	if created {
		s.keys.clearRefused()
	}
	return secret, created, nil
}

// Settings returns the marketplace settings. Every authenticated principal
// may read them: sellers need the policy to know their limits.
func (s *Service) Settings(ctx context.Context) (*promokit.Settings, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	var st *promokit.Settings
	err := s.read(ctx, func(tx storage.Tx) error {
		var err error
		st, err = tx.SettingsGet(ctx)
		return err
	})
	return st, err
}

// SettingsInput changes the settings: each field set replaces the current
// value. Preset, when set, replaces the whole policy with the named preset
// before Policy is applied.
type SettingsInput struct {
	Name     *string          `json:"name"`
	Currency *string          `json:"currency"`
	TimeZone *string          `json:"time_zone"`
	Preset   *string          `json:"preset"`
	Policy   *promokit.Policy `json:"policy"`
}

// UpdateSettings changes the settings if they are still at version (the
// ETag the caller read); admin only. The currency cannot change once a
// promotion exists in it, since every stored amount is in that currency.
func (s *Service) UpdateSettings(ctx context.Context, version int64, in SettingsInput) (*promokit.Settings, error) {
	if _, err := require(ctx, promokit.RoleAdmin); err != nil {
		return nil, err
	}
	var st *promokit.Settings
	err := s.write(ctx, func(tx storage.Tx) error {
		var err error
		st, err = tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		if st.Version != version {
			return promokit.Errorf(promokit.EVersionMismatch, "the settings changed since version %d; read them again", version)
		}
		if in.Name != nil {
			st.Name = *in.Name
		}
		if in.Currency != nil && *in.Currency != st.Currency {
			list, err := tx.PromotionList(ctx, promokit.Scope{}, storage.PromotionFilter{Page: storage.Page{Limit: 1}})
			if err != nil {
				return err
			}
			if len(list) > 0 {
				return promokit.Errorf(promokit.EConflict, "the currency cannot change once promotions exist")
			}
			st.Currency = *in.Currency
		}
		if in.TimeZone != nil {
			st.TimeZone = *in.TimeZone
		}
		if in.Preset != nil {
			p, ok := promokit.PolicyPreset(*in.Preset)
			if !ok {
				var v promokit.Validation
				v.Add("preset", "unknown_preset", "preset must be %q or %q", promokit.PresetMarketplace, promokit.PresetOpen)
				return v.Err()
			}
			st.Policy = p
		}
		if in.Policy != nil {
			st.Policy = *in.Policy
		}
		if err := st.Validate(); err != nil {
			return err
		}
		st.UpdatedAt = s.now()
		// The settings were read above: a stale update means another
		// write came first.
		return changedSince(tx.SettingsUpdate(ctx, st, version), "the settings", version)
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}
