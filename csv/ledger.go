package csv

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/promokit/promokit"
)

// LedgerHeader names the columns of a ledger export, in order. Amounts
// are integers of minor units of the row's currency; a negative amount is
// written as a plain number (a bare integer is no formula a spreadsheet
// runs), while text cells get the quote prefix of the code export.
func LedgerHeader() []string {
	return []string{
		"entry_id", "created_at", "payer", "payee", "store_id", "order_id", "line", "program", "rule",
		"status", "kind", "amount", "currency", "basis", "rate_bp", "rate_id", "event_id", "payout_id",
	}
}

// LedgerEncoder writes ledger entries as CSV rows.
type LedgerEncoder struct {
	w           *csv.Writer
	loc         *time.Location
	rec         []string
	wroteHeader bool
}

// NewLedgerEncoder returns an encoder that writes to w through a 64 KiB
// buffer, with times in loc (the marketplace's time zone; nil for UTC).
func NewLedgerEncoder(w io.Writer, loc *time.Location) *LedgerEncoder {
	cw := csv.NewWriter(bufio.NewWriterSize(w, 64<<10))
	cw.UseCRLF = true
	if loc == time.UTC {
		loc = nil
	}
	return &LedgerEncoder{w: cw, loc: loc, rec: make([]string, len(LedgerHeader()))}
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
	if e.loc == nil {
		r[1] = string(appendTime(nil, le.CreatedAt))
	} else {
		r[1] = le.CreatedAt.In(e.loc).Format("2006-01-02T15:04:05.999999Z07:00")
	}
	r[2] = string(appendCell(nil, le.Payer))
	r[3] = string(appendCell(nil, le.Payee))
	r[4] = string(appendCell(nil, le.StoreID))
	r[5] = string(appendCell(nil, le.OrderID))
	r[6] = strconv.Itoa(le.Line)
	r[7] = le.Program
	r[8] = le.Rule
	r[9] = le.Status
	r[10] = le.Kind
	r[11] = strconv.FormatInt(le.Amount, 10)
	r[12] = le.Currency
	r[13] = strconv.FormatInt(le.Basis, 10)
	r[14] = strconv.FormatInt(int64(le.Rate), 10)
	r[15] = strconv.FormatInt(le.RateID, 10)
	r[16] = string(appendCell(nil, le.EventID))
	r[17] = string(appendCell(nil, le.PayoutID))
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
