package http

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/content"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/promokit/promokit/docs"
)

// The conformance check: every response a test of this package receives
// through client.do is checked against docs/openapi.json, so that the
// document stays true for as long as the tests cover the server.
func init() {
	c := &openAPIChecker{}
	responseHook = c.checkResponse
}

// openAPIChecker checks responses against docs/openapi.json. It loads the
// document once, on first use, and is safe for concurrent use.
type openAPIChecker struct {
	once  sync.Once
	err   error
	model *v3.Document
	paths []openAPIPathItem

	mu      sync.Mutex // serializes the validators, whose caches are shared
	v       validator.Validator
	schemas schema_validation.SchemaValidator
}

// openAPIPathItem is one path template of the document, split into its
// segments.
type openAPIPathItem struct {
	template string
	segments []string
	item     *v3.PathItem
}

// load parses the document and builds the validator.
func (c *openAPIChecker) load() error {
	c.once.Do(func() {
		doc, err := libopenapi.NewDocument(docs.OpenAPI)
		if err != nil {
			c.err = fmt.Errorf("parse docs/openapi.json: %w", err)
			return
		}
		m, err := doc.BuildV3Model()
		if err != nil {
			c.err = fmt.Errorf("build docs/openapi.json: %w", err)
			return
		}
		c.model = &m.Model
		for p := m.Model.Paths.PathItems.First(); p != nil; p = p.Next() {
			c.paths = append(c.paths, openAPIPathItem{
				template: p.Key(), segments: strings.Split(p.Key(), "/"), item: p.Value(),
			})
		}
		// Format assertions make date-time and uri formats count; the
		// multipart decoder has a form (a payout with its proof)
		// checked part by part against its schema.
		c.v = validator.NewValidatorFromV3Model(c.model, config.WithFormatAssertions(),
			config.WithBodyDecoder("multipart/form-data", content.MultipartDecoder()))
		c.schemas = schema_validation.NewSchemaValidator(config.WithFormatAssertions())
	})
	return c.err
}

// match returns the path template of the document that path matches, the
// most specific one when several do (a literal segment beats a parameter
// at the first segment where they differ, as ServeMux decides).
func (c *openAPIChecker) match(path string) (openAPIPathItem, bool) {
	segs := strings.Split(path, "/")
	var best openAPIPathItem
	found := false
	for _, p := range c.paths {
		if len(p.segments) != len(segs) {
			continue
		}
		ok := true
		for i, s := range p.segments {
			if !isTemplateParam(s) && s != segs[i] {
				ok = false
				break
			}
			if isTemplateParam(s) && segs[i] == "" {
				ok = false
				break
			}
		}
		if ok && (!found || moreSpecific(p, best)) {
			best, found = p, true
		}
	}
	return best, found
}

func isTemplateParam(seg string) bool {
	return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}")
}

// moreSpecific reports whether a wins over b: at the first segment where
// one is a literal and the other a parameter, the literal wins.
func moreSpecific(a, b openAPIPathItem) bool {
	for i := range a.segments {
		pa, pb := isTemplateParam(a.segments[i]), isTemplateParam(b.segments[i])
		if pa != pb {
			return !pa
		}
	}
	return false
}

// operation returns the operation of item for method; HEAD falls back to
// GET, as ServeMux routes it.
func operation(item *v3.PathItem, method string) *v3.Operation {
	var op *v3.Operation
	switch method {
	case http.MethodGet:
		op = item.Get
	case http.MethodHead:
		op = item.Head
		if op == nil {
			op = item.Get
		}
	case http.MethodPost:
		op = item.Post
	case http.MethodPut:
		op = item.Put
	case http.MethodPatch:
		op = item.Patch
	case http.MethodDelete:
		op = item.Delete
	case http.MethodOptions:
		op = item.Options
	case http.MethodTrace:
		op = item.Trace
	}
	return op
}

// checkResponse is the responseHook: it reports on t every way in which
// resp, whose body is body, differs from what docs/openapi.json says the
// route answers. The status must be one the operation lists, the
// Content-Type one that response declares, its required headers present
// and valid, and a JSON body valid against its schema, with date-time and
// uri formats asserted. CSV and /metrics bodies are not checked beyond
// their status, Content-Type and headers. An error answered to a
// request that matches no operation of the document must still be a
// Problem. A request the server accepted (2xx) must also be valid against
// the document, so that the document asks no more of clients than the
// server.
func (c *openAPIChecker) checkResponse(t *testing.T, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	if err := c.load(); err != nil {
		t.Errorf("openapi: %v", err)
		return
	}
	what := fmt.Sprintf("openapi: %s %s answered %d", req.Method, req.URL.Path, resp.StatusCode)
	p, ok := c.match(req.URL.Path)
	var op *v3.Operation
	if ok {
		op = operation(p.item, req.Method)
	}
	if op == nil {
		c.checkUnrouted(t, what, req, resp, body)
		return
	}
	mediaType, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil && len(body) > 0 {
		t.Errorf("%s with Content-Type %q: %v", what, resp.Header.Get("Content-Type"), err)
		return
	}
	if req.Method == http.MethodHead {
		c.checkStatusAndType(t, what, op, resp, mediaType)
		return
	}
	checked := body
	if mediaType == "text/csv" || p.template == "/metrics" {
		// Only the status, the Content-Type and the headers count: the
		// validator is handed no body to decode.
		checked = nil
	}
	copied := *resp
	copied.Body = io.NopCloser(bytes.NewReader(checked))
	c.mu.Lock()
	valid, verrs := c.v.ValidateHttpResponse(req, &copied)
	c.mu.Unlock()
	if !valid {
		t.Errorf("%s, which docs/openapi.json does not describe:\n%s\nbody: %s", what, formatValidationErrors(verrs), clip(body))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		c.checkRequest(t, what, req)
	}
}

// checkUnrouted checks the answer to a request that matches no operation
// of the document: the router's 404 (no such path) or 405 (no such
// method), a 401 for an anonymous /v1/ request refused before routing, or
// the answer of a route that a test registered for itself. Whatever it
// is, an error must be a problem document; a success is the test's own
// business.
func (c *openAPIChecker) checkUnrouted(t *testing.T, what string, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode < 400 || req.Method == http.MethodHead {
		return
	}
	c.checkProblemBody(t, what, resp, body)
}

// checkProblemBody validates an error body against the document's Problem
// schema.
func (c *openAPIChecker) checkProblemBody(t *testing.T, what string, resp *http.Response, body []byte) {
	t.Helper()
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "application/problem+json" {
		t.Errorf("%s with Content-Type %q, want application/problem+json", what, resp.Header.Get("Content-Type"))
		return
	}
	schema := c.model.Components.Schemas.GetOrZero("Problem")
	if schema == nil {
		t.Errorf("openapi: docs/openapi.json has no Problem schema")
		return
	}
	c.mu.Lock()
	valid, verrs := c.schemas.ValidateSchemaBytes(schema.Schema(), body)
	c.mu.Unlock()
	if !valid {
		t.Errorf("%s with a body that is not a Problem of docs/openapi.json:\n%s\nbody: %s", what, formatValidationErrors(verrs), clip(body))
	}
}

// checkStatusAndType checks that the operation lists the status of resp
// and that response declares its Content-Type, for a HEAD request, which
// has no body to validate.
func (c *openAPIChecker) checkStatusAndType(t *testing.T, what string, op *v3.Operation, resp *http.Response, mediaType string) {
	t.Helper()
	r := op.Responses.Codes.GetOrZero(strconv.Itoa(resp.StatusCode))
	if r == nil {
		r = op.Responses.Default
	}
	if r == nil {
		t.Errorf("%s, a status docs/openapi.json does not list for the operation", what)
		return
	}
	if r.Content == nil || r.Content.Len() == 0 {
		return
	}
	if _, ok := r.Content.Get(mediaType); !ok {
		var declared []string
		for m := r.Content.First(); m != nil; m = m.Next() {
			declared = append(declared, m.Key())
		}
		t.Errorf("%s with Content-Type %q; docs/openapi.json declares %s", what, mediaType, strings.Join(declared, ", "))
	}
}

// checkRequest validates a request that the server accepted against the
// document: its parameters and, when it can be read again, its body.
func (c *openAPIChecker) checkRequest(t *testing.T, what string, req *http.Request) {
	t.Helper()
	r := req.Clone(req.Context())
	r.Body = http.NoBody
	if req.GetBody != nil {
		b, err := req.GetBody()
		if err != nil {
			return
		}
		r.Body = b
	} else if req.ContentLength != 0 {
		return // the body is gone: nothing to check it against
	}
	c.mu.Lock()
	valid, verrs := c.v.ValidateHttpRequestSync(r)
	c.mu.Unlock()
	if !valid {
		t.Errorf("%s to a request that docs/openapi.json does not allow:\n%s", what, formatValidationErrors(verrs))
	}
}

// formatValidationErrors renders the validator's errors, one per line
// with the failing fields below it.
func formatValidationErrors(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  - %s: %s\n", e.Message, e.Reason)
		for _, s := range e.SchemaValidationErrors {
			loc := s.FieldPath
			if loc == "" {
				loc = s.KeywordLocation
			}
			fmt.Fprintf(&b, "      %s: %s\n", loc, s.Reason)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// clip shortens a body for a message.
func clip(b []byte) string {
	const n = 2000
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
