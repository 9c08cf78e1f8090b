package csv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/promokit/promokit"
)

// Reread decodes again the data row row, which Next returned with a code,
// and returns that code as Next did, new. It reads the row from the file,
// so it needs the reader given to NewCodeDecoder to be an io.ReaderAt and
// the file not to have changed; it may be called in any order, also after
// Next returned io.EOF. A row Next did not return a code for is an error.
func (d *CodeDecoder) Reread(row int) (*promokit.Code, error) {
	if d.at == nil {
		return nil, errors.New("csv: the file cannot be read again: its reader is not an io.ReaderAt")
	}
	i, ok := slices.BinarySearchFunc(d.spans, row, func(s rowSpan, row int) int { return int(s.row) - row })
	if !ok {
		return nil, fmt.Errorf("csv: row %d was not returned with a code", row)
	}
	sp := d.spans[i]
	if cap(d.buf) < int(sp.n) {
		d.buf = make([]byte, sp.n)
	}
	b := d.buf[:sp.n]
	if _, err := d.at.ReadAt(b, sp.off); err != nil {
		return nil, fmt.Errorf("csv: read row %d again: %w", row, err)
	}
	rec, err := d.splitRecord(b)
	if err != nil || len(rec) != len(d.cols) {
		return nil, fmt.Errorf("csv: row %d reads differently: %v", row, err)
	}
	c, rerr := d.decode(row, rec, false)
	if rerr != nil {
		return nil, fmt.Errorf("csv: row %d reads differently: %w", row, rerr)
	}
	return c, nil
}

// splitRecord returns the cells of the one record b holds, with the blank
// lines before it and the line break after it that its span may include.
// A record without quotes, nearly every one, is split without copying; any
// other goes through encoding/csv, as Next read it.
func (d *CodeDecoder) splitRecord(b []byte) ([]string, error) {
	line := b
	for len(line) > 0 && (line[0] == '\n' || line[0] == '\r' && len(line) > 1 && line[1] == '\n') {
		line = line[bytes.IndexByte(line, '\n')+1:]
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if bytes.IndexAny(line, "\"\r\n") < 0 {
		s := string(line)
		d.rec = d.rec[:0]
		for {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				return append(d.rec, s), nil
			}
			d.rec, s = append(d.rec, s[:i]), s[i+1:]
		}
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	return r.Read()
}

// isText reports whether a cell is UTF-8 without NUL bytes.
func isText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// columnName returns the name of col in a header.
func columnName(col column) string {
	for name, c := range columnNames {
		if c == col {
			return name
		}
	}
	return "?"
}
