package engine

import (
	"github.com/promokit/promokit"
)

// Batches isolate their members. The calls a queue gathers share one
// database call, and a value of one of them that the database refuses (a
// text PostgreSQL cannot hold, a constraint, an index row too large) fails
// that call for all. So a batch whose database work fails with an error
// that may be one member's (memberFault) is run again in halves, each
// half the same way, down to single members: the members of a half that
// succeeds are answered as if they had run without the others, and k
// failing members among n cost at most about 2k·log2(n) more runs. A
// member that fails alone gets its own error; when the database refused
// one of its values, that is EInvalid (batchErr), since the request
// carried the value. Any other error (the database down, a deadline, a
// deadlock) is no member's fault: it is answered to every member of the
// batch at once, since running halves would only multiply the load on a
// database that is failing.

// isolate runs batch with run, which does the batch's database work,
// answers its members and returns nil, or returns the error that undid
// the work and answers none. When run fails with an error that fault
// reports may be one member's, a batch of several members is run again
// in halves, first the first half; otherwise fail answers the members of
// the (part of the) batch with the error.
func isolate[T any](batch []T, run func([]T) error, fault func(error) bool, fail func([]T, error)) {
	err := run(batch)
	if err == nil {
		return
	}
	if len(batch) > 1 && fault(err) {
		half := len(batch) / 2
		isolate(batch[:half], run, fault, fail)
		isolate(batch[half:], run, fault, fail)
		return
	}
	fail(batch, err)
}

// isolateBatch is isolate with the service's judgement of errors
// (memberFault) and answers (batchErr): each member of a batch, or part of
// one, that fails is given its error with setErr.
func isolateBatch[T any](s *Service, batch []T, run func([]T) error, setErr func(T, error)) {
	isolate(batch, run, s.memberFault, func(part []T, err error) {
		err = s.batchErr(len(part), err)
		for _, m := range part {
			setErr(m, err)
		}
	})
}

// memberFault reports whether err, which undid a batch's database work,
// may be the fault of one member of the batch: a domain error (a
// conflict, an object not found: the answer to a member's request) or a
// value the database refused (Store.DataError). An error of the database
// itself (internal, or unavailable) is not.
func (s *Service) memberFault(err error) bool {
	switch promokit.ErrorCode(apiError(err)) {
	case promokit.EInternal, promokit.EUnavailable:
		return s.db.DataError(err)
	}
	return true
}

// batchErr returns the error to answer the n members of a batch, or of a
// part of one, whose database work failed with err: EInvalid for a member
// alone whose value the database refused, since its request carried
// that value (the database's own words are logged, never shown); err as
// the caller sees it (apiError) otherwise.
func (s *Service) batchErr(n int, err error) error {
	if n != 1 || !internal(err) || !s.db.DataError(err) {
		return apiError(err)
	}
	s.log.Warn("the database refused a value of a request", "err", err)
	return promokit.Errorf(promokit.EInvalid, "the request holds a value the database cannot store")
}

// possibleID reports whether id could be an identifier promokit made
// (NewID): up to 100 printable ASCII characters without spaces; empty is
// left to the checks that require an id. Any other value names nothing,
// and is answered not found without a read, so that no text the database
// would refuse (a NUL, invalid UTF-8) is sent in a batch.
func possibleID(id string) bool {
	if len(id) > 100 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}
