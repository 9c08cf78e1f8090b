package engine

import (
	"errors"
	"fmt"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// TestAPIError checks the translation of the databases' reports into the
// errors the API has always returned, and that other errors pass as they
// are.
func TestAPIError(t *testing.T) {
	t.Parallel()
	plain := errors.New("connection reset")
	tests := []struct {
		name string
		err  error
		code string
		msg  string
	}{
		{"not found", storage.NotFound("promotion", "prm_1"), promokit.ENotFound, `promotion "prm_1" not found`},
		{"wrapped not found", fmt.Errorf("load: %w", storage.NotFound("store", "sto_1")), promokit.ENotFound, `store "sto_1" not found`},
		{"not found without id", storage.NotFound("link", ""), promokit.ENotFound, "link not found"},
		{"settings not found", storage.NotFound("settings", ""), promokit.ENotFound, "the settings are not initialised"},
		{"exists", storage.Exists("store", "sto_1"), promokit.EConflict, `store "sto_1" exists`},
		{"code taken", storage.Taken("code", "SAVE10"), promokit.ECodeTaken, `code "SAVE10" exists`},
		{"link token taken", storage.Taken("link token", ""), promokit.ECodeTaken, "link token exists"},
		{"lease lost", storage.Stale("job", "job_1"), promokit.EConflict, `job "job_1" is no longer leased to this worker`},
		{"stale", storage.Stale("order", "ord-1"), promokit.EConflict, `order "ord-1" changed meanwhile`},
		{"domain error", promokit.Errorf(promokit.EForbidden, "no"), promokit.EForbidden, "no"},
		{"other error", plain, promokit.EInternal, "internal error"},
		{"nil", nil, "", "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := apiError(tc.err)
			if got := promokit.ErrorCode(err); got != tc.code {
				t.Errorf("code = %q, want %q (%v)", got, tc.code, err)
			}
			if got := promokit.ErrorMessage(err); got != tc.msg {
				t.Errorf("message = %q, want %q", got, tc.msg)
			}
			if internal(tc.err) != (tc.code == promokit.EInternal) {
				t.Errorf("internal = %v, want %v", !(tc.code == promokit.EInternal), tc.code == promokit.EInternal)
			}
		})
	}
	if err := apiError(plain); err != plain {
		t.Errorf("apiError(%v) = %v, want it unchanged", plain, err)
	}
}

// TestChangedSince checks the answer to a versioned update of an object
// read before: a stale update is EVersionMismatch, anything else as it is.
func TestChangedSince(t *testing.T) {
	t.Parallel()
	err := changedSince(storage.Stale("promotion", "prm_1"), `promotion "prm_1"`, 3)
	if promokit.ErrorCode(err) != promokit.EVersionMismatch || promokit.ErrorMessage(err) != `promotion "prm_1" changed since version 3` {
		t.Errorf("changedSince(stale) = %v", err)
	}
	nf := storage.NotFound("store", "sto_1")
	if err := changedSince(nf, "x", 1); err != nf {
		t.Errorf("changedSince(%v) = %v, want it unchanged", nf, err)
	}
}
