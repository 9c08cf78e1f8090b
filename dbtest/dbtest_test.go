package dbtest

import (
	"testing"

	"github.com/promokit/promokit/storage"
)

// TestForEach checks that ForEach opens working databases of each kind.
func TestForEach(t *testing.T) {
	t.Parallel()
	ForEach(t, func(t *testing.T, open func(t *testing.T) storage.DB) {
		t.Parallel()
		s := open(t)
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	})
}

// TestWithSearchPath checks that the schema reaches both forms of
// connection strings.
func TestWithSearchPath(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"postgres://u:p@db:5432/x?sslmode=disable":   "postgres://u:p@db:5432/x?search_path=t_1&sslmode=disable",
		"postgresql://u@/x?host=/var/run/postgresql": "postgresql://u@/x?host=%2Fvar%2Frun%2Fpostgresql&search_path=t_1",
		"host=db dbname=x":                           "host=db dbname=x search_path=t_1",
	}
	for base, want := range tests {
		if got := withSearchPath(t, base, "t_1"); got != want {
			t.Errorf("withSearchPath(%q) = %q, want %q", base, got, want)
		}
	}
}
