package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/promokit/promokit"
)

// SettingsInit inserts s as the marketplace settings unless a row exists,
// and reports whether it inserted. Of several processes starting at once,
// only one sees true.
func (t *tx) SettingsInit(ctx context.Context, s *promokit.Settings) (bool, error) {
	policy, err := json.Marshal(s.Policy)
	if err != nil {
		return false, fmt.Errorf("sqlite: encode policy: %w", err)
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO settings (id, name, currency, time_zone, policy, version, updated_at)
		VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		s.Name, s.Currency, s.TimeZone, string(policy), s.Version, micros(s.UpdatedAt))
	if err != nil {
		return false, fmt.Errorf("sqlite: init settings: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: init settings: %w", err)
	}
	return n == 1, nil
}

// SettingsGet returns the marketplace settings; storage.ErrNotFound before
// InitSettings.
func (t *tx) SettingsGet(ctx context.Context) (*promokit.Settings, error) {
	var (
		s               promokit.Settings
		policy          string
		updatedAtMicros int64
	)
	err := t.q.QueryRowContext(ctx, `SELECT name, currency, time_zone, policy, version, updated_at FROM settings WHERE id = 1`).
		Scan(&s.Name, &s.Currency, &s.TimeZone, &policy, &s.Version, &updatedAtMicros)
	if err != nil {
		return nil, noRows(err, "settings", "")
	}
	if err := json.Unmarshal([]byte(policy), &s.Policy); err != nil {
		return nil, fmt.Errorf("sqlite: decode policy: %w", err)
	}
	s.UpdatedAt = fromMicros(updatedAtMicros)
	return &s, nil
}

// SettingsUpdate replaces the settings if their stored version is still
// version, and sets s.Version to version+1. It returns storage.ErrStale when
// another write came first or before InitSettings.
func (t *tx) SettingsUpdate(ctx context.Context, s *promokit.Settings, version int64) error {
	policy, err := json.Marshal(s.Policy)
	if err != nil {
		return fmt.Errorf("sqlite: encode policy: %w", err)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE settings
		SET name = ?, currency = ?, time_zone = ?, policy = ?, version = ?, updated_at = ?
		WHERE id = 1 AND version = ?`,
		s.Name, s.Currency, s.TimeZone, string(policy), version+1, micros(s.UpdatedAt), version)
	if err != nil {
		return fmt.Errorf("sqlite: update settings: %w", err)
	}
	if err := mustAffectStale(res, "settings", ""); err != nil {
		return err
	}
	s.Version = version + 1
	return nil
}
