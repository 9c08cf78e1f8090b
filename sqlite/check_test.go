package sqlite

import (
	"slices"
	"testing"

	"github.com/promokit/promokit"
)

// TestCheckCounters checks that the check compares every counter the
// root package lists, and no other.
func TestCheckCounters(t *testing.T) {
	t.Parallel()
	for _, c := range promokit.Counters() {
		if len(checkCounters[c]) == 0 {
			t.Errorf("counter %s is not checked", c)
		}
	}
	for c := range checkCounters {
		if !slices.Contains(promokit.Counters(), c) {
			t.Errorf("counter %s is checked but not listed in promokit.Counters", c)
		}
	}
}
