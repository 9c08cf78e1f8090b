package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// CodeImportTx is the part of Tx that writes large code imports in chunks
// and cleans up after those that fail. No read of codes (look-ups, cart
// reads, lists, exports, counts, CodeExistingMany) sees the codes of an
// import that has not committed.
type CodeImportTx interface {
	// CodeImportCreate records an import about to write its codes and
	// sets imp.ID and imp.AfterCodeID.
	CodeImportCreate(ctx context.Context, imp *CodeImport) error
	// CodeImportInsertMany extends the lease of the import id to leaseUntil
	// and inserts codes as its codes, skipping values that exist (visible
	// or not), and returns how many it inserted. ErrStale when the import
	// has failed or is gone (the engine tells the client to send the
	// file again).
	CodeImportInsertMany(ctx context.Context, id int64, leaseUntil time.Time, codes []*promokit.Code) (int64, error)
	// CodeImportTakenMany returns the values among values, in their order and each
	// once, that a code not of the import id holds, visible or not.
	CodeImportTakenMany(ctx context.Context, id int64, values []string) ([]string, error)
	// CodeImportCommit makes every code of the import id visible at once.
	// ErrStale when the import has failed or is gone.
	CodeImportCommit(ctx context.Context, id int64) error
	// CodeImportFail marks the import id failed; with a staleAt that is
	// not zero, only if it has failed already or its lease ended at or
	// before staleAt. It reports whether the import is failed.
	CodeImportFail(ctx context.Context, id int64, staleAt time.Time) (bool, error)
	// CodeImportListStale returns up to limit imports, oldest first, that
	// have failed or whose lease ended at or before now.
	CodeImportListStale(ctx context.Context, now time.Time, limit int) ([]*CodeImport, error)
	// CodeImportPurge deletes up to limit codes of the failed import id
	// and returns how many; when fewer than limit were left it also
	// deletes the import. It does nothing to an import that has not
	// failed.
	CodeImportPurge(ctx context.Context, id int64, limit int) (int64, error)
}

// CodeImport is an import that writes its codes in chunks (see
// ImportCodes): until it commits, its codes are in the database but no
// read sees them.
type CodeImport struct {
	ID          int64
	PromotionID string
	StoreID     string
	// AfterCodeID is below the internal id of every code of the import;
	// the cleaner of a failed import moves it up as it deletes.
	AfterCodeID int64
	// Failed is set once the import has failed or been abandoned: its
	// codes are being deleted.
	Failed bool
	// LeaseUntil is when a cleaner may take the import for abandoned,
	// unless it writes another chunk before.
	LeaseUntil time.Time
	CreatedAt  time.Time
}
