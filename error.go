package promokit

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each is stable: clients match on them, so a code is never
// renamed or reused for another meaning. http/problem.go maps each to a
// status in one table.
const (
	EInvalid            = "invalid"                // the input breaks a validation rule (400/422)
	EMalformed          = "malformed"              // the body cannot be decoded (400)
	ETooLarge           = "too_large"              // the body exceeds its limit (413)
	EUnsupportedMedia   = "unsupported_media"      // wrong Content-Type (415)
	EUnauthenticated    = "unauthenticated"        // no key, or an unknown or revoked one (401)
	EForbidden          = "forbidden"              // the key's role may not make this call (403)
	ENotFound           = "not_found"              // missing, or not visible to the caller (404)
	EConflict           = "conflict"               // the state forbids the change (409)
	EGone               = "gone"                   // the object worked once and no longer does (410)
	ECodeTaken          = "code_taken"             // a code with that value exists in the marketplace (409)
	EVersionMismatch    = "version_mismatch"       // If-Match does not match the current version (412)
	EPreconditionNeeded = "precondition_required"  // an edit came without If-Match (428)
	EImmutable          = "immutable"              // the object can no longer be edited (409)
	EPolicy             = "policy_violation"       // a marketplace policy rule refuses it (422)
	ECodeSpace          = "code_space_too_small"   // a generation spec cannot give the count safely (422)
	EIdempotencyReuse   = "idempotency_key_reused" // same Idempotency-Key, different request (422)
	EIdempotencyBusy    = "idempotency_key_in_use" // the first request with this key is still running (409)
	ERedemptionRefused  = "redemption_refused"     // a code of the order no longer applies; nothing was used (409)
	EAutomatic          = "automatic_promotion"    // the promotion applies without a code and takes none (409)
	EPayoutExceeds      = "payout_exceeds_payable" // a payout above the payable balance of its pair (422)
	ERateLimited        = "rate_limited"           // too many requests (429)
	ETooManyFailures    = "too_many_failures"      // a key, address or customer failed too many code look-ups (429)
	ETooManyAuthFails   = "too_many_auth_failures" // the client address, or the server, had too many failed authentications (429)
	EUnavailable        = "unavailable"            // the server is shutting down or not ready (503)
	EInternal           = "internal"               // anything unexpected (500); never echoed
)

// Error is the one error type of the domain. Code is machine-readable,
// Message is for people. Rule and Limit name the policy rule and its limit
// when a policy refuses a request, Current the value the request would have
// reached. Fields holds per-field errors of a validation failure.
type Error struct {
	Code    string
	Message string
	Rule    string
	Limit   *int64
	Current *int64
	// PossibleFrom is, for a refusal that time lifts (an exit before 15
	// days, a rejoin before 7), when the request becomes possible.
	PossibleFrom *time.Time
	Fields       []FieldError
	// Field is, for a policy breach, the request's field whose value
	// breaks the rule ("percent_off_bp"), when one does, so that a form
	// can show the refusal next to that input. The API's problem
	// document does not carry it: its errors list invalid input.
	Field string
}

// FieldError is one invalid field: a JSON pointer-like path, a stable code
// and a message.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Rule != "" {
		return fmt.Sprintf("promokit: %s (%s): %s", e.Code, e.Rule, e.Message)
	}
	return fmt.Sprintf("promokit: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// PolicyError returns the error for a breach of policy rule rule: the limit
// and the value the request would have reached are reported to the client.
func PolicyError(rule string, limit, current int64, format string, args ...any) *Error {
	return &Error{Code: EPolicy, Rule: rule, Limit: &limit, Current: &current, Message: fmt.Sprintf(format, args...)}
}

// On names field as the one e is about (Error.Field) and returns e.
func (e *Error) On(field string) *Error {
	e.Field = field
	return e
}

// ErrorCode returns the code of err when it is or wraps an *Error, and
// EInternal for any other non-nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of an *Error, and a generic text for any
// other error so that internal details are never shown to clients.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Validation collects field errors and turns them into one EInvalid error.
type Validation struct {
	fields []FieldError
}

// Add records an invalid field.
func (v *Validation) Add(field, code, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when nothing was added, else an EInvalid *Error listing the fields.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msg := v.fields[0].Message
	if len(v.fields) > 1 {
		msg = fmt.Sprintf("%s (and %d more)", msg, len(v.fields)-1)
	}
	return &Error{Code: EInvalid, Message: msg, Fields: v.fields}
}
