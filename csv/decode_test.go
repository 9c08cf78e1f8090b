package csv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/promokit/promokit"
)

// result is what one call to Next gave, in a form tests can compare.
type result struct {
	row         int
	code        string // the code, or "" on error
	field, kind string // the RowError's Field and Code
}

// MustDecodeAll decodes a file and returns every result up to io.EOF.
func MustDecodeAll(tb testing.TB, d *CodeDecoder) ([]result, []*promokit.Code) {
	tb.Helper()
	var (
		res   []result
		codes []*promokit.Code
	)
	for i := 0; ; i++ {
		if i > 1000 {
			tb.Fatal("Next does not reach io.EOF")
		}
		row, c, err := d.Next()
		if err == io.EOF {
			return res, codes
		}
		var re *RowError
		switch {
		case err == nil:
			res = append(res, result{row: row, code: c.Code})
			codes = append(codes, c)
		case errors.As(err, &re):
			if re.Row != row {
				tb.Errorf("Next returned row %d with an error for row %d", row, re.Row)
			}
			res = append(res, result{row: row, field: re.Field, kind: re.Code})
		default:
			tb.Fatalf("Next: %v", err)
		}
	}
}

func mustDecoder(tb testing.TB, file string) *CodeDecoder {
	tb.Helper()
	d, err := NewCodeDecoder(strings.NewReader(file))
	if err != nil {
		tb.Fatalf("NewCodeDecoder: %v", err)
	}
	return d
}

func TestCodeDecoderValues(t *testing.T) {
	t.Parallel()
	file := "\uFEFF Code ,USAGE_LIMIT,per_customer_limit,Customer_ID,partner_id,Active,expires_at\r\n" +
		" summer-10 ,5,1,cus_1,par_1,no,2025-01-16T21:30:15.25+09:00\r\n" +
		"'-dash,,,,,,\r\n" +
		"\r\n" +
		" , ,,,,,\r\n" +
		"PLAIN,1000000000000,,,,YES,\r\n"
	res, codes := MustDecodeAll(t, mustDecoder(t, file))
	want := []result{{row: 2, code: "SUMMER-10"}, {row: 3, code: "-DASH"}, {row: 6, code: "PLAIN"}}
	assertResults(t, res, want)
	if len(codes) != 3 {
		return
	}
	c := codes[0]
	exp := time.Date(2025, 1, 16, 12, 30, 15, 250_000_000, time.UTC)
	if *c.UsageLimit != 5 || *c.PerCustomerLimit != 1 || c.CustomerID != "cus_1" || c.PartnerID != "par_1" ||
		c.Active || !c.ExpiresAt.Equal(exp) || c.ExpiresAt.Location() != time.UTC {
		t.Errorf("first code = %+v, want every setting of row 2", c)
	}
	c = codes[1]
	if c.UsageLimit != nil || c.PerCustomerLimit != nil || c.ExpiresAt != nil || !c.Active || c.CustomerID != "" {
		t.Errorf("second code = %+v, want empty cells to leave settings unset and active true", c)
	}
	if !codes[2].Active || *codes[2].UsageLimit != 1_000_000_000_000 {
		t.Errorf("third code = %+v", codes[2])
	}
}

func TestCodeDecoderHeaders(t *testing.T) {
	t.Parallel()
	for _, file := range []string{
		"code\nABC\n",
		"code\r\nABC",
		"\uFEFFcode\nABC\n",
		"CODE\nABC\n",
		"\"code\"\nABC\n",
		"\uFEFF\"Code\"\r\nABC\r\n",
		"active,code\n,ABC\n",
		"\n\ncode\nABC\n", // blank lines before the header are skipped
	} {
		res, _ := MustDecodeAll(t, mustDecoder(t, file))
		if len(res) != 1 || res[0].code != "ABC" {
			t.Errorf("file %q gives %+v, want code ABC", file, res)
		}
	}
}

func TestCodeDecoderHeaderErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file, field, kind string
	}{
		{"", "", RowMissingHeader},
		{"\uFEFF", "", RowMissingHeader},
		{"\n\n", "", RowMissingHeader},
		{"code,discount\nABC,1\n", "discount", RowUnknownColumn},
		{"code,\nABC,\n", "", RowUnknownColumn},
		{"code,Code\n", "Code", RowDuplicateColumn},
		{"usage_limit,active\n", "code", RowMissingColumn},
		{"code,\"usage\"_limit\n", "", RowMalformed},
		{"code," + strings.Repeat("x", MaxRowBytes) + "\n", "", RowTooLong},
	} {
		_, err := NewCodeDecoder(strings.NewReader(tt.file))
		var re *RowError
		if !errors.As(err, &re) || re.Row != 1 || re.Field != tt.field || re.Code != tt.kind {
			t.Errorf("NewCodeDecoder(%.40q) = %v, want a RowError on row 1 with field %q and code %q", tt.file, err, tt.field, tt.kind)
		}
	}
}

func TestCodeDecoderRowErrors(t *testing.T) {
	t.Parallel()
	file := "code,usage_limit,per_customer_limit,customer_id,partner_id,active,expires_at\n" +
		"GOOD1,,,,,,\n" + // 2
		",1,,,,,\n" + // 3
		"AB,,,,,,\n" + // 4
		"GOOD!,,,,,,\n" + // 5
		"GOOD2,ten,,,,,\n" + // 6
		"GOOD2,0,,,,,\n" + // 7
		"GOOD2,99999999999999999999,,,,,\n" + // 8
		"GOOD2,,1000000001,,,,\n" + // 9
		"GOOD2,,x,,,,\n" + // 10
		"GOOD2,,,\"a\tb\",,,\n" + // 11
		"GOOD2,,,,\"a\x01\",,\n" + // 12
		"GOOD2,,,,,maybe,\n" + // 13
		"GOOD2,,,,,,2025-01-01\n" + // 14
		"GOOD2,,\n" + // 15
		"GOOD2,\"1\"x,,,,,\n" + // 16
		"good1,,,,,,\n" + // 17
		"\"MULTI\nLINE\",,,,,,\n" + // 18-19
		"GOOD2,,,,,,\n" + // 20
		"GOOD2,,,,,,\n" + // 21
		"\"OPEN,,,,,,\n" // 22, unterminated to the end
	want := []result{
		{row: 2, code: "GOOD1"},
		{row: 3, field: "code", kind: RowRequired},
		{row: 4, field: "code", kind: RowInvalid},
		{row: 5, field: "code", kind: RowInvalid},
		{row: 6, field: "usage_limit", kind: RowInvalid},
		{row: 7, field: "usage_limit", kind: RowOutOfRange},
		{row: 8, field: "usage_limit", kind: RowOutOfRange},
		{row: 9, field: "per_customer_limit", kind: RowOutOfRange},
		{row: 10, field: "per_customer_limit", kind: RowInvalid},
		{row: 11, field: "customer_id", kind: RowInvalid},
		{row: 12, field: "partner_id", kind: RowInvalid},
		{row: 13, field: "active", kind: RowInvalid},
		{row: 14, field: "expires_at", kind: RowInvalid},
		{row: 15, kind: RowFieldCount},
		{row: 16, kind: RowMalformed},
		{row: 17, field: "code", kind: RowDuplicate},
		{row: 18, field: "code", kind: RowInvalid},
		{row: 20, code: "GOOD2"},
		{row: 21, field: "code", kind: RowDuplicate},
		{row: 22, kind: RowMalformed},
	}
	res, _ := MustDecodeAll(t, mustDecoder(t, file))
	assertResults(t, res, want)
}

func TestCodeDecoderErrorMessages(t *testing.T) {
	t.Parallel()
	d := mustDecoder(t, "code\nABC\nabc\n\"x\"y\n")
	if _, _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	_, _, err := d.Next()
	if got, want := err.Error(), "csv: row 3: code: code ABC is already on row 2"; got != want {
		t.Errorf("duplicate: %q, want %q", got, want)
	}
	_, _, err = d.Next()
	if !strings.HasPrefix(err.Error(), "csv: row 4: the row is not valid CSV: ") || errors.Unwrap(err) == nil {
		t.Errorf("malformed: %q, want the row and the *csv.ParseError as its cause", err)
	}
}

func TestCodeDecoderTooLong(t *testing.T) {
	t.Parallel()
	const head = "code,customer_id\n"
	// A row of exactly MaxRowBytes, counting its line break, is read; its
	// customer_id is too long for Code.Validate, not for the decoder.
	fits := "FITS," + strings.Repeat("c", MaxRowBytes-len("FITS,\n")) + "\n"
	for _, tt := range []struct {
		name, file string
		want       []result
	}{
		{"fits", head + fits + "NEXT,\n",
			[]result{{row: 2, field: "customer_id", kind: RowInvalid}, {row: 3, code: "NEXT"}}},
		{"one byte over", head + "ABC,\n" + "OVER," + strings.Repeat("c", MaxRowBytes-len("OVER,\n")+1) + "\nNEXT,\n",
			[]result{{row: 2, code: "ABC"}, {row: 3, kind: RowTooLong}}},
		{"over at the end", head + "OVER," + strings.Repeat("c", MaxRowBytes),
			[]result{{row: 2, kind: RowTooLong}}},
		{"far over", head + "ABC,\n" + "OVER," + strings.Repeat("c", 10*MaxRowBytes) + "\nNEXT,\n",
			[]result{{row: 2, code: "ABC"}, {row: 3, kind: RowTooLong}}},
		{"quoted", head + "ABC,\n" + "Q,\"" + strings.Repeat("c\n", MaxRowBytes) + "\"\nNEXT,\n",
			[]result{{row: 2, code: "ABC"}, {row: 3, kind: RowTooLong}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, _ := MustDecodeAll(t, mustDecoder(t, tt.file))
			assertResults(t, res, tt.want)
		})
	}
}

func TestCodeDecoderMaxRows(t *testing.T) {
	t.Parallel()
	d := mustDecoder(t, "code\nAAA\n,\n\n\"B\"B\nCCC\nDDD\n")
	d.MaxRows = 2
	res, _ := MustDecodeAll(t, d)
	assertResults(t, res, []result{{row: 2, code: "AAA"}, {row: 5, kind: RowMalformed}, {row: 6, kind: RowTooMany}})
}

func TestCodeDecoderReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	d, err := NewCodeDecoder(io.MultiReader(strings.NewReader("code\nAAA\n"), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	if _, c, err := d.Next(); err != nil || c.Code != "AAA" {
		t.Fatalf("Next = %v, %v, want AAA", c, err)
	}
	for range 2 {
		if _, _, err := d.Next(); !errors.Is(err, boom) {
			t.Errorf("Next = %v, want the reader's error, every time", err)
		}
	}
	// An error on the first read is not mistaken for an empty file, even
	// from a reader that reports it once.
	if _, err := NewCodeDecoder(&errOnce{boom}); !errors.Is(err, boom) {
		t.Errorf("NewCodeDecoder on a failing reader = %v, want its error", err)
	}
}

// errOnce fails its first read with err, then reports io.EOF.
type errOnce struct{ err error }

func (e *errOnce) Read([]byte) (int, error) {
	err := e.err
	if err == nil {
		return 0, io.EOF
	}
	e.err = nil
	return 0, err
}

func assertResults(t *testing.T, got, want []result) {
	t.Helper()
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(want):
			t.Errorf("extra result %+v", got[i])
		case i >= len(got):
			t.Errorf("missing result %+v", want[i])
		case got[i] != want[i]:
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// BenchmarkCodeDecoder reads an import file of codes with limits.
func BenchmarkCodeDecoder(b *testing.B) {
	g := promokit.NewGenerator(promokit.CodeSpec{Length: 12, Charset: promokit.DefaultCharset})
	var sb strings.Builder
	sb.WriteString("code,usage_limit,per_customer_limit,active,expires_at\r\n")
	const rows = 10_000
	for range rows {
		sb.WriteString(g.Next() + ",1,1,true,2025-12-31T23:59:59Z\r\n")
	}
	file := sb.String()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := NewCodeDecoder(strings.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, _, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
}

// TestExportReimport exports codes, keeps the columns an import takes, and
// imports them: every setting comes back, formula prefixes included.
func TestExportReimport(t *testing.T) {
	t.Parallel()
	in := []*promokit.Code{
		{Code: "-DASH", Active: true, UsageLimit: ptr[int64](3), PerCustomerLimit: ptr[int64](1),
			CustomerID: "=cus", PartnerID: "@par", ExpiresAt: ptr(jan16.Truncate(time.Microsecond))},
		{Code: "PLAIN_1", CustomerID: "'-quoted", PartnerID: "+1"},
	}
	var rows []any
	for _, c := range in {
		rows = append(rows, c, nil)
	}
	_, recs := encodeAll(t, rows...)
	cols := []int{colCode, colUsageLimit, colPerCustomerLimit, colCustomerID, colPartnerID, colActive, colExpiresAt}
	var file bytes.Buffer
	w := csv.NewWriter(&file)
	for _, rec := range recs {
		var out []string
		for _, col := range cols {
			out = append(out, rec[col])
		}
		if err := w.Write(out); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	_, got := MustDecodeAll(t, mustDecoder(t, file.String()))
	if len(got) != len(in) {
		t.Fatalf("imported %d codes of %d:\n%s", len(got), len(in), file.String())
	}
	for i, c := range got {
		var out bytes.Buffer
		e := NewCodeEncoder(&out)
		_ = e.Encode(in[i], nil)
		_ = e.Encode(c, nil)
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		if lines := strings.Split(out.String(), "\r\n"); lines[1] != lines[2] {
			t.Errorf("code %d comes back as\n%s\nnot\n%s", i, lines[2], lines[1])
		}
	}
}
