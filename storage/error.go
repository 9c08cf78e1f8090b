package storage

import (
	"errors"
	"fmt"
)

// The sentinel errors of the seam. A database reports with them what
// happened to the data, wrapped in an *Error that names the object; it does
// not decide what that means to the API's caller: the engine does, in one
// place (engine/error.go). Match them with errors.Is.
var (
	// ErrNotFound: there is no such row. Either the object a method reads,
	// updates or deletes, or, when an insert breaks a foreign key, the
	// object it belongs to (the Error then names that one).
	ErrNotFound = errors.New("not found")
	// ErrExists: an insert met a row with the same id or unique key.
	ErrExists = errors.New("exists")
	// ErrTaken: an insert met a row with the same value of a value a
	// client chooses and that is unique across the marketplace: a code's
	// value, a link's token. It is not ErrExists, which is about ids.
	ErrTaken = errors.New("value taken")
	// ErrStale: a versioned or conditional update or delete matched no
	// row. The row changed since the caller read it (another version, a
	// lease taken over, an import that failed) or does not exist; the
	// database does not run a second query to tell which: the caller
	// knows, or asks.
	ErrStale = errors.New("stale")
)

// Error is a database's report about one object: Err is one of the
// sentinels above, Noun names the kind of object ("promotion", "store",
// "code") and ID its id or unique value, empty when the method has none to
// give.
type Error struct {
	Err  error
	Noun string
	ID   string
}

func (e *Error) Error() string {
	if e.ID == "" {
		return fmt.Sprintf("storage: %s: %v", e.Noun, e.Err)
	}
	return fmt.Sprintf("storage: %s %q: %v", e.Noun, e.ID, e.Err)
}

// Unwrap returns the sentinel, for errors.Is.
func (e *Error) Unwrap() error { return e.Err }

// NotFound returns the ErrNotFound error of the object noun with id.
func NotFound(noun, id string) error { return &Error{Err: ErrNotFound, Noun: noun, ID: id} }

// Exists returns the ErrExists error of the object noun with id.
func Exists(noun, id string) error { return &Error{Err: ErrExists, Noun: noun, ID: id} }

// Taken returns the ErrTaken error of the value of a noun.
func Taken(noun, value string) error { return &Error{Err: ErrTaken, Noun: noun, ID: value} }

// Stale returns the ErrStale error of the object noun with id.
func Stale(noun, id string) error { return &Error{Err: ErrStale, Noun: noun, ID: id} }
