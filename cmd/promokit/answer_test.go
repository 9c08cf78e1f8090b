package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// answer is an answer shown under a command, in a comment "# → [STATUS]
// [ANSWER]": the HTTP status when it starts with one, then what the
// output shows, "…" standing for whatever was cut.
//
// When ANSWER starts with "{" or "[" and is JSON once its ellipses are
// read (see ellipsisJSON), the output must hold it as a subset: every key
// shown, with a matching value; arrays of the same length, element by
// element, unless an element "…" stands for any number of them; a string
// with "…" in it matches any string with the rest of it around that place,
// and a value "…" matches any value. Otherwise each fragment of ANSWER
// (its text between ellipses and ", ") must be in the output, headers
// included (curl -i).
type answer struct {
	line int    // the source line of "# →"
	text string // what follows "# →", the continuation lines joined
}

// ellipsis is what an answer shows in place of what it cuts.
const ellipsis = "…"

// check returns why a call's status and output do not match the answer,
// or nil.
func (a answer) check(status int, out string) error {
	want, shown := 0, a.text
	if len(shown) >= 3 {
		if n, err := strconv.Atoi(shown[:3]); err == nil && (len(shown) == 3 || shown[3] == ' ') {
			want, shown = n, strings.TrimSpace(shown[3:])
		}
	}
	switch {
	case want != 0 && status != want:
		return fmt.Errorf("  want: status %d, as the answer shown at line %d says", want, a.line)
	case want == 0 && (status == 0 || status >= 400):
		return fmt.Errorf("  want: a status below 400 (the answer shown at line %d names none)", a.line)
	case shown == "":
		return nil
	}
	if err := matchShown(shown, out); err != nil {
		return fmt.Errorf("  want: %s\n  (line %d): %v", shown, a.line, err)
	}
	return nil
}

// matchShown returns why out does not hold what an answer shows.
func matchShown(shown, out string) error {
	if strings.HasPrefix(shown, "{") || strings.HasPrefix(shown, "[") {
		if js, err := ellipsisJSON(shown); err == nil {
			var want any
			if err := json.Unmarshal([]byte(js), &want); err == nil {
				var got any
				if err := json.Unmarshal([]byte(body(out)), &got); err != nil {
					return fmt.Errorf("the answer is not JSON: %v", err)
				}
				return matchJSON(want, got, "$")
			}
		}
	}
	for piece := range strings.SplitSeq(shown, ellipsis) {
		for frag := range strings.SplitSeq(piece, ", ") {
			if frag = strings.TrimSpace(frag); frag != "" && !strings.Contains(out, frag) {
				return fmt.Errorf("the answer lacks %q", frag)
			}
		}
	}
	return nil
}

// body returns out without the HTTP headers curl -i writes before it.
func body(out string) string {
	if !strings.HasPrefix(out, "HTTP/") {
		return out
	}
	if _, b, ok := strings.Cut(out, "\r\n\r\n"); ok {
		return b
	}
	return ""
}

// ellipsisJSON turns the JSON an answer shows into JSON proper: "…" in
// place of a member is dropped with its comma, "…" in place of a value
// or of array elements becomes the string "…". Ellipses inside strings
// are left to matchJSON.
func ellipsisJSON(s string) (string, error) {
	var out []byte
	var stack []byte // the open brackets
	inString, escaped, skipComma := false, false, false
	// last returns the index of the last byte of out that is not a
	// space, or -1.
	last := func() int {
		for i := len(out) - 1; i >= 0; i-- {
			if c := out[i]; c != ' ' && c != '\n' && c != '\t' {
				return i
			}
		}
		return -1
	}
	lastSignificant := func() byte {
		if i := last(); i >= 0 {
			return out[i]
		}
		return 0
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		chunk := s[i : i+size]
		i += size
		if inString {
			out = append(out, chunk...)
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '"':
				inString = false
			}
			continue
		}
		if skipComma && r != ' ' {
			skipComma = false
			if r == ',' {
				continue
			}
		}
		switch r {
		case '"':
			inString = true
		case '{', '[':
			stack = append(stack, byte(r))
		case '}', ']':
			if len(stack) == 0 {
				return "", errors.New("unbalanced brackets")
			}
			stack = stack[:len(stack)-1]
		case '…':
			switch {
			case lastSignificant() == ':' || (len(stack) > 0 && stack[len(stack)-1] == '['):
				out = append(out, `"…"`...)
			case len(stack) > 0: // a member of an object
				if lastSignificant() == ',' {
					out = out[:last()]
				} else {
					skipComma = true
				}
			default:
				return "", errors.New("an ellipsis outside any object or array")
			}
			continue
		}
		out = append(out, chunk...)
	}
	return string(out), nil
}

// matchJSON returns why got does not hold want, at path.
func matchJSON(want, got any, path string) error {
	switch w := want.(type) {
	case string:
		if w == ellipsis {
			return nil
		}
		g, ok := got.(string)
		if !ok {
			return fmt.Errorf("%s is %s, want a string %q", path, compact(got), w)
		}
		if !strings.Contains(w, ellipsis) {
			if g != w {
				return fmt.Errorf("%s is %q, want %q", path, g, w)
			}
			return nil
		}
		if !globMatch(w, g) {
			return fmt.Errorf("%s is %q, want %q", path, g, w)
		}
		return nil
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is %s, want an object", path, compact(got))
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s has no %q", path, k)
			}
			if err := matchJSON(w[k], gv, path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s is %s, want an array", path, compact(got))
		}
		return matchArray(w, g, path)
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Errorf("%s is %s, want %s", path, compact(got), compact(want))
		}
		return nil
	}
}

// matchArray matches the elements of want, in order, against got. An
// element "…" stands for any number of elements; elsewhere, consecutive
// elements of want match consecutive elements of got, and the two arrays
// end together unless want ends with "…".
func matchArray(want, got []any, path string) error {
	j, anchored := 0, true
	for i, w := range want {
		if w == ellipsis {
			anchored = false
			continue
		}
		if anchored {
			if j >= len(got) {
				return fmt.Errorf("%s has %d elements, want more", path, len(got))
			}
			if err := matchJSON(w, got[j], fmt.Sprintf("%s[%d]", path, j)); err != nil {
				return err
			}
			j++
			continue
		}
		k := j
		for ; k < len(got); k++ {
			if matchJSON(w, got[k], "") == nil {
				break
			}
		}
		if k == len(got) {
			return fmt.Errorf("%s has no element matching %s after [%d]", path, compact(want[i]), j)
		}
		j, anchored = k+1, true
	}
	if anchored && j != len(got) {
		return fmt.Errorf("%s has %d elements, want %d", path, len(got), j)
	}
	return nil
}

// globMatch reports whether s is pattern with each "…" replaced by any
// text.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, ellipsis)
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// compact returns v as JSON, for messages.
func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAnswerCheck checks the reading of shown answers, so that the
// walkthrough's checks can fail: each row is an answer and an output
// that it must accept or refuse.
func TestAnswerCheck(t *testing.T) {
	t.Parallel()
	const order = `{"order_id":"A-1","redemptions":[{"code":"30OFF2","promotion_id":"prm_01ABC","state":"held","hold_until":"2026-01-01T00:00:00Z"}],"replayed":false}`
	for _, tc := range []struct {
		shown  string
		status int
		out    string
		ok     bool
	}{
		{`{"order_id":"A-1",…}`, 201, order, true},
		{`201 {"order_id":"A-1",…}`, 201, order, true},
		{`201 {"order_id":"A-1",…}`, 200, order, false},
		{`{"order_id":"A-1",…}`, 409, order, false},
		{``, 404, order, false},
		{`409`, 409, order, true},
		{`{…,"replayed":false}`, 200, order, true},
		{`{"order_id":"A-2",…}`, 200, order, false},
		{`{"nothing":1,…}`, 200, order, false},
		{`{"redemptions":[{"code":"30OFF2","promotion_id":"prm_…","state":"held",…}],…}`, 200, order, true},
		{`{"redemptions":[{"promotion_id":"prm_TEN…",…}],…}`, 200, order, false},
		{`{"redemptions":[{"hold_until":"…",…}]}`, 200, order, true},
		{`{"redemptions":[{"hold_until":…,…}]}`, 200, order, true},
		{`{"redemptions":[]}`, 200, order, false},
		{`{"redemptions":[…]}`, 200, order, true},
		{`{"redemptions":[{"state":"held",…},{"state":"held",…}]}`, 200, order, false},
		{`{"redemptions":[…,{"state":"held",…}]}`, 200, order, true},
		{`{"redemptions":[{"state":"redeemed",…},…]}`, 200, order, false},
		{`{"replayed":true,…}`, 200, order, false},
		{`{"order_id":"A-1"`, 200, order, true},  // not JSON: a fragment of the output
		{`{"order_id":"A-2"`, 200, order, false}, // not JSON, and not in the output
		{`{"order_id":"A-1",…}`, 200, "not json", false},
		{`302 Location: https://shop.example.com/mug, Set-Cookie: pk_vid=…`, 302,
			"HTTP/1.1 302 Found\r\nLocation: https://shop.example.com/mug\r\nSet-Cookie: pk_vid=x; Path=/\r\n\r\n", true},
		{`302 Location: https://shop.example.com/mug, Set-Cookie: pk_vid=…`, 302,
			"HTTP/1.1 302 Found\r\nLocation: https://evil.example/\r\nSet-Cookie: pk_vid=x; Path=/\r\n\r\n", false},
		{`201 {"id":"x"}`, 201, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n{\"id\":\"x\",\"n\":1}", true},
	} {
		err := answer{line: 1, text: tc.shown}.check(tc.status, tc.out)
		if (err == nil) != tc.ok {
			t.Errorf("answer %q, status %d, output %.60q: error %v, want ok=%v", tc.shown, tc.status, tc.out, err, tc.ok)
		}
	}
}
