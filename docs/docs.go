// Package docs holds the documents that ship inside the promokit binary:
// the OpenAPI 3.1 description of the HTTP API, which the server serves at
// /openapi.json and whose tests check every response against it.
package docs

import _ "embed"

// OpenAPI is docs/openapi.json, the hand-kept OpenAPI 3.1 document of the
// routes of docs/API-ROUTES.md. It is the one package-level variable the
// project allows: go:embed can only fill a variable. Callers must not
// modify it.
//
//go:embed openapi.json
var OpenAPI []byte
