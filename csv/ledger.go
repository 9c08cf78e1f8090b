package csv

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"

	"github.com/promokit/promokit"
)

// LedgerHeader names the columns of a ledger export, in order. Amounts
// are integers of minor units of the row's currency; a negative amount is
// written as a plain number (a bare integer is no formula a spreadsheet
// runs), while text cells get the quote prefix of the code export.
func LedgerHeader() []string {
	return []string{
		"entry_id", "created_at", "partner_id", "store_id", "order_id", "line", "program",
		"status", "kind", "amount", "currency", "basis", "rate_bp", "rate_id", "event_id",
	}
}

// LedgerEncoder writes ledger entries as CSV rows.
type LedgerEncoder struct {
	w           *csv.Writer
	rec         []string
	wroteHeader bool
}

// NewLedgerEncoder returns an encoder that writes to w through a 64 KiB
// buffer.
func NewLedgerEncoder(w io.Writer) *LedgerEncoder {
	cw := csv.NewWriter(bufio.NewWriterSize(w, 64<<10))
	cw.UseCRLF = true
	return &LedgerEncoder{w: cw, rec: make([]string, len(LedgerHeader()))}
}

// Encode writes the row of e, after the header row if it is the first.
func (e *LedgerEncoder) Encode(le *promokit.LedgerEntry) error {
	if !e.wroteHeader {
		e.wroteHeader = true
		if err := e.w.Write(LedgerHeader()); err != nil {
			return err
		}
	}
	r := e.rec
	r[0] = strconv.FormatInt(le.ID, 10)
	r[1] = string(appendTime(nil, le.CreatedAt))
	r[2] = string(appendCell(nil, le.PartnerID))
	r[3] = string(appendCell(nil, le.StoreID))
	r[4] = string(appendCell(nil, le.OrderID))
	r[5] = strconv.Itoa(le.Line)
	r[6] = le.Program
	r[7] = le.Status
	r[8] = le.Kind
	r[9] = strconv.FormatInt(le.Amount, 10)
	r[10] = le.Currency
	r[11] = strconv.FormatInt(le.Basis, 10)
	r[12] = strconv.FormatInt(int64(le.Rate), 10)
	r[13] = strconv.FormatInt(le.RateID, 10)
	r[14] = string(appendCell(nil, le.EventID))
	return e.w.Write(r)
}

// Flush writes the header if no row was written, then the buffered rows,
// and returns the first error writing met.
func (e *LedgerEncoder) Flush() error {
	if !e.wroteHeader {
		e.wroteHeader = true
		if err := e.w.Write(LedgerHeader()); err != nil {
			return err
		}
	}
	e.w.Flush()
	return e.w.Error()
}
