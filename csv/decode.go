package csv

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/promokit/promokit"
)

// MaxRowBytes is the most bytes one row of an imported file may have,
// counting its line break (and any blank lines right before it). The
// decoder stops reading a longer row at that size, so that one bad line
// cannot make it hold the rest of the file.
const MaxRowBytes = 64 << 10

// The columns an import may have.
type column int

const (
	inCode column = iota
	inUsageLimit
	inPerCustomerLimit
	inCustomerID
	inPartnerID
	inActive
	inExpiresAt
	numInColumns
)

var columnNames = map[string]column{
	"code":               inCode,
	"usage_limit":        inUsageLimit,
	"per_customer_limit": inPerCustomerLimit,
	"customer_id":        inCustomerID,
	"partner_id":         inPartnerID,
	"active":             inActive,
	"expires_at":         inExpiresAt,
}

// CodeDecoder reads codes to import from a CSV file, one row at a time.
// It is not safe for concurrent use.
//
// The first row is a header that names the columns, in any order and in
// any case: code (required), usage_limit, per_customer_limit, customer_id,
// partner_id, active and expires_at. Cells are trimmed of spaces and may
// carry the quote prefix CodeEncoder adds against formula injection. An
// empty cell leaves its setting unset (no limit, no customer, no partner,
// no expiry); active is true unless its cell says false, 0 or no (true, 1
// and yes are accepted too, in any case), and expires_at is an RFC 3339
// time. Rows whose cells are all empty are skipped, since spreadsheets
// often save some at the end. A UTF-8 byte order mark at the start and
// CRLF or LF line ends are accepted.
//
// A cell holding a NUL byte or bytes that are not UTF-8 is a RowError
// naming its column (code RowInvalidText), whatever its column: such text
// cannot be stored everywhere (PostgreSQL refuses NUL), and an error
// message must not echo it.
//
// The decoder holds the current row (at most MaxRowBytes) and the set of
// codes accepted so far, which it needs to report a code that is on two
// rows. The set is a map from code to row, a few tens of bytes per code
// beyond the code itself, which adds up to tens of MB for a million codes.
// Set MaxRows to bound it, or
// AllowDuplicates to leave that check to the caller; the caller should
// also bound the file's size, for instance with http.MaxBytesReader, since
// rows the decoder rejects cost time too. The codes it returns share no
// memory with the row they come from, so keeping a code never keeps a
// long row.
//
// When the reader given to NewCodeDecoder is also an io.ReaderAt (an
// *os.File, a *bytes.Reader), the decoder remembers where each row it
// returns a code for lies in the file, 16 bytes a row, so that Reread can
// decode that row again later, in any order.
type CodeDecoder struct {
	// MaxRows is the most data rows the file may have, whether they hold
	// a code or an error; the row after them is reported as a RowError
	// with code RowTooMany, which ends the file. Zero means no limit. Rows
	// whose cells are all empty do not count.
	MaxRows int
	// AllowDuplicates, set before the first call to Next, makes the
	// decoder return a code that is on an earlier row like any other,
	// never RowDuplicate: for a caller that looks for duplicates itself.
	// The decoder then does not keep the codes it has returned.
	AllowDuplicates bool

	r       *csv.Reader
	lim     *rowLimiter
	bom     int64
	cols    []column
	seen    map[string]int // code -> row it was first seen on
	rows    int            // data rows read
	lastEnd int            // line on which the last record read ends
	err     error          // returned by every later call once set

	at    io.ReaderAt // the file, when it can be read again
	spans []rowSpan   // where the rows returned with a code lie, by row
	start int64       // offset in the file of the last record read
	buf   []byte      // Reread's row
	rec   []string    // Reread's cells
}

// rowSpan is where a row lies in the file: n bytes from off, which may
// include blank lines before the row and the line break after it.
type rowSpan struct {
	row int32
	n   int32
	off int64
}

// NewCodeDecoder returns a decoder for the file r and reads its header.
// A header that is missing, malformed, names a column twice, names an
// unknown column or lacks the code column returns a *RowError for the
// header's row. An error of r is returned as it is.
func NewCodeDecoder(r io.Reader) (*CodeDecoder, error) {
	lim := &rowLimiter{r: r, max: 3 + MaxRowBytes + 1}
	br := bufio.NewReaderSize(lim, 4096)
	d := &CodeDecoder{lim: lim, seen: make(map[string]int)}
	d.at, _ = r.(io.ReaderAt)
	b, err := br.Peek(3)
	if len(b) < 3 && err != nil && err != io.EOF {
		return nil, err // Peek consumed it: the reader might not repeat it
	}
	if len(b) == 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		_, _ = br.Discard(3)
		d.bom = 3
	}
	// encoding/csv reads through br itself, as br has its default size.
	d.r = csv.NewReader(br)
	d.r.FieldsPerRecord = -1 // checked here, to report it as a row error
	d.r.ReuseRecord = true
	rec, row, err := d.read()
	if err == io.EOF {
		return nil, &RowError{Row: 1, Code: RowMissingHeader, Message: "the file is empty: its first row must name the columns, such as code"}
	}
	if err != nil {
		return nil, err
	}
	d.cols = make([]column, len(rec))
	var seen [numInColumns]bool
	for i, cell := range rec {
		if !isText(cell) {
			return nil, &RowError{Row: row, Field: fmt.Sprintf("column %d", i+1), Code: RowInvalidText,
				Message: "the cell holds a NUL byte or bytes that are not UTF-8"}
		}
		name := strings.TrimSpace(cell)
		col, ok := columnNames[strings.ToLower(name)]
		if !ok {
			return nil, &RowError{Row: row, Field: clip(name), Code: RowUnknownColumn,
				Message: fmt.Sprintf("unknown column %s: the columns are code, usage_limit, per_customer_limit, customer_id, partner_id, active and expires_at", quote(name))}
		}
		if seen[col] {
			return nil, &RowError{Row: row, Field: clip(name), Code: RowDuplicateColumn,
				Message: fmt.Sprintf("column %s is named twice", quote(name))}
		}
		seen[col] = true
		d.cols[i] = col
	}
	if !seen[inCode] {
		return nil, &RowError{Row: row, Field: "code", Code: RowMissingColumn, Message: "the header has no code column"}
	}
	return d, nil
}

// Next returns the next code and the row it is on. The row is the line on
// which the row starts, counting the file's first line, normally the
// header, as 1: it matches the row number a spreadsheet shows unless a
// cell above holds a line break. Row numbers increase from one call to the
// next.
//
// The code is normalised with promokit.NormalizeCode and passes
// promokit.Code.Validate; Active is set as the file says, or true. A row
// that cannot be imported returns its row and a *RowError, and the next
// call goes on with the next row, so that a caller can collect the errors
// of a whole file. The errors RowTooLong and RowTooMany end the file
// instead: the call after them returns io.EOF. At the end of the file Next
// returns io.EOF; an error of the underlying reader is returned as it is,
// and again on every later call.
func (d *CodeDecoder) Next() (row int, c *promokit.Code, err error) {
	for d.err == nil {
		var rec []string
		rec, row, err = d.read()
		if err != nil && d.err != nil {
			return row, nil, err // the end, or an error that ends it
		}
		if err == nil && blank(rec) {
			continue
		}
		d.rows++
		if d.MaxRows > 0 && d.rows > d.MaxRows {
			d.err = io.EOF
			return row, nil, &RowError{Row: row, Code: RowTooMany,
				Message: fmt.Sprintf("the file has more than %d rows; split it into smaller files", d.MaxRows)}
		}
		if err != nil {
			return row, nil, err // a malformed row
		}
		if len(rec) != len(d.cols) {
			return row, nil, &RowError{Row: row, Code: RowFieldCount,
				Message: fmt.Sprintf("the row has %d cells but the header names %d columns", len(rec), len(d.cols))}
		}
		code, rerr := d.decode(row, rec, !d.AllowDuplicates)
		if rerr != nil {
			return row, nil, rerr
		}
		if d.at != nil {
			d.spans = append(d.spans, rowSpan{row: int32(row), off: d.start, n: int32(d.bom + d.r.InputOffset() - d.start)})
		}
		return row, code, nil
	}
	return 0, nil, d.err
}

// read returns the next record and the line it starts on. Its error is
// io.EOF, a *RowError or an error of the underlying reader; it sets d.err
// to the error every later call must return, if any, so that only a
// malformed row leaves d.err nil.
func (d *CodeDecoder) read() ([]string, int, error) {
	start := d.r.InputOffset()
	d.start = d.bom + start
	rec, err := d.r.Read()
	if d.lim.hit || err == nil && d.r.InputOffset()-start > MaxRowBytes {
		row := d.lastEnd + 1
		if !d.lim.hit {
			row, _ = d.r.FieldPos(0)
		}
		d.err = io.EOF
		return nil, row, &RowError{Row: row, Code: RowTooLong,
			Message: fmt.Sprintf("the row is longer than %d bytes; the file is read no further", MaxRowBytes)}
	}
	d.lim.max = d.bom + d.r.InputOffset() + MaxRowBytes + 1
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			d.lastEnd = pe.Line
			return nil, pe.StartLine, &RowError{Row: pe.StartLine, Code: RowMalformed, err: err,
				Message: fmt.Sprintf("the row is not valid CSV: %v (line %d, column %d)", pe.Err, pe.Line, pe.Column)}
		}
		d.err = err
		return nil, 0, err
	}
	row, _ := d.r.FieldPos(0)
	last, _ := d.r.FieldPos(len(rec) - 1)
	d.lastEnd = last + strings.Count(rec[len(rec)-1], "\n")
	return rec, row, nil
}

// decode turns the cells of a data row into a code; with dups, it reports
// a code that an earlier row holds.
func (d *CodeDecoder) decode(row int, rec []string, dups bool) (*promokit.Code, *RowError) {
	for i, col := range d.cols {
		if !isText(rec[i]) {
			name := columnName(col)
			return nil, &RowError{Row: row, Field: name, Code: RowInvalidText,
				Message: "the cell holds a NUL byte or bytes that are not UTF-8"}
		}
	}
	c := &promokit.Code{Active: true}
	for i, col := range d.cols {
		v := unquoteCell(strings.TrimSpace(rec[i]))
		var ok bool
		switch col {
		case inCode:
			// The cells of a row share its memory: a code kept must not
			// keep the whole row.
			c.Code, ok = strings.Clone(promokit.NormalizeCode(v)), true
		case inUsageLimit:
			c.UsageLimit, ok = parseLimit(v)
		case inPerCustomerLimit:
			c.PerCustomerLimit, ok = parseLimit(v)
		case inCustomerID:
			c.CustomerID, ok = strings.Clone(v), true
		case inPartnerID:
			c.PartnerID, ok = strings.Clone(v), len(v) <= 200 && printable(v)
		case inActive:
			c.Active, ok = parseBool(v)
		case inExpiresAt:
			c.ExpiresAt, ok = parseTime(v)
		}
		if !ok {
			return nil, cellError(row, col, v)
		}
	}
	if c.Code == "" {
		return nil, &RowError{Row: row, Field: "code", Code: RowRequired, Message: "code is required"}
	}
	if err := c.Validate(); err != nil {
		re := &RowError{Row: row, Code: promokit.ErrorCode(err), Message: promokit.ErrorMessage(err), err: err}
		var pe *promokit.Error
		if errors.As(err, &pe) && len(pe.Fields) > 0 {
			f := pe.Fields[0]
			re.Field, re.Code = f.Field, f.Code
			if n := len(pe.Fields) - 1; n > 0 {
				re.Message = fmt.Sprintf("%s (and %d more)", f.Message, n)
			}
		}
		return nil, re
	}
	if !dups {
		return c, nil
	}
	if first, dup := d.seen[c.Code]; dup {
		return nil, &RowError{Row: row, Field: "code", Code: RowDuplicate,
			Message: fmt.Sprintf("code %s is already on row %d", c.Code, first)}
	}
	d.seen[c.Code] = row
	return c, nil
}

// cellError reports the cell v of column col that could not be read.
func cellError(row int, col column, v string) *RowError {
	e := &RowError{Row: row, Code: RowInvalid}
	switch col {
	case inUsageLimit, inPerCustomerLimit:
		e.Field = "usage_limit"
		if col == inPerCustomerLimit {
			e.Field = "per_customer_limit"
		}
		e.Message = fmt.Sprintf("%s must be a whole number, or empty for no limit, not %s", e.Field, quote(v))
		if _, err := strconv.ParseInt(v, 10, 64); errors.Is(err, strconv.ErrRange) {
			e.Code = RowOutOfRange
		}
	case inPartnerID:
		e.Field, e.Message = "partner_id", "partner_id must have at most 200 printable characters"
	case inActive:
		e.Field, e.Message = "active", fmt.Sprintf("active must be true, false, yes, no, 1 or 0, not %s", quote(v))
	case inExpiresAt:
		e.Field, e.Message = "expires_at", fmt.Sprintf("expires_at must be an RFC 3339 time such as 2025-12-31T23:59:59Z, not %s", quote(v))
	}
	return e
}

// parseLimit reads an optional limit; its range is Code.Validate's to check.
func parseLimit(v string) (*int64, bool) {
	if v == "" {
		return nil, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, false
	}
	return &n, true
}

func parseBool(v string) (bool, bool) {
	switch {
	case v == "", v == "1", strings.EqualFold(v, "true"), strings.EqualFold(v, "yes"):
		return true, true
	case v == "0", strings.EqualFold(v, "false"), strings.EqualFold(v, "no"):
		return false, true
	}
	return false, false
}

func parseTime(v string) (*time.Time, bool) {
	if v == "" {
		return nil, true
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, false
	}
	t = t.UTC().Truncate(time.Microsecond)
	return &t, true
}

func blank(rec []string) bool {
	for _, s := range rec {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// printable is promokit's rule for customer ids, applied to partner ids.
func printable(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}

func quote(s string) string { return strconv.Quote(clip(s)) }

// rowLimiter reads from r, but never past max: the decoder moves max to
// MaxRowBytes + 1 bytes after the end of each row it reads, so that a
// longer row fails with errRowTooLong instead of filling memory.
type rowLimiter struct {
	r   io.Reader
	n   int64 // bytes read from r
	max int64
	hit bool // whether a read stopped at max
}

var errRowTooLong = errors.New("csv: row too long")

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.n >= l.max {
		l.hit = true
		return 0, errRowTooLong
	}
	if rem := l.max - l.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}
