package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// CodeSource yields the rows of a code import: the row number, the code, or
// an error for that row. It returns io.EOF after the last row. An error
// that unwraps to a RowFailure is collected; any other error aborts the
// import. The import finds the codes that are on several rows itself.
type CodeSource interface {
	Next() (row int, c *promokit.Code, err error)
	// Reread returns again, new, the code of a row that Next returned
	// with a code. An import reads every row with Next to check them
	// before it writes anything, keeping only their values, then rereads
	// the rows in the order of their values to write them.
	Reread(row int) (*promokit.Code, error)
}

// RowFailure is a row-level import error: the source reports them by
// returning an error that unwraps to one, so the import can list them all.
type RowFailure interface {
	error
	RowNumber() int
}

// rowCoder is a RowFailure that also names a stable code for the row's
// problem (such as duplicate_in_file); others are reported as invalid.
type rowCoder interface {
	RowCode() string
}

// MaxImportErrors is how many row errors an import reports before it stops.
const MaxImportErrors = 100

// MaxImportRows is the most rows one import takes.
const MaxImportRows = 1_000_000

// DefaultImportChunk is how many codes one write transaction of an import
// inserts by default (Config.ImportChunk). On SQLite every other writer of
// the marketplace waits for such a transaction, so it is kept short: half
// the chunk of the first measurement held the writer about half as long,
// and a million codes took about as long either way (BENCHMARKS.md,
// 2026-12-07).
const DefaultImportChunk = 2_500

// importCheckBatch is how many rows the check of an import looks up at a
// time (values taken, partners).
const importCheckBatch = 1_000

// importLease is how long an import may go without writing a chunk before
// a cleaner takes its process for dead (CleanCodeImports).
const importLease = 2 * time.Minute

// ImportCodes adds the codes of src to a promotion, all or nothing: the
// admin to any promotion, a seller to its store's (another store's is not
// found). If any row is invalid, its value on an earlier row or taken in
// the marketplace, or its partner unknown, nothing is written and the
// EInvalid error lists up to MaxImportErrors rows with their numbers; a
// store under P4 gets EPolicy when the codes would pass its quota.
//
// Every row is checked before anything is written, outside any write
// transaction; only the rows' values are kept meanwhile. The codes are then
// read again and written in the order of their values, so that each
// transaction's changes to the index of values lie together. An import of
// at most Config.ImportChunk codes, or of a P4 store, is written in one
// transaction. A larger one is written in chunks of Config.ImportChunk
// codes, each its own transaction, so that other writers take turns with
// it; no read sees any of its codes until the last transaction makes them
// all visible at once. A value created by another request while the
// import is written fails the import (EInvalid, the row's code
// code_taken), and an import that fails halfway has its codes deleted
// before it returns (or, should its process die, by CleanCodeImports once
// its lease has run out).
func (s *Service) ImportCodes(ctx context.Context, promotionID string, src CodeSource) (int64, error) {
	pr, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return 0, err
	}
	var cc *codeContext
	err = s.read(ctx, func(tx storage.Tx) error {
		cc, err = s.readForCodes(ctx, tx, pr, promotionID, s.now(), false)
		return err
	})
	if err != nil {
		return 0, err
	}
	entries, err := s.checkImport(ctx, cc, src)
	if err != nil {
		return 0, err
	}
	n := int64(len(entries))
	if n <= s.importChunk || cc.store.PartnerPromoCodes {
		// P4 allows a handful of codes: they are written in the
		// transaction that counts them against the quota.
		err = s.importAtOnce(ctx, pr, cc, src, entries)
	} else {
		err = s.importInChunks(ctx, pr, cc, src, entries)
	}
	if err != nil {
		return 0, err
	}
	if n >= analyzeAfter {
		s.analyzeCodes(ctx)
	}
	return n, nil
}

// analyzeAfter is how many imported codes make the import refresh the
// planner's statistics, as a generation job always does.
const analyzeAfter = 10_000

// rowDuplicate is the code of the row error of a value that an earlier row
// of the import holds.
const rowDuplicate = "duplicate_in_file"

// rowErrors collects the row errors of an import, up to MaxImportErrors.
type rowErrors []promokit.FieldError

func (e *rowErrors) add(row int, code, msg string) {
	if len(*e) < MaxImportErrors {
		*e = append(*e, promokit.FieldError{Field: fmt.Sprintf("row %d", row), Code: code, Message: msg})
	}
}

func (e rowErrors) full() bool { return len(e) >= MaxImportErrors }

// err returns the EInvalid error of the rows, in file order, or nil.
func (e rowErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	slices.SortStableFunc(e, func(a, b promokit.FieldError) int { return rowOf(a) - rowOf(b) })
	return &promokit.Error{Code: promokit.EInvalid, Message: fmt.Sprintf("the import has %d invalid row(s) (first: %s: %s); nothing was written",
		len(e), e[0].Field, e[0].Message), Fields: e}
}

func rowOf(f promokit.FieldError) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(f.Field, "row "))
	return n
}

// importEntry is a row of an import between its check and its write.
type importEntry struct {
	code string
	row  int
}

// checkImport reads every row of src and checks it as the import will
// write it, against the database as it is now, without writing: the rows
// the source rejects, the codes' own rules, their partners, values on
// several rows, values taken in the marketplace, and under P4 the quota.
// It returns the rows to write, in the order of their values, or the
// error listing the bad rows. It keeps each row's value and number, some
// 50 bytes a row.
func (s *Service) checkImport(ctx context.Context, cc *codeContext, src CodeSource) ([]importEntry, error) {
	var (
		errs     rowErrors
		entries  []importEntry
		partners = make(map[string]bool) // partner id -> exists
	)
	now := s.now()
	for count := 0; !errs.full(); count++ {
		row, c, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var rf RowFailure
		if errors.As(err, &rf) {
			code := promokit.EInvalid
			if rc, ok := rf.(rowCoder); ok && rc.RowCode() != "" {
				code = rc.RowCode()
			}
			errs.add(rf.RowNumber(), code, rf.Error())
			continue
		}
		if err != nil {
			return nil, err
		}
		if count >= MaxImportRows {
			errs.add(row, "too_many_rows", fmt.Sprintf("an import takes at most %d rows", MaxImportRows))
			break
		}
		stampCode(c, cc.promo.ID, cc.promo.StoreID, now)
		if err := checkCode(cc, c); err != nil {
			if promokit.ErrorCode(err) == promokit.EInternal {
				return nil, err
			}
			errs.add(row, promokit.ErrorCode(err), promokit.ErrorMessage(err))
			continue
		}
		if c.PartnerID != "" {
			known, err := s.partnerExists(ctx, partners, c.PartnerID)
			if err != nil {
				return nil, err
			}
			if !known {
				err := fieldNotFound(notFound("partner", c.PartnerID), "partner_id", "partner", c.PartnerID)
				errs.add(row, promokit.ErrorCode(err), promokit.ErrorMessage(err))
				continue
			}
		}
		entries = append(entries, importEntry{code: c.Code, row: row})
	}
	entries = distinct(entries, &errs)
	entries, err := s.untaken(ctx, entries, &errs)
	if err != nil {
		return nil, err
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		var v promokit.Validation
		v.Add("body", "empty", "the file has no codes")
		return nil, v.Err()
	}
	if cc.store.PartnerPromoCodes {
		err := s.read(ctx, func(tx storage.Tx) error { return s.checkQuota(ctx, tx, cc, now, int64(len(entries))) })
		if err != nil {
			return nil, err
		}
	}
	return entries, nil
}

// distinct sorts entries by value, then row, and returns those of the
// first row of each value, adding an error to errs for each other row.
func distinct(entries []importEntry, errs *rowErrors) []importEntry {
	slices.SortFunc(entries, func(a, b importEntry) int {
		if c := strings.Compare(a.code, b.code); c != 0 {
			return c
		}
		return a.row - b.row
	})
	kept := entries[:0]
	for _, e := range entries {
		if n := len(kept); n > 0 && kept[n-1].code == e.code {
			errs.add(e.row, rowDuplicate, fmt.Sprintf("code: code %s is already on row %d", e.code, kept[n-1].row))
			continue
		}
		kept = append(kept, e)
	}
	return kept
}

// partnerExists reports whether a partner exists, through known, a cache
// of the answers so far.
func (s *Service) partnerExists(ctx context.Context, known map[string]bool, id string) (bool, error) {
	if ok, seen := known[id]; seen {
		return ok, nil
	}
	err := s.read(ctx, func(tx storage.Tx) error {
		_, err := tx.PartnerGet(ctx, id)
		return err
	})
	if err != nil && !isNotFound(err) {
		return false, err
	}
	if len(known) >= 10_000 {
		clear(known)
	}
	known[id] = err == nil
	return err == nil, nil
}

// untaken returns the entries, sorted by value, whose value no code holds
// in the marketplace, and adds an error to errs for each of the others.
func (s *Service) untaken(ctx context.Context, entries []importEntry, errs *rowErrors) ([]importEntry, error) {
	kept := entries[:0]
	for len(entries) > 0 {
		batch := entries[:min(len(entries), importCheckBatch)]
		entries = entries[len(batch):]
		values := make([]string, len(batch))
		for i, e := range batch {
			values[i] = e.code
		}
		var taken []string
		err := s.read(ctx, func(tx storage.Tx) error {
			var err error
			taken, err = tx.CodeExistingMany(ctx, values)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, e := range batch {
			// taken is in the order of values, the order of the batch.
			if len(taken) > 0 && taken[0] == e.code {
				taken = taken[1:]
				errs.add(e.row, promokit.ECodeTaken, fmt.Sprintf("code %s already exists", e.code))
				continue
			}
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// stampCode makes c a new code of a promotion of a store, created at now.
func stampCode(c *promokit.Code, promotionID, storeID string, now time.Time) {
	c.PromotionID, c.StoreID, c.CreatedAt, c.UpdatedAt = promotionID, storeID, now, now
}
