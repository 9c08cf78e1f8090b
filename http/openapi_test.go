package http

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/promokit/promokit/docs"
)

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIOperations returns the operations of the document as routes:
// upper-case method and path template.
func openAPIOperations(t *testing.T, doc []byte) []Route {
	t.Helper()
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("docs/openapi.json does not decode: %v", err)
	}
	var out []Route
	for path, item := range d.Paths {
		for key := range item {
			if slices.Contains(openAPIMethods, key) {
				out = append(out, Route{Method: strings.ToUpper(key), Pattern: path})
			}
		}
	}
	return out
}

// openAPIPath turns a ServeMux pattern into an OpenAPI path template:
// "{name}" stays as it is, "{name...}" becomes "{name}" and the end
// anchor "{$}" is dropped.
func openAPIPath(pattern string) string {
	pattern = strings.ReplaceAll(pattern, "{$}", "")
	return strings.ReplaceAll(pattern, "...}", "}")
}

// TestOpenAPIRoutes checks that docs/openapi.json describes every route
// the server registers and nothing else, so that the document cannot
// drift from the route table.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	documented := map[Route]bool{}
	for _, r := range openAPIOperations(t, docs.OpenAPI) {
		documented[r] = true
	}
	if len(documented) == 0 {
		t.Fatal("docs/openapi.json has no operations")
	}
	for _, r := range Routes() {
		want := Route{Method: r.Method, Pattern: openAPIPath(r.Pattern)}
		if !documented[want] {
			t.Errorf("route %s %s is missing from docs/openapi.json", r.Method, r.Pattern)
		}
		delete(documented, want)
	}
	for r := range documented {
		t.Errorf("docs/openapi.json has %s %s, which is not a route of the server", r.Method, r.Pattern)
	}
}

// TestOpenAPIDocument checks that docs/openapi.json is a valid OpenAPI 3.1
// document: it parses, builds a model whose references all resolve, passes
// the OpenAPI 3.1 schema, and each of its component schemas is a valid
// JSON Schema 2020-12 schema (which the OpenAPI schema does not check).
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc, err := libopenapi.NewDocument(docs.OpenAPI)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if v := doc.GetVersion(); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", v)
	}
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("build model: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("new validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Errorf("docs/openapi.json is not a valid OpenAPI 3.1 document:\n%s", formatValidationErrors(verrs))
	}

	var raw struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(docs.OpenAPI, &raw); err != nil {
		t.Fatalf("decode: %v", err)
	}
	whole, err := jsonschema.UnmarshalJSON(strings.NewReader(string(docs.OpenAPI)))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	const base = "https://promokit.invalid/openapi.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(base, whole); err != nil {
		t.Fatalf("add document: %v", err)
	}
	names := make([]string, 0, len(raw.Components.Schemas))
	for name := range raw.Components.Schemas {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, err := c.Compile(base + "#/components/schemas/" + name); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
}
