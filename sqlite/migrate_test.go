package sqlite

import (
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// TestLoadMigrations checks the parsing of migration file names.
func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	got, err := loadMigrations(fstest.MapFS{
		"migrations/0010_later.sql":  file,
		"migrations/0002_second.sql": file,
		"migrations/0001_first.sql":  file,
		"migrations/README.md":       file,
	})
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, m := range got {
		versions = append(versions, m.version)
	}
	if diff := cmp.Diff([]int64{1, 2, 10}, versions); diff != "" {
		t.Fatalf("versions (-want +got):\n%s", diff)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"no version":       {"migrations/first.sql": file},
		"bad version":      {"migrations/x1_first.sql": file},
		"zero version":     {"migrations/0000_first.sql": file},
		"shared version":   {"migrations/0001_a.sql": file, "migrations/001_b.sql": file},
		"negative version": {"migrations/-1_a.sql": file},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: loadMigrations succeeded", name)
		}
	}
}

// TestMigrateConcurrently checks that processes starting at once on one
// file all migrate without error, and that the migrations are recorded once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/test.db"
	const processes = 4
	stores := make([]*Store, processes)
	for i := range stores {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() {
			if err := s.Migrate(t.Context()); err != nil {
				t.Errorf("Migrate: %v", err)
			}
		})
	}
	wg.Wait()
	var n int
	if err := stores[0].reader.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(stores[0].MigrationVersions()) {
		t.Fatalf("%d migrations recorded, want %d", n, len(stores[0].MigrationVersions()))
	}
}
