package dbtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMigrationVersions checks that both databases have the same
// migration numbers, and that the SQLite driver embeds every file of its
// directory.
func TestMigrationVersions(t *testing.T) {
	t.Parallel()
	sqliteVersions := dirVersions(t, filepath.Join("..", "sqlite", "migrations"))
	postgresVersions := dirVersions(t, filepath.Join("..", "postgres", "migrations"))
	if len(sqliteVersions) == 0 {
		t.Fatal("no SQLite migrations")
	}
	if diff := cmp.Diff(sqliteVersions, postgresVersions); diff != "" {
		t.Errorf("migration versions differ (-sqlite +postgres):\n%s", diff)
	}
	if diff := cmp.Diff(sqliteVersions, OpenSQLite(t).MigrationVersions()); diff != "" {
		t.Errorf("embedded SQLite migrations differ from the directory (-dir +embedded):\n%s", diff)
	}
}

// dirVersions returns the versions of the NNNN_name.sql files of dir, in
// the order of their names.
func dirVersions(t *testing.T, dir string) []int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	var out []int64
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			t.Fatalf("%s/%s is not named NNNN_name.sql", dir, e.Name())
		}
		out = append(out, v)
	}
	return out
}
