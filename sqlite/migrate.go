package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrationFS holds the schema migrations, named NNNN_name.sql where NNNN is
// the version. PostgreSQL has the same numbers in postgres/migrations.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded schema change.
type migration struct {
	version int64
	name    string
	sql     string
}

// loadMigrations reads the migrations of fsys, sorted by version. Two files
// with one version, or a name without a version, are errors.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("sqlite: list migrations: %w", err)
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("sqlite: migration %s is not named NNNN_name.sql", base)
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("sqlite: migration %s is not named NNNN_name.sql", base)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read migration %s: %w", base, err)
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("sqlite: migrations %s and %s share version %d", out[i-1].name, out[i].name, out[i].version)
		}
	}
	return out, nil
}

// MigrationVersions lists the versions of the embedded migrations in
// ascending order.
func (s *DB) MigrationVersions() []int64 {
	out := make([]int64, len(s.migrations))
	for i, m := range s.migrations {
		out[i] = m.version
	}
	return out
}

// Migrate applies the embedded migrations that have not been applied, in
// order. Each runs in its own BEGIN IMMEDIATE transaction that first checks
// whether it was applied, so several processes may migrate one file at once:
// the first applies each migration and the others find it done.
func (s *DB) Migrate(ctx context.Context) error {
	for _, m := range s.migrations {
		if err := s.migrate(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// migrate applies m unless schema_migrations records it.
func (s *DB) migrate(ctx context.Context, m migration) (err error) {
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate %s: begin: %w", m.name, err)
	}
	defer func() {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, fmt.Errorf("sqlite: migrate %s: rollback: %w", m.name, rbErr))
		}
	}()
	if _, err := sqlTx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	var applied int
	if err := sqlTx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&applied); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", m.name, err)
	}
	if applied > 0 {
		return nil
	}
	if _, err := sqlTx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", m.name, err)
	}
	if _, err := sqlTx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, micros(time.Now())); err != nil {
		return fmt.Errorf("sqlite: migrate %s: record: %w", m.name, err)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate %s: commit: %w", m.name, err)
	}
	return nil
}
