package main

import (
	"context"
	"fmt"
)

// runMigrate applies the migrations that the database lacks and closes it.
// serve migrates too; this command lets a deployment migrate before it
// starts new servers, or check that the database is reachable.
func (m *Main) runMigrate(ctx context.Context) error {
	if err := m.openAndMigrate(ctx); err != nil {
		return err
	}
	versions := m.DB.MigrationVersions()
	var latest int64
	if len(versions) > 0 {
		latest = versions[len(versions)-1]
	}
	kind, _, _ := ParseDatabaseURL(m.Config.DatabaseURL)
	if _, err := fmt.Fprintf(m.Stdout, "promokit: the %s database %s is at migration version %d.\n", kind, redactURL(m.Config.DatabaseURL), latest); err != nil {
		return err
	}
	err := m.DB.Close()
	m.DB = nil
	return err
}
