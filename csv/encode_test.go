package csv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
)

func ptr[T any](v T) *T { return &v }

var (
	jan1  = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	jan16 = time.Date(2025, 1, 16, 12, 30, 15, 250_000_999, time.UTC) // sub-microsecond part is dropped
)

// MustNewPromotion returns a percent-off promotion with every setting set.
func MustNewPromotion(tb testing.TB) *promokit.Promotion {
	tb.Helper()
	return &promokit.Promotion{
		ID: "prm_1", StoreID: "sto_1", Name: "Summer, \"hot\" sale", Channel: promokit.ChannelPartner,
		Type: promokit.PercentOff, PercentOff: 1500, Currency: "USD", MinOrder: 5000,
		ProductIDs: []string{"sku-1", "=sku2"}, StartsAt: jan1, EndsAt: ptr(jan1.AddDate(0, 1, 0)),
		TotalUses: ptr[int64](1000), TotalDiscount: ptr[int64](500000), PerCustomer: ptr[int64](2),
		Exclusive: true, Priority: -3, Coupon: &promokit.CouponSettings{PerPerson: 1, Quantity: 100, ValidDays: 7},
		Active: true, Version: 4, Description: "15% off, for our\nnewsletter's readers",
	}
}

// encodeAll encodes rows given as pairs of a code and a promotion (nil
// for none) and parses the output back with encoding/csv.
func encodeAll(t *testing.T, rows ...any) (string, [][]string) {
	t.Helper()
	var buf bytes.Buffer
	e := NewCodeEncoder(&buf)
	for i := 0; i < len(rows); i += 2 {
		p, _ := rows[i+1].(*promokit.Promotion)
		if err := e.Encode(rows[i].(*promokit.Code), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v\n%s", err, buf.String())
	}
	return buf.String(), recs
}

func TestHeaderMatchesColumns(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, name := range header {
		if name == "" || seen[name] {
			t.Fatalf("header name %q is empty or repeated", name)
		}
		seen[name] = true
	}
	for col, want := range map[int]string{colCode: "code", colCreatedAt: "created_at", colType: "type",
		colChannel: "channel", colCouponValidDays: "coupon_valid_days", colPromotionDescription: "promotion_description"} {
		if header[col] != want {
			t.Errorf("header[%d] = %q, want %q", col, header[col], want)
		}
	}
	if got := CodeHeader(); len(got) != numColumns || &got[0] == &header[0] {
		t.Error("CodeHeader must return a copy of every column")
	}
}

func TestCodeEncoder(t *testing.T) {
	t.Parallel()
	p := MustNewPromotion(t)
	full := &promokit.Code{
		Code: "SUMMER-10", PromotionID: "prm_1", StoreID: "sto_1", Active: true,
		UsageLimit: ptr[int64](50), PerCustomerLimit: ptr[int64](1), CustomerID: "cus 7", PartnerID: "par_9",
		ExpiresAt: ptr(jan16), Uses: 12, CreatedAt: jan1.Add(time.Hour),
	}
	bare := &promokit.Code{Code: "-DASH", PromotionID: "prm_1", StoreID: "sto_1"}
	other := &promokit.Promotion{ID: "prm_2", Name: "@home", Type: promokit.AmountOff, AmountOff: 250,
		Currency: "USD", Channel: promokit.ChannelStore, StartsAt: jan16}
	orphan := &promokit.Code{Code: "NOPROMO", PromotionID: "prm_3"}

	out, recs := encodeAll(t, full, p, bare, p, &promokit.Code{Code: "OTHER", PromotionID: "prm_2"}, other, orphan, nil)

	if !strings.HasSuffix(out, "\r\n") || strings.Count(out, "\r\n") != 7 { // and one in each description
		t.Errorf("lines must end in CRLF:\n%q", out)
	}
	want := [][]string{
		header[:],
		{"SUMMER-10", "prm_1", "Summer, \"hot\" sale", "sto_1", "true", "50", "1", "cus 7", "par_9",
			"2025-01-16T12:30:15.250000Z", "12", "2025-01-01T01:00:00Z",
			"percent_off", "0", "1500", "USD", "5000", "sku-1 =sku2", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z",
			"1000", "500000", "2", "partner", "true", "'-3", "1", "100", "7", "15% off, for our\nnewsletter's readers"},
		{"'-DASH", "prm_1", "Summer, \"hot\" sale", "sto_1", "false", "", "", "", "",
			"", "0", "",
			"percent_off", "0", "1500", "USD", "5000", "sku-1 =sku2", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z",
			"1000", "500000", "2", "partner", "true", "'-3", "1", "100", "7", "15% off, for our\nnewsletter's readers"},
		{"OTHER", "prm_2", "'@home", "", "false", "", "", "", "", "", "0", "",
			"amount_off", "250", "0", "USD", "0", "", "2025-01-16T12:30:15.250000Z", "",
			"", "", "", "store", "false", "0", "", "", "", ""},
		{"NOPROMO", "prm_3", "", "", "false", "", "", "", "", "", "0", "",
			"", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""},
	}
	assertRecords(t, recs, want)
}

// TestCodeEncoderPromotionChanges checks that the cached cells of a
// promotion follow edits made to the same value between two rows.
func TestCodeEncoderPromotionChanges(t *testing.T) {
	t.Parallel()
	p := MustNewPromotion(t)
	c := &promokit.Code{Code: "ABC", PromotionID: "prm_1"}
	var buf bytes.Buffer
	e := NewCodeEncoder(&buf)
	names := []string{"First", "Second"}
	for _, name := range names {
		p.Name, p.Description = name, "about "+name
		p.ProductIDs = append([]string(nil), "sku-"+name)
		*p.TotalUses++
		if err := e.Encode(c, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		r := recs[i+1]
		if r[colPromotionName] != name || r[colProductIDs] != "sku-"+name || r[colTotalUses] != []string{"1001", "1002"}[i] ||
			r[colPromotionDescription] != "about "+name {
			t.Errorf("row %d = %q, want the promotion's settings at the time of the row", i+1, r)
		}
	}
}

func TestCodeEncoderNeutralises(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'x"},   // encoding/csv drops a lone CR when it writes CRLF line ends
		{"'=x", "''=x"}, // so that the decoder's unquoting gives back '=x
		{"''", "'''"},
		{"'plain", "'plain"},
		{"'", "'"},
		{"a=1", "a=1"},
		{" =1", " =1"},
		{"", ""},
	} {
		p := &promokit.Promotion{ID: "prm_1", Name: tt.in, Description: tt.in}
		_, recs := encodeAll(t, &promokit.Code{Code: tt.in, PromotionID: p.ID, CustomerID: tt.in}, p)
		if got := recs[1][colCode]; got != tt.want {
			t.Errorf("code %q is written %q, want %q", tt.in, got, tt.want)
		}
		if got := recs[1][colPromotionName]; got != tt.want {
			t.Errorf("promotion_name %q is written %q, want %q", tt.in, got, tt.want)
		}
		if got := recs[1][colPromotionDescription]; got != tt.want {
			t.Errorf("promotion_description %q is written %q, want %q", tt.in, got, tt.want)
		}
		if got := recs[1][colCustomerID]; got != tt.want {
			t.Errorf("customer_id %q is written %q, want %q", tt.in, got, tt.want)
		}
		if got := unquoteCell(tt.want); got != tt.in && !strings.Contains(tt.in, "\r") {
			t.Errorf("unquoteCell(%q) = %q, want %q", tt.want, got, tt.in)
		}
	}
}

// TestCodeEncoderDescriptionLineBreaks: a description may hold line
// breaks, which keep it in one cell, as its encoder doc says.
func TestCodeEncoderDescriptionLineBreaks(t *testing.T) {
	t.Parallel()
	p := &promokit.Promotion{ID: "prm_1", Description: "one\r\ntwo\nthree\rfour\n=5"}
	_, recs := encodeAll(t, &promokit.Code{Code: "ABC", PromotionID: p.ID}, p)
	if got, want := recs[1][colPromotionDescription], "one\ntwo\nthreefour\n=5"; len(recs) != 2 || got != want {
		t.Errorf("the description reads back %q, want %q", got, want)
	}
}

func TestCodeEncoderEmpty(t *testing.T) {
	t.Parallel()
	out, recs := encodeAll(t)
	if len(recs) != 1 || !strings.HasPrefix(out, "code,promotion_id,") || !strings.HasSuffix(out, "coupon_valid_days,promotion_description\r\n") {
		t.Errorf("an empty export must hold the header only, got %q", out)
	}
}

func TestCodeEncoderWrongPromotion(t *testing.T) {
	t.Parallel()
	e := NewCodeEncoder(&bytes.Buffer{})
	err := e.Encode(&promokit.Code{Code: "ABC", PromotionID: "prm_2"}, MustNewPromotion(t))
	if err == nil || !strings.Contains(err.Error(), "prm_2") {
		t.Errorf("Encode with another promotion = %v, want an error naming it", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCodeEncoderWriteError(t *testing.T) {
	t.Parallel()
	e := NewCodeEncoder(failWriter{})
	if err := e.Encode(&promokit.Code{Code: "ABC"}, nil); err != nil {
		t.Fatalf("Encode = %v, want nil while the row is buffered", err)
	}
	if err := e.Flush(); err == nil || err.Error() != "disk full" {
		t.Errorf("Flush = %v, want the writer's error", err)
	}
}

func TestAppendTime(t *testing.T) {
	t.Parallel()
	tokyo := time.FixedZone("JST", 9*3600)
	for _, tt := range []struct {
		in   time.Time
		want string
	}{
		{jan1, "2025-01-01T00:00:00Z"},
		{time.Date(2025, 1, 1, 9, 0, 0, 1_000, tokyo), "2025-01-01T00:00:00.000001Z"},
		{time.Date(2025, 12, 31, 23, 59, 59, 999_999_999, time.UTC), "2025-12-31T23:59:59.999999Z"},
		{time.Date(2025, 6, 1, 0, 0, 0, 999, time.UTC), "2025-06-01T00:00:00Z"},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "10000-01-01T00:00:00Z"},
	} {
		if got := string(appendTime(nil, tt.in)); got != tt.want {
			t.Errorf("appendTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func assertRecords(t *testing.T, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%q", len(got), len(want), got)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Errorf("record %d has %d cells, want %d:\n%q", i, len(got[i]), len(want[i]), got[i])
			continue
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("record %d, %s = %q, want %q", i, header[j], got[i][j], want[i][j])
			}
		}
	}
}

// BenchmarkCodeEncoder encodes codes of one promotion, the shape of an
// export, and reports rows per second. "distinct" gives every code its own
// times, "batch" the shared times of codes one job generated, and "quoted"
// a promotion name that encoding/csv must quote.
func BenchmarkCodeEncoder(b *testing.B) {
	for _, bb := range []struct {
		name   string
		shared bool
		pname  string
	}{
		{"distinct", false, "Summer sale 15%"},
		{"batch", true, "Summer sale 15%"},
		{"quoted", false, "Summer, \"hot\" sale"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			p := MustNewPromotion(b)
			p.Name = bb.pname
			g := promokit.NewGenerator(promokit.CodeSpec{Length: 10, Charset: promokit.DefaultCharset})
			codes := make([]promokit.Code, 1024)
			for i := range codes {
				var d time.Duration
				if !bb.shared {
					d = time.Duration(i) * time.Second
				}
				codes[i] = promokit.Code{
					Code: g.Next(), PromotionID: p.ID, StoreID: p.StoreID, Active: true, UsageLimit: ptr[int64](1),
					PartnerID: "par_01JH5T3V9XKQ2W8M4N6P7R0S1A", Uses: int64(i % 2),
					ExpiresAt: ptr(jan16.Add(d)), CreatedAt: jan1.Add(d + time.Microsecond),
				}
			}
			e := NewCodeEncoder(discard{})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := e.Encode(&codes[i%len(codes)], p); err != nil {
					b.Fatal(err)
				}
			}
			if err := e.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// discard counts nothing and keeps nothing, like io.Discard, without
// io.Discard's ReaderFrom fast path that a real file would not have.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
