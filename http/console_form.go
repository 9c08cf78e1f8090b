package http

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/promokit/promokit"
)

// formErrors are the errors of a refused form as a page shows them: a
// summary at the top of the page (the error's message and, for a policy
// breach, its rule and limit) and each field's messages next to its input.
// Field names are the engine's (promokit.FieldError.Field, such as "name"
// or "policy.affiliate.exit_after_days"), and a form names its inputs so,
// so that an error finds its input without a table.
type formErrors struct {
	Status  int // the status the page is answered with
	Code    string
	Message string
	// Rule, Limit and Current are a policy breach's rule, its limit and
	// the value the request would have reached; PossibleFrom when a
	// refusal that time lifts stops applying.
	Rule         string
	Limit        *int64
	Current      *int64
	PossibleFrom *time.Time
	// Fields are every field's errors, in the engine's order, for the
	// summary, which links each to its input.
	Fields []promokit.FieldError
}

// newFormErrors returns the form errors of err, an error a use case
// returned for a form. An internal error says nothing of its cause.
func newFormErrors(err error) *formErrors {
	p := newProblem(err, "")
	f := &formErrors{Status: p.Status, Code: p.Code, Message: p.Detail, Rule: p.Rule, Limit: p.Limit, Current: p.Current,
		PossibleFrom: p.PossibleFrom, Fields: p.Errors}
	if p.Code == promokit.EInternal {
		f.Message = "Something went wrong on the server, and nothing was saved. If it happens again, report it with the request id below."
	}
	var e *promokit.Error
	if errors.As(err, &e) && e.Field != "" && len(f.Fields) == 0 {
		// A policy breach about one field is shown next to its input
		// too, with the rule and the limit.
		f.Fields = []promokit.FieldError{{Field: e.Field, Code: e.Code, Message: strings.TrimSuffix(e.Message, ".") + ". " + f.LimitText()}}
	}
	return f
}

// invalidField returns the EInvalid error of one invalid field.
func invalidField(field, code, format string, args ...any) error {
	var v promokit.Validation
	v.Add(field, code, format, args...)
	return v.Err()
}

// fieldError returns the form errors of one invalid field.
func fieldError(field, code, format string, args ...any) *formErrors {
	return newFormErrors(invalidField(field, code, format, args...))
}

// For returns the messages of field; none for a nil f.
func (f *formErrors) For(field string) []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, fe := range f.Fields {
		if inputOf(fe.Field) == field {
			out = append(out, fe.Message)
		}
	}
	return out
}

// failForm answers a refused form: the page name again, with the errors
// of err next to their fields, and the status of err. An error that no
// form can show (a missing or foreign object, an ended session, an
// internal failure the handler did not expect) is answered as any
// console error is (consoleFail).
func (s *Server) failForm(w http.ResponseWriter, r *http.Request, err error, name string, pg *page) {
	if !formError(err) {
		s.consoleFail(w, r, err)
		return
	}
	pg.Form = newFormErrors(err)
	s.logFormError(r, err, pg.Form)
	s.render(w, r, pg.Form.Status, name, pg)
}

// inputOf returns the input a field error names: the field itself, or
// for a member of a list ("redirect_hosts/0") the list's input.
func inputOf(field string) string {
	if i := strings.IndexAny(field, "/["); i >= 0 {
		return field[:i]
	}
	return field
}

// formInt returns the whole number in form field name, recording a field
// error in v when it is not one. An empty field is 0.
func formInt(r *http.Request, v *promokit.Validation, name string) int64 {
	s := strings.TrimSpace(r.PostFormValue(name))
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		v.Add(name, "invalid", "%s must be a whole number", fieldLabel(name))
	}
	return n
}

// formBool reports whether checkbox name was checked.
func formBool(r *http.Request, name string) bool {
	switch r.PostFormValue(name) {
	case "on", "true", "1":
		return true
	}
	return false
}

// formatInt writes n for an input.
func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// fieldLabel is a field's name as a message shows it.
func fieldLabel(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.ReplaceAll(name, "_", " ")
}

// pager links the pages of a console list: the API's cursor pagination, so
// a list goes forward from its first page, a full page at a time.
type pager struct {
	First string // the first page's URL; "" on the first page
	Next  string // the next page's URL; "" on the last page
}

// listPage returns the page of a list that r asks for (its ?after cursor)
// with consolePageSize rows, or a field error for a cursor that no list
// gave.
func listPage(r *http.Request) (promokit.Page, error) {
	after := r.URL.Query().Get("after")
	if len(after) > 200 {
		var v promokit.Validation
		v.Add("after", "invalid", "after must be a cursor of a next page link")
		return promokit.Page{}, v.Err()
	}
	return promokit.Page{After: after, Limit: consolePageSize}, nil
}

// newPager returns the links of a list page of r that showed n rows, the
// last of cursor last: a full page has a next page, which may be empty.
func newPager(r *http.Request, n int, last string) pager {
	var p pager
	q := r.URL.Query()
	q.Del("notice")
	if q.Get("after") != "" {
		q.Del("after")
		p.First = pageURL(r.URL.Path, q)
	}
	if n >= consolePageSize && last != "" {
		q.Set("after", last)
		p.Next = pageURL(r.URL.Path, q)
	}
	return p
}

func pageURL(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// LimitText is the sentence a summary shows for a policy breach.
func (f *formErrors) LimitText() string {
	if f == nil || f.Rule == "" {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Rule %s", f.Rule)
	if f.Limit != nil {
		fmt.Fprintf(&b, ": the limit is %d", *f.Limit)
		if f.Current != nil {
			fmt.Fprintf(&b, ", and this would make %d", *f.Current)
		}
	}
	if f.PossibleFrom != nil {
		fmt.Fprintf(&b, "; possible from %s", f.PossibleFrom.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return b.String() + "."
}

// pagerOf returns the links of a list page of r that showed list, each row
// of which cursor names: newPager with the last row's cursor.
func pagerOf[T any](r *http.Request, list []T, cursor func(T) string) pager {
	var last string
	if n := len(list); n > 0 {
		last = cursor(list[n-1])
	}
	return newPager(r, len(list), last)
}
