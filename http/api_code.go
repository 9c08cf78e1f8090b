package http

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/csv"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// handleCodeCreate adds a custom code to a promotion: the admin's to any,
// a seller's to its store's. A value taken anywhere in the marketplace is
// 409 code_taken; under P4 a breach of the policy is 422 with the rule.
func (s *Server) handleCodeCreate(w http.ResponseWriter, r *http.Request) {
	var in engine.CodeInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.svc.CreateCode(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/codes/"+c.Code)
	writeJSON(w, r, http.StatusCreated, c)
}

// handleCodeList lists the codes of a promotion that the caller sees; a
// promotion it does not see is not found.
func (s *Server) handleCodeList(w http.ResponseWriter, r *http.Request) {
	s.listCodes(w, r, storage.CodeFilter{PromotionID: r.PathValue("id")})
}

// listCodes answers one page of the codes f selects.
func (s *Server) listCodes(w http.ResponseWriter, r *http.Request, f storage.CodeFilter) {
	var v promokit.Validation
	f.Page = pageParams(r.URL.Query(), &v)
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.svc.ListCodes(r.Context(), f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newList(list, f.Limit, func(c *promokit.Code) string { return c.Code }))
}

// handleCodeGet answers a code by its value, in any case. A code that does
// not exist and a code the caller may not see get the same 404, and both
// count as failed look-ups against the key and the client address: past
// Config.LookupFailures of them in a minute, every look-up of either is
// 429 until the minute ends (the miss that would go past it included), so
// that codes cannot be guessed by trying them (ratelimit.go).
func (s *Server) handleCodeGet(w http.ResponseWriter, r *http.Request) {
	subj := s.lookupSubjects(r, promokit.Identity{}, "")
	if !s.allowLookups(w, r, subj) {
		return
	}
	c, err := s.svc.GetCode(r.Context(), r.PathValue("code"))
	if promokit.ErrorCode(err) == promokit.ENotFound {
		if !s.failLookups(w, r, subj, 1) {
			return
		}
		// One message for every miss, whatever the cause.
		writeError(w, r, promokit.Errorf(promokit.ENotFound, "code not found"))
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, c)
}

// handleCodeUpdate activates, deactivates or assigns a code.
func (s *Server) handleCodeUpdate(w http.ResponseWriter, r *http.Request) {
	var in engine.CodeInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.svc.UpdateCode(r.Context(), r.PathValue("code"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, c)
}

// handleCodeImport adds the codes of a CSV file (Content-Type text/csv) to
// a promotion, all or nothing: when any row is bad, nothing is written and
// the 422 lists the bad rows by number (field "row N"). The file is first
// copied to a temporary file, at most Config.ImportLimit bytes, so that the
// import's transactions never wait for the network, and so that the engine
// can read its rows again, in the order it writes them.
func (s *Server) handleCodeImport(w http.ResponseWriter, r *http.Request) {
	if err := checkMediaType(r, "text/csv"); err != nil {
		writeError(w, r, err)
		return
	}
	f, ok := r.Body.(*spooledBody) // spooled by the idempotency middleware
	if !ok {
		var err error
		if f, err = spool(w, r, s.importLimit, nil); err != nil {
			writeError(w, r, err)
			return
		}
		defer f.Close()
	}
	dec, err := csv.NewCodeDecoder(f)
	if err != nil {
		writeError(w, r, rowError(err))
		return
	}
	dec.MaxRows = engine.MaxImportRows
	// The engine finds the codes on several rows as it sorts them: the
	// decoder need not keep them all.
	dec.AllowDuplicates = true
	id := r.PathValue("id")
	n, err := s.svc.ImportCodes(r.Context(), id, codeSource{dec})
	if err != nil {
		writeError(w, r, sortRows(err))
		return
	}
	w.Header().Set("Location", "/v1/promotions/"+id+"/codes")
	writeJSON(w, r, http.StatusCreated, struct {
		Imported int64 `json:"imported"`
	}{n})
}

// rowError turns a *csv.RowError into an EInvalid error naming the row.
// Any other error is returned as it is.
func rowError(err error) error {
	var re *csv.RowError
	if !errors.As(err, &re) {
		return err
	}
	f := rowFailure{re}
	return &promokit.Error{Code: promokit.EInvalid, Message: "the file is not valid: " + f.Error(),
		Fields: []promokit.FieldError{{Field: f.field(), Code: re.Code, Message: f.Error()}}}
}

// sortRows orders the field errors of an import by row: the engine lists
// the rows whose values are taken after the others, as it finds them in
// batches.
func sortRows(err error) error {
	var e *promokit.Error
	if !errors.As(err, &e) || len(e.Fields) < 2 {
		return err
	}
	row := func(f promokit.FieldError) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(f.Field, "row "))
		return n
	}
	slices.SortStableFunc(e.Fields, func(a, b promokit.FieldError) int { return row(a) - row(b) })
	return err
}

// codeSource adapts a csv.CodeDecoder over a spooled file, which it can
// read again, to engine.CodeSource.
type codeSource struct {
	dec *csv.CodeDecoder
}

// Reread decodes a row again from the file.
func (cs codeSource) Reread(row int) (*promokit.Code, error) { return cs.dec.Reread(row) }

// Next returns the next row; a bad row's error is a rowFailure.
func (cs codeSource) Next() (int, *promokit.Code, error) {
	row, c, err := cs.dec.Next()
	var re *csv.RowError
	if errors.As(err, &re) {
		return row, nil, rowFailure{re}
	}
	return row, c, err
}

// rowFailure is a *csv.RowError as an engine.RowFailure.
type rowFailure struct {
	*csv.RowError
}

// RowNumber returns the row of the error.
func (f rowFailure) RowNumber() int { return f.Row }

// RowCode returns the stable code of the error, such as duplicate_in_file.
func (f rowFailure) RowCode() string { return f.Code }

// Error returns the message, after the column when there is one; the row
// is reported as the error's field.
func (f rowFailure) Error() string {
	if f.Field != "" {
		return f.Field + ": " + f.Message
	}
	return f.Message
}

func (f rowFailure) field() string { return "row " + strconv.Itoa(f.Row) }

// handleCodeExport streams the codes of a promotion as CSV.
func (s *Server) handleCodeExport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.exportCodes(w, r, storage.CodeFilter{PromotionID: id}, "promotion-"+id+"-codes.csv")
}

// exportRowsPerFlush is how many rows an export writes between two flushes
// to the client.
const exportRowsPerFlush = 1000

// exportCodes streams the codes f selects as a CSV attachment (see
// csv.CodeEncoder for the columns), flushing every exportRowsPerFlush rows,
// so that an export of millions of codes holds one row in memory. An error
// before the first byte, such as a promotion the caller does not see, is
// answered as a problem. Once the status 200 is sent an error can no
// longer be reported in the response: it is logged, and the connection is
// cut (http.ErrAbortHandler), so that the client sees a failed transfer
// rather than a file that looks complete.
func (s *Server) exportCodes(w http.ResponseWriter, r *http.Request, f storage.CodeFilter, filename string) {
	s.streamCodes(w, r, filename, func(fn func(*promokit.Code, *promokit.Promotion) error) error {
		return s.svc.ExportCodes(r.Context(), f, fn)
	})
}

// rowFlusher sends a streamed export to the client every
// exportRowsPerFlush rows, and counts them. Each flush gives the answer
// the write timeout again, so that a long export is cut only when its
// client stops reading.
type rowFlusher struct {
	n      int
	flush  func() error // the encoder's
	rc     *http.ResponseController
	extend func(*http.ResponseController)
}

func (s *Server) newRowFlusher(w http.ResponseWriter, flush func() error) *rowFlusher {
	return &rowFlusher{flush: flush, rc: http.NewResponseController(w), extend: s.extendWrite}
}

// wrote counts a row written to the encoder and flushes when it is time.
func (f *rowFlusher) wrote() error {
	if f.n++; f.n%exportRowsPerFlush == 0 {
		f.extend(f.rc)
		if err := f.flush(); err != nil {
			return err
		}
		_ = f.rc.Flush()
	}
	return nil
}

// endExport ends a streamed export that met err (nil: every row was
// encoded): it flushes the encoder's last rows. An error before the first
// byte is answered as a problem; after it, it is logged and the connection
// cut (http.ErrAbortHandler).
func (s *Server) endExport(w http.ResponseWriter, r *http.Request, out *csvResponse, rows *rowFlusher, err error) {
	if err == nil {
		err = rows.flush()
	}
	if err == nil {
		return
	}
	if !out.started {
		writeError(w, r, err)
		return
	}
	if info := infoFrom(r.Context()); info != nil {
		info.err = err
	}
	s.log.ErrorContext(r.Context(), "export cut short", "request_id", infoFrom(r.Context()).requestID(), "rows", rows.n, "err", err)
	panic(http.ErrAbortHandler)
}

// csvResponse sends the headers of a CSV attachment before its first byte.
type csvResponse struct {
	w        http.ResponseWriter
	filename string
	started  bool
}

func (c *csvResponse) Write(b []byte) (int, error) {
	if !c.started {
		c.started = true
		h := c.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+c.filename+`"`)
		h.Set("Cache-Control", "no-store")
		c.w.WriteHeader(http.StatusOK)
	}
	return c.w.Write(b)
}

// safeFilename replaces the characters of name that could break out of a
// Content-Disposition filename with '_'.
func safeFilename(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name)
}
