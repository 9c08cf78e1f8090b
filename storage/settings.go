package storage

import (
	"context"

	"github.com/promokit/promokit"
)

// SettingsTx reads and writes the marketplace settings: one row, created once
// and then replaced whole under a version.
type SettingsTx interface {
	// SettingsInit inserts the marketplace settings unless a row exists;
	// it reports whether it inserted. Only one of several processes
	// starting at once sees true.
	SettingsInit(ctx context.Context, s *promokit.Settings) (bool, error)
	// SettingsGet returns the settings; ErrNotFound before SettingsInit.
	SettingsGet(ctx context.Context) (*promokit.Settings, error)
	// SettingsUpdate replaces the settings if their version is still
	// version; it sets s.Version to version+1. ErrStale otherwise, whether
	// the settings changed or were never initialised.
	SettingsUpdate(ctx context.Context, s *promokit.Settings, version int64) error
}
