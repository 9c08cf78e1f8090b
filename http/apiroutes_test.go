package http

import (
	"os"
	"strings"
	"testing"
)

// consoleHeading starts the console's section of docs/API-ROUTES.md.
const consoleHeading = "## Console routes"

// routesDoc returns docs/API-ROUTES.md in two: the API's routes, and the
// console's section.
func routesDoc(t *testing.T) (api, console string) {
	t.Helper()
	doc, err := os.ReadFile("../docs/API-ROUTES.md")
	if err != nil {
		t.Fatal(err)
	}
	api, console, ok := strings.Cut(string(doc), "\n"+consoleHeading+"\n")
	if !ok {
		t.Fatalf("docs/API-ROUTES.md has no %q section", consoleHeading)
	}
	return api, console
}

// TestAPIRoutesDoc checks that the table of docs/API-ROUTES.md lists
// every route the server registers, in the order of the route table, and
// nothing else.
func TestAPIRoutesDoc(t *testing.T) {
	t.Parallel()
	doc, _ := routesDoc(t)
	var listed []Route
	for _, line := range strings.Split(doc, "\n") {
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

// TestConsoleRoutesDoc checks that the console's table of
// docs/API-ROUTES.md lists every console route, with its access, in the
// order of the console's route table, and nothing else.
func TestConsoleRoutesDoc(t *testing.T) {
	t.Parallel()
	_, doc := routesDoc(t)
	var listed []ConsoleRoute
	for _, line := range strings.Split(doc, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 7 || strings.TrimSpace(cells[0]) != "" {
			continue
		}
		method := strings.TrimSpace(cells[1])
		switch method {
		case "any":
			method = ""
		case "GET", "POST":
		default:
			continue
		}
		listed = append(listed, ConsoleRoute{Method: method, Pattern: strings.TrimSpace(cells[2]), Access: strings.TrimSpace(cells[5])})
	}
	routes := ConsoleRoutes()
	for i := 0; i < max(len(listed), len(routes)); i++ {
		var have, want ConsoleRoute
		if i < len(listed) {
			have = listed[i]
		}
		if i < len(routes) {
			want = routes[i]
		}
		if have != want {
			t.Fatalf("the console table of docs/API-ROUTES.md, row %d, is %+v; the console's route table has %+v there", i+1, have, want)
		}
	}
}
