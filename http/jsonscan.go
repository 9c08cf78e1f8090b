package http

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON decoder takes a body as encoding/json would: it matches field
// names exactly (with DontMatchCaseInsensitiveStructFields), but lets the
// last of two equal keys win and turns text that is not valid (an escaped
// lone surrogate, invalid UTF-8) into U+FFFD. scanJSON walks a body once
// before it is decoded and finds what the decoder would let through: a
// duplicate key, at any depth, and a string, value or key, that is not
// valid text (text.go).

// jsonFault is what scanJSON finds wrong with a body.
type jsonFault uint8

const (
	faultNone      jsonFault = iota
	faultText                // a string, value or key, is not valid text
	faultDuplicate           // an object has two equal keys
	faultSyntax              // the body is not JSON: the decoder says why
	faultDepth               // the body nests deeper than maxJSONDepth
)

// maxJSONDepth is how deeply a body may nest arrays and objects, as
// encoding/json allows.
const maxJSONDepth = 10000

// scanResult is what scanJSON found: a fault, and for faultText and
// faultDuplicate the field at fault in the style of validation errors,
// such as cart.lines[1].product_id.
type scanResult struct {
	fault jsonFault
	field string
}

// keySpan is the text of an object's key between its quotes. Offsets are
// 32-bit, which keeps the scan's buffers small: scanJSON takes no body of
// 2 GiB or more.
type keySpan struct {
	start, end int32
	escaped    bool // holds a backslash escape
}

// scanFrame is one array or object that the scan is inside.
type scanFrame struct {
	object bool
	index  int32               // arrays: the index of the current element
	keys   int32               // objects: where its keys start in the scan's keys
	key    keySpan             // objects: the current key
	seen   map[string]struct{} // objects: every key, once there are many
}

// manyKeys is how many keys an object may have before its duplicates are
// found with a map rather than by comparing each new key with the others.
const manyKeys = 16

// Byte classes of the scan. stringStop marks the bytes that end a run of
// plain characters in a string of a body that is valid UTF-8: the quote,
// the backslash, control characters and the lead byte of the C1
// controls; stringStopAll adds every byte of a multi-byte character, for
// a body that is not valid UTF-8. scalarStop marks the bytes that end a
// number or a literal.
var stringStop, stringStopAll, scalarStop [256]bool

func init() {
	for c := 0; c < 256; c++ {
		stringStop[c] = c == '"' || c == '\\' || c < 0x20 || c == 0x7f || c == 0xc2
		stringStopAll[c] = stringStop[c] || c >= 0x80
		scalarStop[c] = strings.IndexByte(" \t\r\n,:[]{}\"", byte(c)) >= 0
	}
}

// scanJSON walks data, a JSON body, and returns the first duplicate key or
// string that is not valid text, in the order of the body. It does not
// validate the body's syntax, which the decoder does: where the body is
// not JSON it may return faultSyntax, or anything else, as the decoder
// then refuses the body. On a body that is JSON its answer is exact.
// It allocates nothing unless the body nests more than 8 deep, has more
// than 32 keys open at once or has a fault.
func scanJSON(data []byte) scanResult {
	// The buffers stay on the stack as long as no slice of them is stored
	// through a pointer: the helpers take the slices and return them.
	var frameBuf [8]scanFrame
	var keyBuf [32]keySpan
	frames, keys := frameBuf[:0], keyBuf[:0] // keys: those of every open object
	if len(data) > math.MaxInt32 {
		return scanResult{fault: faultSyntax}
	}
	stop := &stringStop
	if !utf8.Valid(data) {
		stop = &stringStopAll
	}
	wantKey := false
	for i, n := 0, len(data); i < n; {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '{', '[':
			if len(frames) == maxJSONDepth {
				return scanResult{fault: faultDepth}
			}
			frames = append(frames, scanFrame{object: c == '{', keys: int32(len(keys))})
			wantKey = c == '{'
			i++
		case '}', ']':
			if len(frames) == 0 || frames[len(frames)-1].object != (c == '}') {
				return scanResult{fault: faultSyntax}
			}
			keys = keys[:frames[len(frames)-1].keys]
			frames = frames[:len(frames)-1]
			wantKey = false
			i++
		case ',':
			if len(frames) == 0 {
				return scanResult{fault: faultSyntax}
			}
			if f := &frames[len(frames)-1]; f.object {
				wantKey = true
			} else {
				f.index++
			}
			i++
		case ':':
			wantKey = false
			i++
		case '"':
			end, escaped, fault := scanString(data, i+1, stop)
			isKey := wantKey && len(frames) > 0 && frames[len(frames)-1].object
			switch {
			case fault == faultText && isKey:
				return scanResult{fault: faultText, field: scanPath(data, frames, data[i+1:rawStringEnd(data, end)])}
			case fault == faultText:
				return scanResult{fault: faultText, field: scanPath(data, frames, nil)}
			case fault != faultNone:
				return scanResult{fault: fault}
			}
			if isKey {
				var dup bool
				dup, keys = addKey(data, &frames[len(frames)-1], keys, keySpan{start: int32(i + 1), end: int32(end), escaped: escaped})
				if dup {
					return scanResult{fault: faultDuplicate, field: scanPath(data, frames, nil)}
				}
				wantKey = false
			}
			i = end + 1
		default: // a number or a literal
			i++
			for i < n && !scalarStop[data[i]] {
				i++
			}
		}
	}
	if len(frames) > 0 {
		return scanResult{fault: faultSyntax}
	}
	return scanResult{}
}

// scanString scans the string whose text starts at data[i], after its
// opening quote. It returns the index of its closing quote and whether it
// has an escape; or, for text that is not valid, faultText and the index
// where the bad character starts; or faultSyntax.
func scanString(data []byte, i int, stop *[256]bool) (end int, escaped bool, fault jsonFault) {
	n := len(data)
	for {
		for i < n && !stop[data[i]] {
			i++
		}
		if i >= n {
			return i, escaped, faultSyntax
		}
		switch c := data[i]; {
		case c == '"':
			return i, escaped, faultNone
		case c == '\\':
			escaped = true
			if i+1 >= n {
				return i, escaped, faultSyntax
			}
			switch data[i+1] {
			case '"', '\\', '/', 'n', 'r', 't':
				i += 2
			case 'b', 'f': // backspace and form feed: controls
				return i, escaped, faultText
			case 'u':
				r := hex4(data, i+2)
				if r < 0 {
					return i, escaped, faultSyntax
				}
				switch {
				case utf16.IsSurrogate(r):
					if r >= 0xdc00 || i+7 >= n || data[i+6] != '\\' || data[i+7] != 'u' {
						return i, escaped, faultText
					}
					if lo := hex4(data, i+8); lo < 0xdc00 || lo > 0xdfff {
						return i, escaped, faultText
					}
					i += 12
				case forbiddenRune(r):
					return i, escaped, faultText
				default:
					i += 6
				}
			default:
				return i, escaped, faultSyntax
			}
		case c < 0x20:
			return i, escaped, faultSyntax
		case c == 0x7f:
			return i, escaped, faultText
		default: // the lead byte of a multi-byte character
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 || forbiddenRune(r) {
				return i, escaped, faultText
			}
			i += size
		}
	}
}

// rawStringEnd returns the index of the quote that ends the string that
// data[i] is in, or len(data).
func rawStringEnd(data []byte, i int) int {
	for ; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(data)
}

// hex4 returns the value of the four hexadecimal digits at data[i], or -1.
func hex4(data []byte, i int) rune {
	if i+4 > len(data) {
		return -1
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// addKey adds k, a key of data, to the keys of the object f, whose keys
// are at the end of keys, and makes it f's current key. It reports whether
// f has the key already, and returns keys.
func addKey(data []byte, f *scanFrame, keys []keySpan, k keySpan) (bool, []keySpan) {
	f.key = k
	if f.seen == nil && len(keys)-int(f.keys) < manyKeys {
		for _, o := range keys[f.keys:] {
			if o.end-o.start == k.end-k.start && !o.escaped && !k.escaped {
				if string(data[o.start:o.end]) == string(data[k.start:k.end]) {
					return true, keys
				}
			} else if (o.escaped || k.escaped) && keyText(data, o) == keyText(data, k) {
				return true, keys
			}
		}
		return false, append(keys, k)
	}
	if f.seen == nil {
		f.seen = make(map[string]struct{}, 2*manyKeys)
		for _, o := range keys[f.keys:] {
			f.seen[keyText(data, o)] = struct{}{}
		}
	}
	name := keyText(data, k)
	if _, dup := f.seen[name]; dup {
		return true, keys
	}
	f.seen[name] = struct{}{}
	return false, keys
}

// keyText returns the text of a key of data that scanString found valid.
func keyText(data []byte, k keySpan) string {
	raw := data[k.start:k.end]
	if !k.escaped {
		return string(raw)
	}
	return unescapeJSON(raw)
}

// scanPath returns the field the scan of data is at: the keys and indices
// of the open objects and arrays frames, joined as validation errors name
// fields (cart.lines[1].product_id). badKey, when not nil, is the raw text
// of a key of the innermost object that is not valid text: the path ends
// with it, escaped.
func scanPath(data []byte, frames []scanFrame, badKey []byte) string {
	var b strings.Builder
	for j, f := range frames {
		if !f.object {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(int(f.index)))
			b.WriteByte(']')
			continue
		}
		name := ""
		switch {
		case badKey != nil && j == len(frames)-1:
			name = escapeText(string(badKey), maxShownText)
		default:
			name = shortText(keyText(data, f.key), maxShownText)
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(name)
	}
	return b.String()
}

// shortText returns valid text cut after at most max bytes, at the start
// of a character, ending in "..." when it was cut.
func shortText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max] + "..."
}

// unescapeJSON returns the text of a JSON string whose escapes scanString
// found valid.
func unescapeJSON(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(raw, i+2)
			if utf16.IsSurrogate(r) {
				r = utf16.DecodeRune(r, hex4(raw, i+8))
				i += 6
			}
			b.WriteRune(r)
			i += 6
			continue
		default: // " \ /
			b.WriteByte(raw[i+1])
		}
		i += 2
	}
	return b.String()
}
