package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// reread returns the codes of entries, read again from src, as codes of a
// promotion of a store created at now, with their rows. A row that now
// reads differently means that the file changed after its check: an
// internal error.
func reread(src CodeSource, entries []importEntry, promotionID, storeID string, now time.Time) ([]*promokit.Code, []int, error) {
	codes, rows := make([]*promokit.Code, len(entries)), make([]int, len(entries))
	for i, e := range entries {
		c, err := src.Reread(e.row)
		if err != nil {
			return nil, nil, fmt.Errorf("engine: read the import's row %d again: %w", e.row, err)
		}
		if c.Code != e.code {
			return nil, nil, fmt.Errorf("engine: the import's row %d held %s, now %s", e.row, e.code, c.Code)
		}
		stampCode(c, promotionID, storeID, now)
		codes[i], rows[i] = c, e.row
	}
	return codes, rows, nil
}

// importAtOnce writes the checked entries of src in one transaction that
// locks the promotion's store, and counts them against a P4 quota there.
func (s *Service) importAtOnce(ctx context.Context, pr promokit.Principal, cc *codeContext, src CodeSource, entries []importEntry) error {
	now := s.now()
	codes, rows, err := reread(src, entries, cc.promo.ID, cc.promo.StoreID, now)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx storage.Tx) error {
		// The promotion may have ended since the check.
		cc, err := s.loadForCodes(ctx, tx, pr, cc.promo.ID, now)
		if err != nil {
			return err
		}
		// Counted before they are written, with the store locked, so
		// that a refusal reports the codes that exist.
		if err := s.checkQuota(ctx, tx, cc, now, int64(len(codes))); err != nil {
			return err
		}
		n, err := tx.CodeInsertMany(ctx, codes)
		if err != nil {
			return err
		}
		if n != int64(len(codes)) {
			return takenMeanwhile(ctx, tx, 0, codes, rows)
		}
		return nil
	})
}

// importInChunks writes the checked entries of src in chunks of
// s.importChunk, each chunk its own transaction, as codes of a new
// CodeImport that no read sees; the last transaction commits the import,
// which makes them all visible at once. When anything fails on the way,
// the codes written are deleted before it returns.
//
// No transaction holds the promotion's store locked across chunks: the
// chunks take the writer in turn with every other write, and on SQLite a
// write waits for one chunk at most, never for the whole import. The
// entries are in the order of their values, so two imports that share
// values take their index entries in one order and cannot deadlock on
// PostgreSQL.
func (s *Service) importInChunks(ctx context.Context, pr promokit.Principal, cc *codeContext, src CodeSource, entries []importEntry) error {
	now := s.now()
	imp := &storage.CodeImport{PromotionID: cc.promo.ID, StoreID: cc.promo.StoreID, LeaseUntil: now.Add(importLease), CreatedAt: now}
	err := s.write(ctx, func(tx storage.Tx) error {
		// The promotion may have ended since the check.
		if _, err := s.loadForCodes(ctx, tx, pr, imp.PromotionID, now); err != nil {
			return err
		}
		return tx.CodeImportCreate(ctx, imp)
	})
	if err != nil {
		return err
	}
	if err := s.writeImport(ctx, pr, imp, src, entries); err != nil {
		// The client may be gone: the clean-up goes on regardless.
		if cerr := s.dropImport(context.WithoutCancel(ctx), imp.ID); cerr != nil {
			s.log.Error("delete the codes of a failed import", "import", imp.ID, "err", cerr)
		}
		return err
	}
	return nil
}

// writeImport writes the codes of entries as codes of imp, chunk by chunk,
// and commits imp.
func (s *Service) writeImport(ctx context.Context, pr promokit.Principal, imp *storage.CodeImport, src CodeSource, entries []importEntry) error {
	chunks := 0
	for len(entries) > 0 {
		chunk := entries[:min(int64(len(entries)), s.importChunk)]
		entries = entries[len(chunk):]
		codes, rows, err := reread(src, chunk, imp.PromotionID, imp.StoreID, imp.CreatedAt)
		if err != nil {
			return err
		}
		err = s.write(ctx, func(tx storage.Tx) error {
			n, err := tx.CodeImportInsertMany(ctx, imp.ID, s.now().Add(importLease), codes)
			if err != nil {
				return abandoned(err)
			}
			if n != int64(len(codes)) {
				return takenMeanwhile(ctx, tx, imp.ID, codes, rows)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if chunks++; chunks%checkpointChunks == 0 {
			s.checkpoint(ctx)
		}
	}
	return s.write(ctx, func(tx storage.Tx) error {
		// The promotion may have ended while the chunks were written; its
		// store's row is locked as for any code write.
		if _, err := s.loadForCodes(ctx, tx, pr, imp.PromotionID, s.now()); err != nil {
			return err
		}
		return abandoned(tx.CodeImportCommit(ctx, imp.ID))
	})
}

// abandoned returns, for the error of a write to an import, the EConflict
// the client gets when the import is gone or failed (storage.ErrStale): a
// cleaner took it for dead while it stalled (CleanCodeImports). Any other
// error, such as the promotion not found, is returned as it is.
func abandoned(err error) error {
	if errors.Is(err, storage.ErrStale) {
		return promokit.Errorf(promokit.EConflict, "the import stalled for too long and was abandoned; nothing was written: send the file again")
	}
	return err
}

// checkpointChunks is how many chunks an import writes between two
// checkpoints: 10,000 codes leave fewer pages in the log than fill it,
// even when each code lands on a page of its own.
const checkpointChunks = 4

// checkpoint checkpoints the store if it is a Checkpointer. A failure
// only leaves the checkpoint to the store itself.
func (s *Service) checkpoint(ctx context.Context) {
	if cp, ok := s.db.(storage.Checkpointer); ok {
		if err := cp.Checkpoint(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("checkpoint between the chunks of an import", "err", err)
		}
	}
}

// purgeChunk is how many codes of a failed import one transaction deletes.
const purgeChunk = DefaultImportChunk

// dropImport fails the import id and deletes its codes, chunk by chunk.
func (s *Service) dropImport(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx storage.Tx) error {
		_, err := tx.CodeImportFail(ctx, id, time.Time{})
		return err
	})
	if err != nil {
		return err
	}
	_, err = s.purgeImport(ctx, id)
	return err
}

// purgeImport deletes the codes of the failed import id, chunk by chunk,
// then the import, and returns how many codes it deleted.
func (s *Service) purgeImport(ctx context.Context, id int64) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.write(ctx, func(tx storage.Tx) error {
			var err error
			n, err = tx.CodeImportPurge(ctx, id, purgeChunk)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}

// CleanCodeImports finishes the imports that failed without deleting
// their codes, and those whose lease has run out because their process
// died or stalled: it marks them failed and deletes their codes, chunk by
// chunk, each chunk its own transaction, so that their values are free
// again. It returns how many codes it deleted. RunJobs calls it on every
// poll; when there is nothing to clean it costs one read.
func (s *Service) CleanCodeImports(ctx context.Context) (int64, error) {
	var stale []*storage.CodeImport
	err := s.read(ctx, func(tx storage.Tx) error {
		var err error
		stale, err = tx.CodeImportListStale(ctx, s.now(), 100)
		return err
	})
	if err != nil {
		return 0, err
	}
	var total int64
	for _, imp := range stale {
		failed := imp.Failed
		if !failed {
			// Unless it wrote a chunk since it was read.
			err := s.write(ctx, func(tx storage.Tx) error {
				var err error
				failed, err = tx.CodeImportFail(ctx, imp.ID, s.now())
				return err
			})
			if err != nil {
				return total, err
			}
			if failed {
				s.log.Warn("a code import was abandoned: deleting its codes", "import", imp.ID, "promotion", imp.PromotionID)
			}
		}
		if !failed {
			continue
		}
		n, err := s.purgeImport(ctx, imp.ID)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// takenMeanwhile returns the error of an import whose insert skipped some
// of codes: values that another request created (or is importing) since
// the import checked them. importID is the import's, or 0.
func takenMeanwhile(ctx context.Context, tx storage.Tx, importID int64, codes []*promokit.Code, rows []int) error {
	values := make([]string, len(codes))
	for i, c := range codes {
		values[i] = c.Code
	}
	taken, err := tx.CodeImportTakenMany(ctx, importID, values)
	if err != nil {
		return err
	}
	set := make(map[string]bool, len(taken))
	for _, v := range taken {
		set[v] = true
	}
	var errs rowErrors
	for i, c := range codes {
		if set[c.Code] {
			errs.add(rows[i], promokit.ECodeTaken, fmt.Sprintf("code %s was taken by another request while the import ran", c.Code))
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	return promokit.Errorf(promokit.ECodeTaken, "a code of the file was taken by another request while the import ran; nothing was written")
}
