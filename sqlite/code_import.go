package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// liveCode is the condition that the code c is visible: it is not a code
// of an import that has not committed (migration 0011). Every read of
// codes adds it. A code created any other way has no import, and a
// committed import has no row in code_imports, so the look-up of a code
// pays one test of a NULL column, and a committed imported code one probe
// of code_imports' primary key, a table of a few rows.
const liveCode = `(c.import_id IS NULL OR NOT EXISTS (SELECT 1 FROM code_imports i WHERE i.id = c.import_id))`

// CodeImportCreate records an import about to write its codes and sets
// imp.ID and imp.AfterCodeID. The writer is exclusive, so every code
// inserted after this transaction has a larger id than the largest now.
func (t *tx) CodeImportCreate(ctx context.Context, imp *storage.CodeImport) error {
	err := t.q.QueryRowContext(ctx, `INSERT INTO code_imports (promotion_id, store_id, after_code_id, lease_until, created_at)
		VALUES (?, ?, (SELECT coalesce(max(id), 0) FROM codes), ?, ?) RETURNING id, after_code_id`,
		imp.PromotionID, imp.StoreID, micros(imp.LeaseUntil), micros(imp.CreatedAt)).Scan(&imp.ID, &imp.AfterCodeID)
	if err != nil {
		return fmt.Errorf("sqlite: create code import: %w", err)
	}
	return nil
}

// CodeImportInsertMany extends the lease of the import id to leaseUntil and
// inserts codes as its codes, skipping values that exist, and returns how
// many it inserted. storage.ErrStale when the import has failed or is gone.
func (t *tx) CodeImportInsertMany(ctx context.Context, id int64, leaseUntil time.Time, codes []*promokit.Code) (int64, error) {
	res, err := t.q.ExecContext(ctx, `UPDATE code_imports SET lease_until = ? WHERE id = ? AND failed = 0`, micros(leaseUntil), id)
	if err != nil {
		return 0, fmt.Errorf("sqlite: extend code import: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, abandoned(id, err)
	}
	return t.insertCodes(ctx, codes, id)
}

// abandoned is the error of an import that a cleaner took for dead:
// storage.ErrStale, or err wrapped when it is not nil.
func abandoned(id int64, err error) error {
	if err != nil {
		return fmt.Errorf("sqlite: code import %d: %w", id, err)
	}
	return storage.Stale("code import", strconv.FormatInt(id, 10))
}

// CodeImportTakenMany returns the values among values, in their order and each
// once, held by a code that is not of the import id, whether or not that
// code is visible: the values an insert of the import skipped.
func (t *tx) CodeImportTakenMany(ctx context.Context, id int64, values []string) ([]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode codes: %w", err)
	}
	found, err := queryList(ctx, t, "taken codes", `SELECT code FROM codes
		WHERE code IN (SELECT value FROM json_each(?)) AND import_id IS NOT ?`, []any{string(list), id}, scanString)
	if err != nil {
		return nil, err
	}
	return intersect(values, found), nil
}

// CodeImportCommit makes every code of the import id visible at once by
// deleting its row. storage.ErrStale when the import has failed or is gone.
func (t *tx) CodeImportCommit(ctx context.Context, id int64) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM code_imports WHERE id = ? AND failed = 0`, id)
	if err != nil {
		return fmt.Errorf("sqlite: commit code import: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return abandoned(id, err)
	}
	return nil
}

// CodeImportFail marks the import id failed; with a staleAt that is not
// zero, only if it has failed already or its lease ended at or before
// staleAt. It reports whether the import is failed.
func (t *tx) CodeImportFail(ctx context.Context, id int64, staleAt time.Time) (bool, error) {
	q, args := `UPDATE code_imports SET failed = 1 WHERE id = ?`, []any{id}
	if !staleAt.IsZero() {
		q, args = q+` AND (failed = 1 OR lease_until <= ?)`, append(args, micros(staleAt))
	}
	res, err := t.q.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("sqlite: fail code import: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: fail code import: %w", err)
	}
	return n > 0, nil
}

// CodeImportListStale returns up to limit imports, oldest first, that have
// failed or whose lease ended at or before now.
func (t *tx) CodeImportListStale(ctx context.Context, now time.Time, limit int) ([]*storage.CodeImport, error) {
	return queryList(ctx, t, "stale code imports", `SELECT id, promotion_id, store_id, after_code_id, failed, lease_until, created_at
		FROM code_imports WHERE failed = 1 OR lease_until <= ? ORDER BY id LIMIT ?`, []any{micros(now), limit}, scanCodeImport)
}

func scanCodeImport(row scanner) (*storage.CodeImport, error) {
	var (
		imp            storage.CodeImport
		leaseUntil, at int64
	)
	if err := row.Scan(&imp.ID, &imp.PromotionID, &imp.StoreID, &imp.AfterCodeID, &imp.Failed, &leaseUntil, &at); err != nil {
		return nil, err
	}
	imp.LeaseUntil, imp.CreatedAt = fromMicros(leaseUntil), fromMicros(at)
	return &imp, nil
}

// CodeImportPurge deletes up to limit codes of the failed import id, those
// of lowest id first, and moves its after_code_id past them; when fewer
// than limit were left it also deletes the import. It returns how many
// codes it deleted, and does nothing to an import that has not failed.
func (t *tx) CodeImportPurge(ctx context.Context, id int64, limit int) (int64, error) {
	var (
		promotionID string
		after       int64
	)
	err := t.q.QueryRowContext(ctx, `SELECT promotion_id, after_code_id FROM code_imports WHERE id = ? AND failed = 1`, id).Scan(&promotionID, &after)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge code import: %w", err)
	}
	// The codes of the import are the promotion's codes above after_code_id
	// that name it: codes_promotion walks them in order.
	var (
		n    int64
		last sql.NullInt64
	)
	if err := t.q.QueryRowContext(ctx, `SELECT count(*), max(id) FROM (SELECT id FROM codes
		WHERE promotion_id = ? AND id > ? AND import_id = ? ORDER BY id LIMIT ?)`, promotionID, after, id, limit).Scan(&n, &last); err != nil {
		return 0, fmt.Errorf("sqlite: purge code import: %w", err)
	}
	if n > 0 {
		if _, err := t.q.ExecContext(ctx, `DELETE FROM codes WHERE promotion_id = ? AND id > ? AND id <= ? AND import_id = ?`,
			promotionID, after, last.Int64, id); err != nil {
			return 0, fmt.Errorf("sqlite: purge code import: %w", err)
		}
	}
	if n < int64(limit) {
		_, err = t.q.ExecContext(ctx, `DELETE FROM code_imports WHERE id = ?`, id)
	} else {
		_, err = t.q.ExecContext(ctx, `UPDATE code_imports SET after_code_id = ? WHERE id = ?`, last.Int64, id)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge code import: %w", err)
	}
	return n, nil
}

// Checkpoint copies what the write-ahead log holds into the database file,
// on a connection of the read pool and PASSIVE: it waits neither for the
// writer nor for the readers, and leaves in the log what they still need.
// By itself the writer checkpoints inside the commit that brings the log
// to walCheckpointPages pages, and every write queued behind that commit
// waits for it; a code import calls Checkpoint between its chunks, so that
// the log its chunks fill is emptied beside the other writes instead.
func (s *DB) Checkpoint(ctx context.Context) error {
	var busy, log, done int
	if err := s.reader.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
		return fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return nil
}
