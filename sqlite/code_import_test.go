package sqlite

import (
	"os"
	"testing"

	"github.com/promokit/promokit/storage"
)

var _ storage.Checkpointer = (*DB)(nil)

// TestCheckpoint moves what the log holds into the database file: the
// migrations' writes are in the log until then, the file barely started.
func TestCheckpoint(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/test.db"
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	if err := s.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	if after := size(); after < before+20*4096 {
		t.Fatalf("the database file has %d bytes before the checkpoint, %d after: the log was not copied into it", before, after)
	}
}
