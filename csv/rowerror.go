package csv

import "strconv"

// Codes of a RowError. Each is stable, like the codes of promokit.Error.
// Besides these, a row error may carry a code of a field error of
// promokit.Code.Validate, such as "invalid" or "out_of_range".
const (
	// RowMalformed: the row breaks CSV syntax, such as a stray quote. The
	// decoder goes on at the next line.
	RowMalformed = "malformed"
	// RowTooLong: the row has more than MaxRowBytes bytes. It ends the
	// file: the next call to Next returns io.EOF.
	RowTooLong = "too_long"
	// RowTooMany: the file has more data rows than CodeDecoder.MaxRows. It
	// ends the file: the next call to Next returns io.EOF.
	RowTooMany = "too_many_rows"
	// RowFieldCount: the row has more or fewer cells than the header.
	RowFieldCount = "field_count"
	// RowDuplicate: the code is on an earlier row of the same file.
	RowDuplicate = "duplicate_in_file"
	// RowRequired: the code cell is empty.
	RowRequired = "required"
	// RowInvalid: a cell cannot be read, such as "ten" for a limit, or
	// breaks a rule of promokit.Code.Validate.
	RowInvalid = "invalid"
	// RowOutOfRange: a number is outside the range its column allows.
	RowOutOfRange = "out_of_range"
	// RowInvalidText: a cell holds a NUL byte or bytes that are not UTF-8.
	// Field names the column (in the header, "column N").
	RowInvalidText = "invalid_text"

	// Header errors, reported on the header's row.
	RowMissingHeader   = "missing_header"   // the file is empty
	RowUnknownColumn   = "unknown_column"   // a column the decoder does not know
	RowDuplicateColumn = "duplicate_column" // a column named twice
	RowMissingColumn   = "missing_column"   // the code column is absent
)

// RowError is a problem with one row of an imported file. Row is the line
// on which the row starts, counting from 1 (see CodeDecoder.Next). Field
// names the column when the problem is in one cell and is empty otherwise;
// Code is one of the Row* codes or a field error code of
// promokit.Code.Validate; Message explains it to people and may quote the
// cell.
type RowError struct {
	Row     int
	Field   string
	Code    string
	Message string

	err error // the cause, such as a *csv.ParseError
}

// Error returns "csv: row 12: usage_limit: <message>", without the field
// when there is none.
func (e *RowError) Error() string {
	s := "csv: row " + strconv.Itoa(e.Row) + ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Message
}

// Unwrap returns the cause of the error, such as the *csv.ParseError of a
// malformed row, or nil.
func (e *RowError) Unwrap() error { return e.err }
