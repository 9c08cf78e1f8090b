package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/promokit/promokit"
)

// problemBase is the address of the page that documents every error code;
// a problem's type is this address with the code as its fragment.
const problemBase = "https://github.com/promokit/promokit/blob/main/docs/problems.md#"

// problemKind is what the table says about one error code.
type problemKind struct {
	status int
	title  string
}

// kindOf is the one table that maps promokit error codes to HTTP
// statuses, written as a switch so that it is a constant of the program
// rather than a variable. A code missing from it is answered as
// "internal". Keep it in step with docs/problems.md.
func kindOf(code string) (problemKind, bool) {
	switch code {
	case promokit.EInvalid:
		return problemKind{http.StatusUnprocessableEntity, "The request is not valid"}, true
	case promokit.EMalformed:
		return problemKind{http.StatusBadRequest, "The request cannot be decoded"}, true
	case promokit.ETooLarge:
		return problemKind{http.StatusRequestEntityTooLarge, "The request body is too large"}, true
	case promokit.EUnsupportedMedia:
		return problemKind{http.StatusUnsupportedMediaType, "The request body has the wrong Content-Type"}, true
	case promokit.EUnauthenticated:
		return problemKind{http.StatusUnauthorized, "A valid API key is required"}, true
	case promokit.EForbidden:
		return problemKind{http.StatusForbidden, "This key may not make this call"}, true
	case promokit.ENotFound:
		return problemKind{http.StatusNotFound, "Not found"}, true
	case promokit.EConflict:
		return problemKind{http.StatusConflict, "The current state forbids this change"}, true
	case promokit.EGone:
		return problemKind{http.StatusGone, "No longer available"}, true
	case promokit.ERedemptionRefused:
		return problemKind{http.StatusConflict, "A code of the order cannot be redeemed"}, true
	case promokit.EAutomatic:
		return problemKind{http.StatusConflict, "The promotion is automatic and takes no codes"}, true
	case promokit.ECodeTaken:
		return problemKind{http.StatusConflict, "The code exists already"}, true
	case promokit.EVersionMismatch:
		return problemKind{http.StatusPreconditionFailed, "The object changed since it was read"}, true
	case promokit.EPreconditionNeeded:
		return problemKind{http.StatusPreconditionRequired, "If-Match is required"}, true
	case promokit.EImmutable:
		return problemKind{http.StatusConflict, "The object can no longer be changed"}, true
	case promokit.EPolicy:
		return problemKind{http.StatusUnprocessableEntity, "A marketplace policy refuses the request"}, true
	case promokit.EPayoutExceeds:
		return problemKind{http.StatusUnprocessableEntity, "The payout exceeds the payable balance"}, true
	case promokit.ECodeSpace:
		return problemKind{http.StatusUnprocessableEntity, "The code space is too small"}, true
	case promokit.EIdempotencyReuse:
		return problemKind{http.StatusUnprocessableEntity, "The Idempotency-Key was used for another request"}, true
	case promokit.EIdempotencyBusy:
		return problemKind{http.StatusConflict, "The first request with this Idempotency-Key is still running"}, true
	case promokit.ERateLimited:
		return problemKind{http.StatusTooManyRequests, "Too many requests"}, true
	case promokit.ETooManyFailures:
		return problemKind{http.StatusTooManyRequests, "Too many failed code look-ups"}, true
	case promokit.ETooManyAuthFails:
		return problemKind{http.StatusTooManyRequests, "Too many failed authentications"}, true
	case promokit.EUnavailable:
		return problemKind{http.StatusServiceUnavailable, "The service is unavailable"}, true
	case promokit.EInternal:
		return problemKind{http.StatusInternalServerError, "Internal server error"}, true
	}
	return problemKind{http.StatusInternalServerError, "Internal server error"}, false
}

// problem is an RFC 9457 problem document with promokit's extensions: the
// stable code, the policy rule with its limit and the value the request
// would have reached, per-field errors and the request id.
type problem struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Status  int    `json:"status"`
	Detail  string `json:"detail"`
	Code    string `json:"code"`
	Rule    string `json:"rule,omitempty"`
	Limit   *int64 `json:"limit,omitempty"`
	Current *int64 `json:"current,omitempty"`
	// PossibleFrom is when a refusal that time lifts stops applying.
	PossibleFrom *time.Time            `json:"possible_from,omitempty"`
	Errors       []promokit.FieldError `json:"errors,omitempty"`
	RequestID    string                `json:"request_id"`
}

// retryError is an error after which the client may retry: writeError
// sends its delay in a Retry-After header.
type retryError struct {
	err   error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// withRetryAfter returns err carrying a Retry-After delay.
func withRetryAfter(err error, after time.Duration) error {
	return &retryError{err: err, after: after}
}

// newProblem turns err into a problem document. An error that is not a
// *promokit.Error, or whose code the table does not know, becomes an
// "internal" problem whose detail says nothing of the cause.
func newProblem(err error, requestID string) *problem {
	var e *promokit.Error
	code := promokit.ErrorCode(err)
	kind, known := kindOf(code)
	if !known || code == promokit.EInternal || !errors.As(err, &e) {
		code = promokit.EInternal
		kind, _ = kindOf(code)
		return &problem{
			Type: problemBase + code, Title: kind.title, Status: kind.status, Code: code,
			Detail:    "an unexpected error occurred; quote the request id when you report it",
			RequestID: requestID,
		}
	}
	return &problem{
		Type: problemBase + code, Title: kind.title, Status: kind.status, Code: code,
		Detail: e.Message, Rule: e.Rule, Limit: e.Limit, Current: e.Current, PossibleFrom: e.PossibleFrom, Errors: e.Fields,
		RequestID: requestID,
	}
}

// StatusClientClosed is the status a request is counted and logged with
// when its client closed the connection before the answer (nginx's 499).
const StatusClientClosed = 499

// writeError answers r with the problem document of err. The error itself
// is kept on the request's record, so that the one log line of the request
// carries it: an internal error is logged there with the request's
// attributes and never shown to the client.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	info := infoFrom(r.Context())
	if info != nil {
		info.err = err
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away before the answer: none reaches it, and
		// the server did not fail. The request is counted and logged
		// with status 499, as proxies do, not as a 5xx.
		w.WriteHeader(StatusClientClosed)
		return
	}
	p := newProblem(err, info.requestID())
	if info != nil {
		info.code = p.Code
	}
	h := w.Header()
	switch p.Code {
	case promokit.EUnauthenticated:
		h.Set("WWW-Authenticate", `Bearer realm="promokit"`)
	case promokit.ERateLimited, promokit.ETooManyFailures, promokit.ETooManyAuthFails, promokit.EUnavailable:
		after := time.Second
		var re *retryError
		if errors.As(err, &re) && re.after > after {
			after = re.after
		}
		h.Set("Retry-After", strconv.FormatInt(int64((after+time.Second-1)/time.Second), 10))
	}
	writeProblem(w, p)
}

// writeProblem sends p as application/problem+json.
func writeProblem(w http.ResponseWriter, p *problem) {
	body, err := json.Marshal(p)
	if err != nil {
		// A problem holds strings and numbers only; this cannot happen.
		body = []byte(`{"type":"` + problemBase + `internal","title":"Internal server error","status":500,"code":"internal"}`)
		p.Status = http.StatusInternalServerError
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	// Declared, so that a client has the whole problem at once even when
	// the server reads on after it (an answer before the end of the
	// request's body, conn.go) instead of waiting for the end of a
	// chunked answer.
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("ETag")
	h.Del("Location")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}
