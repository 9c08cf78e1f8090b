package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// migrationFS holds the migrations, named NNNN_name.sql; NNNN is the version.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the key of the advisory lock that serialises Migrate
// across processes: "promokit" in ASCII.
const migrationLock int64 = 0x70726f6d6f6b6974

// migration is one embedded migration.
type migration struct {
	version int64
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("postgres: list migrations: %w", err)
	}
	out := make([]migration, 0, len(names))
	seen := make(map[int64]string, len(names))
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("postgres: migration %s: name must be NNNN_name.sql", base)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("postgres: migrations %s and %s share version %d", other, base, v)
		}
		seen[v] = base
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("postgres: read migration %s: %w", base, err)
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// MigrationVersions lists the versions of the embedded migrations in order.
func (s *DB) MigrationVersions() []int64 {
	out := make([]int64, len(s.migrations))
	for i, m := range s.migrations {
		out[i] = m.version
	}
	return out
}

// Migrate applies the embedded migrations that schema_migrations does not
// list, in order, in one transaction. The transaction first takes an
// advisory lock, so when several processes start at once one migrates and
// the others wait for it, then find nothing left to do. Tables are created
// unqualified, in the first schema of the search_path.
func (s *DB) Migrate(ctx context.Context) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}, func(t pgx.Tx) error {
		if _, err := t.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("postgres: migrate: lock: %w", err)
		}
		// Under the lock, and at READ COMMITTED, each statement sees what a
		// process that held the lock before committed.
		if _, err := t.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    bigint      PRIMARY KEY,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return fmt.Errorf("postgres: migrate: create schema_migrations: %w", err)
		}
		applied := make(map[int64]bool)
		rows, err := t.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("postgres: migrate: list applied: %w", err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("postgres: migrate: list applied: %w", err)
		}
		for _, v := range versions {
			applied[v] = true
		}
		// The time is bookkeeping only: no rule ever reads it.
		now := time.Now().UTC().Truncate(time.Microsecond)
		for _, m := range s.migrations {
			if applied[m.version] {
				continue
			}
			// Exec without arguments uses the simple protocol, which runs
			// a file of several statements.
			if _, err := t.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("postgres: migrate %s: %w", m.name, err)
			}
			if _, err := t.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.version, now); err != nil {
				return fmt.Errorf("postgres: migrate %s: record: %w", m.name, err)
			}
		}
		return nil
	})
}
