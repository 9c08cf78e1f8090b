package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// A database reports what happened to the data (storage.ErrNotFound,
// ErrExists, ErrTaken, ErrStale, in a *storage.Error naming the object);
// what that means to the engine's caller is decided here. Every result of
// a transaction goes through apiError on its way out (write, read), and so
// does each member's answer of a batch that one transaction carries.
// Inside a transaction the engine tests the sentinels with errors.Is.

// apiError returns err as the engine's callers see it: a *storage.Error,
// wrapped or not, becomes the *promokit.Error the API returns for it (see
// storageError); any other error, nil included, is returned as it is.
func apiError(err error) error {
	var se *storage.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	return storageError(se)
}

// storageError maps a database's report to the API's error: not found is
// ENotFound, an existing id EConflict, a taken code value or link token
// ECodeTaken, and a stale conditional update (a lease lost, an object
// changed) EConflict. A versioned update's stale result is decided where
// the engine makes it, which knows the version (changedSince).
func storageError(e *storage.Error) *promokit.Error {
	switch {
	case errors.Is(e.Err, storage.ErrNotFound):
		if e.Noun == "settings" {
			return promokit.Errorf(promokit.ENotFound, "the settings are not initialised")
		}
		return promokit.Errorf(promokit.ENotFound, "%s not found", object(e))
	case errors.Is(e.Err, storage.ErrTaken):
		return promokit.Errorf(promokit.ECodeTaken, "%s exists", object(e))
	case errors.Is(e.Err, storage.ErrExists):
		return promokit.Errorf(promokit.EConflict, "%s exists", object(e))
	case errors.Is(e.Err, storage.ErrStale):
		if e.Noun == "job" {
			return promokit.Errorf(promokit.EConflict, "job %q is no longer leased to this worker", e.ID)
		}
		return promokit.Errorf(promokit.EConflict, "%s changed meanwhile", object(e))
	}
	return promokit.Errorf(promokit.EInternal, "%s: %v", object(e), e.Err)
}

// object names the object of a report: its noun, and its id when it has
// one.
func object(e *storage.Error) string {
	if e.ID == "" {
		return e.Noun
	}
	return fmt.Sprintf("%s %q", e.Noun, e.ID)
}

// changedSince returns, for the error of a versioned update of what (such
// as `promotion "prm_1"`) at version, after the transaction read the
// object, EVersionMismatch when the update matched no row: the object
// exists, so its version changed. Any other error is returned as it is.
func changedSince(err error, what string, version int64) error {
	if errors.Is(err, storage.ErrStale) {
		return promokit.Errorf(promokit.EVersionMismatch, "%s changed since version %d", what, version)
	}
	return err
}

// internal reports whether err is no answer to a request: neither a
// domain error nor a database's report about the data, but a failure of
// the database or of the engine (EInternal). nil is not.
func internal(err error) bool {
	return promokit.ErrorCode(apiError(err)) == promokit.EInternal
}

// write runs fn in a write transaction of the database and returns its
// error as the engine's callers see it (apiError).
func (s *Service) write(ctx context.Context, fn func(storage.Tx) error) error {
	return apiError(s.db.Write(ctx, fn))
}

// read runs fn outside any transaction of the database (storage.DB.Read)
// and returns its error as the engine's callers see it (apiError).
func (s *Service) read(ctx context.Context, fn func(storage.Tx) error) error {
	return apiError(s.db.Read(ctx, fn))
}
