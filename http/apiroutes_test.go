package http

import (
	"os"
	"strings"
	"testing"
)

// TestAPIRoutesDoc checks that the table of docs/API-ROUTES.md lists
// every route the server registers, in the order of the route table, and
// nothing else.
func TestAPIRoutesDoc(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/API-ROUTES.md")
	if err != nil {
		t.Fatal(err)
	}
	var listed []Route
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.TrimSpace(cells[0]) != "" {
			continue
		}
		method, pattern := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])
		switch method {
		case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE":
			listed = append(listed, Route{Method: method, Pattern: pattern})
		}
	}
	routes := Routes()
	for i := 0; i < max(len(listed), len(routes)); i++ {
		var have, want Route
		if i < len(listed) {
			have = listed[i]
		}
		if i < len(routes) {
			want = routes[i]
		}
		if have != want {
			t.Fatalf("docs/API-ROUTES.md row %d is %s %s; the route table has %s %s there", i+1, have.Method, have.Pattern, want.Method, want.Pattern)
		}
	}
}
