package csv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
)

// TestCodeDecoderInvalidText refuses a NUL byte and bytes that are not
// UTF-8 in any cell, naming the row and the column, with a message that
// does not echo them.
func TestCodeDecoderInvalidText(t *testing.T) {
	t.Parallel()
	const head = "code,usage_limit,per_customer_limit,customer_id,partner_id,active,expires_at\n"
	for i, col := range []string{"code", "usage_limit", "per_customer_limit", "customer_id", "partner_id", "active", "expires_at"} {
		for _, bad := range []string{"\x00", "\xff", "A\x00B", "caf\xe9"} {
			cells := []string{"GOOD", "", "", "", "", "", ""}
			cells[i] = cells[i] + bad
			file := head + strings.Join(cells, ",") + "\nNEXT,,,,,,\n"
			res, _ := MustDecodeAll(t, mustDecoder(t, file))
			assertResults(t, res, []result{{row: 2, field: col, kind: RowInvalidText}, {row: 3, code: "NEXT"}})
			d := mustDecoder(t, file)
			_, _, err := d.Next()
			if msg := err.Error(); strings.Contains(msg, bad) || !strings.Contains(msg, "row 2: "+col+": ") {
				t.Errorf("%s %q: message %q", col, bad, msg)
			}
		}
	}
	for _, header := range []string{"code,\x00\n", "code,usage_limit,\xc3\n"} {
		_, err := NewCodeDecoder(strings.NewReader(header + "ABC,\n"))
		var re *RowError
		if !errors.As(err, &re) || re.Row != 1 || re.Code != RowInvalidText || !strings.HasPrefix(re.Field, "column ") || strings.ContainsAny(re.Error(), "\x00\xc3") {
			t.Errorf("header %q: %v", header, err)
		}
	}
}

// TestCodeDecoderReread reads rows again, in any order, as Next read
// them, whatever their quoting, line ends and the blank lines before them.
func TestCodeDecoderReread(t *testing.T) {
	t.Parallel()
	file := "\uFEFFcode,usage_limit,customer_id,partner_id,active,expires_at\r\n" +
		"PLAIN,5,cus_1,par_1,no,2025-01-16T21:30:15.25+09:00\r\n" + // 2
		"\r\n\n" +
		"\"QUOTED\",\"7\",\"cus, 2\",,\"\",\n" + // 5
		"  spaced  ,,cus_3,,,\n" + // 6
		"MULTI,,\"multi\nline\",,,\n" + // 7-8: customer_id is not printable
		"bad code,,,,,\n" + // 9
		" , , , , , \n" + // 10: blank
		"'-DASH,,\"say \"\"hi\"\"\",,yes,\n" + // 11
		"LAST,,,,," // 12, no line break
	d := mustDecoder(t, file)
	d.AllowDuplicates = true
	_, codes := MustDecodeAll(t, d)
	rows := []int{2, 5, 6, 11, 12}
	if len(codes) != len(rows) {
		t.Fatalf("decoded %d codes, want %d", len(codes), len(rows))
	}
	for i := len(rows) - 1; i >= 0; i-- {
		c, err := d.Reread(rows[i])
		if err != nil {
			t.Fatalf("Reread(%d): %v", rows[i], err)
		}
		if diff := cmp.Diff(codes[i], c); diff != "" {
			t.Errorf("row %d reads differently again (-first +again):\n%s", rows[i], diff)
		}
		if c == codes[i] {
			t.Errorf("row %d: Reread returned the code Next returned, not a new one", rows[i])
		}
	}
	for _, row := range []int{1, 3, 7, 8, 9, 10, 13} {
		if _, err := d.Reread(row); err == nil {
			t.Errorf("Reread(%d) of a row without a code: no error", row)
		}
	}
	// A reader that cannot be read again cannot reread.
	d, err := NewCodeDecoder(io.MultiReader(strings.NewReader("code\nABC\n")))
	if err != nil {
		t.Fatal(err)
	}
	MustDecodeAll(t, d)
	if _, err := d.Reread(2); err == nil {
		t.Error("Reread without an io.ReaderAt: no error")
	}
}

// TestCodeDecoderAllowDuplicates returns a code on two rows twice.
func TestCodeDecoderAllowDuplicates(t *testing.T) {
	t.Parallel()
	d := mustDecoder(t, "code\nABC\nabc\n")
	d.AllowDuplicates = true
	res, _ := MustDecodeAll(t, d)
	assertResults(t, res, []result{{row: 2, code: "ABC"}, {row: 3, code: "ABC"}})
}

// paddedRows is a file of n rows whose code and customer cells are padded
// with pad spaces, made as it is read.
type paddedRows struct {
	n, i, pad int
	buf       bytes.Buffer
}

func (p *paddedRows) Read(b []byte) (int, error) {
	for p.buf.Len() < len(b) && p.i <= p.n {
		if p.i == 0 {
			p.buf.WriteString("code,customer_id\n")
		} else {
			sp := strings.Repeat(" ", p.pad)
			fmt.Fprintf(&p.buf, "%sCODE-%06d%s,%scus_%d%s\n", sp, p.i, sp, sp, p.i, sp)
		}
		p.i++
	}
	if p.buf.Len() == 0 {
		return 0, io.EOF
	}
	return p.buf.Read(b)
}

// TestCodeDecoderKeepsNoRow keeps the codes of a thousand rows of nearly
// MaxRowBytes each: they must not keep their rows alive, or a file within
// the size limit could hold a row's worth of memory per code kept.
func TestCodeDecoderKeepsNoRow(t *testing.T) {
	pad := (MaxRowBytes - 100) / 4
	d, err := NewCodeDecoder(&paddedRows{n: 1000, pad: pad})
	if err != nil {
		t.Fatal(err)
	}
	d.AllowDuplicates = true
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var kept []*promokit.Code
	for {
		_, c, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, c)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(kept) != 1000 || kept[999].Code != "CODE-001000" || kept[999].CustomerID != "cus_1000" {
		t.Fatalf("decoded %d codes, the last %+v", len(kept), kept[len(kept)-1])
	}
	// The rows weigh 1000 × 64 KiB; the codes, a few hundred bytes each.
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 8<<20 {
		t.Errorf("keeping 1,000 codes holds %d MiB", grown>>20)
	}
	runtime.KeepAlive(kept)
}
