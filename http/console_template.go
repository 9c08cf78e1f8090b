package http

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/promokit/promokit"
)

// The console's templates and static files are embedded in the binary:
// html/ holds layout.html and partials.html, which every page shares, and
// one file per page; assets/ the stylesheet and the script.

//go:embed html/*.html
var htmlFS embed.FS

//go:embed assets/*
var assetFS embed.FS

// console is the console's parsed templates and assets, and its
// cross-origin protection.
type console struct {
	pages  map[string]*template.Template // by page name: its file without .html
	assets map[string]asset              // by file name
	cop    *http.CrossOriginProtection
}

// asset is one static file, served with a long cache lifetime under a URL
// that names its hash (assetURL): a new file is a new URL.
type asset struct {
	body        []byte
	contentType string
	hash        string
}

// sharedTemplates are the files every page is parsed with.
var sharedTemplates = []string{"html/layout.html", "html/partials.html"}

// parsedConsole is parsed once per process, at the first server's start:
// templates and assets are constants of the binary.
var parsedConsole = sync.OnceValues(parseConsole)

// parseConsole reads the embedded assets and parses every page template
// with the shared ones.
func parseConsole() (*console, error) {
	c := &console{pages: make(map[string]*template.Template), assets: make(map[string]asset)}
	names, err := fs.Glob(assetFS, "assets/*")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		b, err := assetFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		c.assets[path.Base(name)] = asset{body: b, contentType: ct, hash: hex.EncodeToString(sum[:6])}
	}
	base, err := template.New("").Funcs(c.funcs()).ParseFS(htmlFS, sharedTemplates...)
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	files, err := fs.Glob(htmlFS, "html/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if isShared(f) {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(htmlFS, f); err != nil {
			return nil, fmt.Errorf("console template %s: %w", f, err)
		}
		c.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return c, nil
}

func isShared(f string) bool {
	for _, s := range sharedTemplates {
		if s == f {
			return true
		}
	}
	return false
}

// newConsole returns the console of a server, whose refused cross-origin
// requests deny answers.
func newConsole(deny http.Handler) *console {
	parsed, err := parsedConsole()
	if err != nil {
		// The templates are part of the binary: the render test
		// catches a broken one before it ships.
		panic(err)
	}
	c := *parsed
	c.cop = http.NewCrossOriginProtection()
	c.cop.SetDenyHandler(deny)
	return &c
}

// funcs are the functions the templates call.
func (c *console) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string {
			if a, ok := c.assets[name]; ok {
				return "/console/assets/" + name + "?v=" + a.hash
			}
			return "/console/assets/" + name
		},
		"fieldID":      fieldID,
		"field":        newInputField,
		"as":           func(typ string, f inputField) inputField { f.Type = typ; return f },
		"needed":       func(f inputField) inputField { f.Required = true; return f },
		"hint":         func(h string, f inputField) inputField { f.Hint = h; return f },
		"autocomplete": func(v string, f inputField) inputField { f.Autocomplete = v; return f },
		"bounds":       func(min, max string, f inputField) inputField { f.Min, f.Max = min, max; return f },
		// decimal makes a text input of a number with decimals, such as a
		// rate in percent: a phone shows its decimal keypad.
		"decimal": func(f inputField) inputField { f.InputMode, f.Autocomplete = "decimal", "off"; return f },
		"money": func(minor int64, currency string) string {
			return promokit.Money{Minor: minor, Currency: currency}.Format()
		},
		"percent": func(bp promokit.BasisPoints) string {
			return fmt.Sprintf("%d.%02d %%", bp/100, bp%100)
		},
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "–"
			}
			return t.UTC().Format("2006-01-02")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return "–"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		// zdate and zdatetime show a time in the marketplace's zone loc,
		// the zone its forms read times in; UTC when loc is nil.
		"zdate": func(t time.Time, loc *time.Location) string {
			if t.IsZero() {
				return "–"
			}
			return t.In(zone(loc)).Format("2006-01-02")
		},
		"zdatetime": func(t time.Time, loc *time.Location) string {
			if t.IsZero() {
				return "–"
			}
			return t.In(zone(loc)).Format("2006-01-02 15:04 MST")
		},
		"chart": func(ch Chart) template.HTML { return ch.SVG() },
	}
}

// zone returns loc, or UTC for nil.
func zone(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// fieldID is the id of a form's input for field: the field's name with
// its dots as dashes, prefixed so that it never collides with the
// layout's ids.
func fieldID(field string) string {
	return "f-" + strings.ReplaceAll(inputOf(field), ".", "-")
}

// inputField is an input of a form as the "input" partial renders it: its
// label, value, hint and the errors of its field. Pages make one with
// field and change it with as, needed, hint, autocomplete and bounds:
//
//	{{template "input" (field .Form "name" "Name" .Data.Name | needed)}}
type inputField struct {
	ID, Name, Label, Value string
	Type                   string // "text" unless as says otherwise
	Hint, Autocomplete     string
	Min, Max               string // the bounds of a number or a time, when set
	InputMode              string // the keyboard a phone shows; a number's is numeric
	Required               bool
	Errors                 []string
}

// newInputField returns the text input of field name of form f.
func newInputField(f *formErrors, name, label, value string) inputField {
	return inputField{ID: fieldID(name), Name: name, Label: label, Value: value, Type: "text", Errors: f.For(name)}
}

// DescribedBy is the input's aria-describedby: the ids of its hint and
// errors.
func (f inputField) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if len(f.Errors) > 0 {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// handleConsoleAsset serves a static file of the console. Under the URL
// that names its hash it may be cached for a year.
func (s *Server) handleConsoleAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := s.console.assets[r.PathValue("name")]
	if !ok {
		s.consoleNotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", `"`+a.hash+`"`)
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if r.Header.Get("If-None-Match") == `"`+a.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(a.body)
}
