package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// SettingsInit inserts the marketplace settings unless the row exists and
// reports whether it inserted. The insert does nothing on conflict, so of
// several processes starting at once exactly one sees true.
func (t *tx) SettingsInit(ctx context.Context, s *promokit.Settings) (bool, error) {
	tag, err := t.q.Exec(ctx, `
		INSERT INTO settings (id, name, currency, time_zone, policy, version, updated_at)
		VALUES (1, $1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO NOTHING`,
		s.Name, s.Currency, s.TimeZone, &s.Policy, s.Version, s.UpdatedAt)
	if err != nil {
		return false, fmt.Errorf("postgres: init settings: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// SettingsGet returns the marketplace settings; storage.ErrNotFound before
// InitSettings.
func (t *tx) SettingsGet(ctx context.Context) (*promokit.Settings, error) {
	return scanSettings(t.q.QueryRow(ctx, getSettingsSQL))
}

const getSettingsSQL = `SELECT name, currency, time_zone, policy, version, updated_at FROM settings WHERE id = 1`

// scanSettings reads the row of getSettingsSQL.
func scanSettings(row pgx.Row) (*promokit.Settings, error) {
	var s promokit.Settings
	err := row.Scan(&s.Name, &s.Currency, &s.TimeZone, &s.Policy, &s.Version, &s.UpdatedAt)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, notFound("settings", "")
		}
		return nil, fmt.Errorf("postgres: get settings: %w", err)
	}
	return &s, nil
}

// SettingsUpdate replaces the settings if their version is still version,
// and sets s.Version to version+1. It returns storage.ErrStale when another
// write came first or there are no settings.
func (t *tx) SettingsUpdate(ctx context.Context, s *promokit.Settings, version int64) error {
	tag, err := t.q.Exec(ctx, `
		UPDATE settings
		SET name = $1, currency = $2, time_zone = $3, policy = $4, version = $5 + 1, updated_at = $6
		WHERE id = 1 AND version = $5`,
		s.Name, s.Currency, s.TimeZone, &s.Policy, version, s.UpdatedAt)
	if err != nil {
		return fmt.Errorf("postgres: update settings: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return storage.Stale("settings", "")
	}
	s.Version = version + 1
	return nil
}
