package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

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
// imp.ID and imp.AfterCodeID: the largest code id committed now. Identity
// values only grow, so every code the import inserts later has a larger
// id, whatever other transactions do meanwhile.
func (t *tx) CodeImportCreate(ctx context.Context, imp *storage.CodeImport) error {
	err := t.q.QueryRow(ctx, `INSERT INTO code_imports (promotion_id, store_id, after_code_id, lease_until, created_at)
		VALUES ($1, $2, (SELECT coalesce(max(id), 0) FROM codes), $3, $4) RETURNING id, after_code_id`,
		imp.PromotionID, imp.StoreID, imp.LeaseUntil, imp.CreatedAt).Scan(&imp.ID, &imp.AfterCodeID)
	if err != nil {
		return fmt.Errorf("postgres: create code import: %w", err)
	}
	return nil
}

// insertImportCodesSQL is insertCodesSQL for the codes of an import ($14).
const insertImportCodesSQL = `INSERT INTO codes (` + codeColumns + `, import_id)
	SELECT *, $14::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[], $6::bigint[],
		$7::text[], $8::text[], $9::timestamptz[], $10::text[], $11::bigint[], $12::timestamptz[], $13::timestamptz[])
	ON CONFLICT (code) DO NOTHING`

// CodeImportInsertMany extends the lease of the import id to leaseUntil and
// inserts codes as its codes, skipping values that exist, and returns how
// many it inserted. storage.ErrStale when the import has failed or is gone. The
// import's row stays locked until the transaction ends, so a cleaner
// cannot fail it halfway through a chunk.
func (t *tx) CodeImportInsertMany(ctx context.Context, id int64, leaseUntil time.Time, codes []*promokit.Code) (int64, error) {
	tag, err := t.q.Exec(ctx, `UPDATE code_imports SET lease_until = $2 WHERE id = $1 AND NOT failed`, id, leaseUntil)
	if err != nil {
		return 0, fmt.Errorf("postgres: extend code import: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return 0, abandoned(id)
	}
	if len(codes) == 0 {
		return 0, nil
	}
	tag, err = t.q.Exec(ctx, insertImportCodesSQL, append(codeArrays(codes), id)...)
	if err != nil {
		if constraintViolation(err) == foreignKeyViolation {
			return 0, notFound("promotion", codes[0].PromotionID)
		}
		return 0, fmt.Errorf("postgres: insert %d imported codes: %w", len(codes), err)
	}
	return tag.RowsAffected(), nil
}

// abandoned is the storage.ErrStale error of the import id, which a
// cleaner took for dead.
func abandoned(id int64) error {
	return storage.Stale("code import", strconv.FormatInt(id, 10))
}

// CodeImportTakenMany returns the values among values, in their order and each
// once, held by a code that is not of the import id, whether or not that
// code is visible: the values an insert of the import skipped.
func (t *tx) CodeImportTakenMany(ctx context.Context, id int64, values []string) ([]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	return queryList(ctx, t.q, "taken codes", `
		SELECT x.code FROM unnest($1::text[]) WITH ORDINALITY AS x (code, n)
		WHERE EXISTS (SELECT 1 FROM codes c WHERE c.code = x.code AND c.import_id IS DISTINCT FROM $2)
		GROUP BY x.code ORDER BY min(x.n)`,
		[]any{values, id}, scanString)
}

// CodeImportCommit makes every code of the import id visible at once by
// deleting its row. storage.ErrStale when the import has failed or is gone.
func (t *tx) CodeImportCommit(ctx context.Context, id int64) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM code_imports WHERE id = $1 AND NOT failed`, id)
	if err != nil {
		return fmt.Errorf("postgres: commit code import: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return abandoned(id)
	}
	return nil
}

// CodeImportFail marks the import id failed; with a staleAt that is not
// zero, only if it has failed already or its lease ended at or before
// staleAt. It reports whether the import is failed.
func (t *tx) CodeImportFail(ctx context.Context, id int64, staleAt time.Time) (bool, error) {
	tag, err := t.q.Exec(ctx, `UPDATE code_imports SET failed = true
		WHERE id = $1 AND ($2::timestamptz IS NULL OR failed OR lease_until <= $2)`, id, nullTime(staleAt))
	if err != nil {
		return false, fmt.Errorf("postgres: fail code import: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// nullTime returns t, or nil for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CodeImportListStale returns up to limit imports, oldest first, that have
// failed or whose lease ended at or before now.
func (t *tx) CodeImportListStale(ctx context.Context, now time.Time, limit int) ([]*storage.CodeImport, error) {
	return queryList(ctx, t.q, "stale code imports", `SELECT id, promotion_id, store_id, after_code_id, failed, lease_until, created_at
		FROM code_imports WHERE failed OR lease_until <= $1 ORDER BY id LIMIT $2`, []any{now, limit},
		func(row pgx.Row) (*storage.CodeImport, error) {
			var imp storage.CodeImport
			err := row.Scan(&imp.ID, &imp.PromotionID, &imp.StoreID, &imp.AfterCodeID, &imp.Failed, &imp.LeaseUntil, &imp.CreatedAt)
			imp.LeaseUntil, imp.CreatedAt = imp.LeaseUntil.UTC(), imp.CreatedAt.UTC()
			return &imp, err
		})
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
	err := t.q.QueryRow(ctx, `SELECT promotion_id, after_code_id FROM code_imports WHERE id = $1 AND failed FOR UPDATE`, id).Scan(&promotionID, &after)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: purge code import: %w", err)
	}
	// The codes of the import are the promotion's codes above after_code_id
	// that name it: codes_promotion walks them in order.
	var (
		n    int64
		last *int64
	)
	err = t.q.QueryRow(ctx, `WITH gone AS (
			DELETE FROM codes WHERE id IN (SELECT id FROM codes
				WHERE promotion_id = $1 AND id > $2 AND import_id = $3 ORDER BY id LIMIT $4)
			RETURNING id)
		SELECT count(*), max(id) FROM gone`, promotionID, after, id, limit).Scan(&n, &last)
	if err != nil {
		return 0, fmt.Errorf("postgres: purge code import: %w", err)
	}
	if n < int64(limit) {
		_, err = t.q.Exec(ctx, `DELETE FROM code_imports WHERE id = $1`, id)
	} else {
		_, err = t.q.Exec(ctx, `UPDATE code_imports SET after_code_id = $2 WHERE id = $1`, id, *last)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: purge code import: %w", err)
	}
	return n, nil
}
