package csv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
)

// FuzzCodeDecoder decodes arbitrary files. It never panics nor loops, and
// everything it accepts is importable: a valid, normalised code, limits of
// at least one, text without NUL that is UTF-8, a code no earlier row had,
// and row numbers that increase; each accepted row reads the same again
// with Reread. Seeds live in testdata/fuzz/FuzzCodeDecoder.
func FuzzCodeDecoder(f *testing.F) {
	f.Fuzz(func(t *testing.T, file []byte) {
		d, err := NewCodeDecoder(bytes.NewReader(file))
		var re *RowError
		if err != nil {
			if !errors.As(err, &re) || re.Row < 1 || re.Code == "" || re.Message == "" {
				t.Fatalf("NewCodeDecoder = %v, want a complete *RowError", err)
			}
			return
		}
		d.MaxRows = 20 // low, so that the fuzzer reaches RowTooMany
		seen := map[string]bool{}
		last := 0
		lines := bytes.Count(file, []byte("\n")) + 1
		for calls := 0; ; calls++ {
			if calls > lines+1 {
				t.Fatalf("Next is still returning rows after %d calls on %d lines", calls, lines)
			}
			row, c, err := d.Next()
			if err == io.EOF {
				if row != 0 || c != nil {
					t.Fatalf("Next = %d, %v, io.EOF, want 0, nil", row, c)
				}
				return
			}
			if row <= last || row > lines {
				t.Fatalf("row %d after row %d, in a file of %d lines", row, last, lines)
			}
			last = row
			if err != nil {
				if !errors.As(err, &re) || re.Row != row || re.Code == "" || re.Message == "" || c != nil {
					t.Fatalf("Next = %v, %v, want a complete *RowError for row %d and no code", c, err, row)
				}
				continue
			}
			if !promokit.ValidCode(c.Code) || promokit.NormalizeCode(c.Code) != c.Code {
				t.Fatalf("row %d: accepted code %q", row, c.Code)
			}
			if c.UsageLimit != nil && *c.UsageLimit < 1 || c.PerCustomerLimit != nil && *c.PerCustomerLimit < 1 {
				t.Fatalf("row %d: accepted limits %v, %v", row, c.UsageLimit, c.PerCustomerLimit)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("row %d: accepted a code that fails Validate: %v", row, err)
			}
			if seen[c.Code] {
				t.Fatalf("row %d: accepted %q twice", row, c.Code)
			}
			seen[c.Code] = true
			if !isText(c.CustomerID) || !isText(c.PartnerID) {
				t.Fatalf("row %d: accepted customer %q, partner %q", row, c.CustomerID, c.PartnerID)
			}
			again, err := d.Reread(row)
			if err != nil {
				t.Fatalf("row %d: Reread: %v", row, err)
			}
			if diff := cmp.Diff(c, again); diff != "" {
				t.Fatalf("row %d reads differently again (-first +again):\n%s", row, diff)
			}
		}
	})
}

// FuzzEncodeNeutralised puts arbitrary strings and numbers in every column
// of an export. No cell that encoding/csv reads back may start a formula,
// and removing the quote prefix must give back the value unless it held a
// carriage return, which encoding/csv does not keep. Seeds live in
// testdata/fuzz/FuzzEncodeNeutralised.
func FuzzEncodeNeutralised(f *testing.F) {
	f.Fuzz(func(t *testing.T, code, name, customer, product string, n int64) {
		p := &promokit.Promotion{
			ID: customer, StoreID: code, Name: name, Description: product, Channel: promokit.Channel(name),
			Type: promokit.DiscountType(product), AmountOff: n, PercentOff: promokit.BasisPoints(-n),
			Currency: product, MinOrder: n, ProductIDs: []string{product, code},
			TotalUses: &n, TotalDiscount: &n, PerCustomer: &n, Priority: n,
			Coupon: &promokit.CouponSettings{PerPerson: n, Quantity: -n, ValidDays: n},
		}
		c := &promokit.Code{
			Code: code, PromotionID: customer, StoreID: name, CustomerID: customer, PartnerID: product,
			UsageLimit: &n, PerCustomerLimit: &n, Uses: n,
		}
		var buf bytes.Buffer
		e := NewCodeEncoder(&buf)
		for range 2 { // the second row comes from the promotion cache
			if err := e.Encode(c, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(&buf)
		r.FieldsPerRecord = numColumns
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("the export is not valid CSV: %v", err)
		}
		if len(recs) != 3 {
			t.Fatalf("got %d records, want a header and two rows", len(recs))
		}
		want := map[int]string{
			colCode: code, colPromotionID: customer, colPromotionName: name, colStoreID: name,
			colCustomerID: customer, colPartnerID: product, colType: product, colCurrency: product,
			colChannel: name, colProductIDs: product + " " + code, colPromotionDescription: product,
		}
		for _, rec := range recs[1:] {
			for col, cell := range rec {
				if cell != "" && formulaStart(cell[0]) {
					t.Fatalf("%s cell %q starts a formula", header[col], cell)
				}
				if v, ok := want[col]; ok && !strings.Contains(v, "\r") && unquoteCell(cell) != v {
					t.Fatalf("%s = %q, which unquotes to %q, want %q", header[col], cell, unquoteCell(cell), v)
				}
			}
		}
	})
}
