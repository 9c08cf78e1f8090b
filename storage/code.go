package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// CodeTx reads and writes codes. No read sees the codes of an import that
// has not committed (CodeImportTx).
type CodeTx interface {
	// CodeCreate inserts one code; ErrTaken when the value exists,
	// ErrNotFound when the promotion does not.
	CodeCreate(ctx context.Context, c *promokit.Code) error
	// CodeInsertMany inserts codes, skipping values that exist, and returns
	// how many it inserted. Used by generation, which draws again for the
	// skipped ones.
	CodeInsertMany(ctx context.Context, codes []*promokit.Code) (int64, error)
	// CodeInsertValuesMany inserts values as codes sharing every other
	// field with tmpl (promotion, store, active, job, creation time),
	// skipping values that exist, and returns how many it inserted: the
	// lean path of generation jobs.
	CodeInsertValuesMany(ctx context.Context, tmpl *promokit.Code, values []string) (int64, error)
	CodeGet(ctx context.Context, scope promokit.Scope, code string) (*promokit.Code, error)
	// CodeGetMany returns the codes among values that scope can see, in any
	// order, leaving out the missing and the foreign: one query for a
	// batch of look-ups.
	CodeGetMany(ctx context.Context, scope promokit.Scope, values []string) ([]*promokit.Code, error)
	// CodeUpdate writes a code's active flag, assignment (partner and
	// customer) and updated_at.
	CodeUpdate(ctx context.Context, c *promokit.Code) error
	CodeList(ctx context.Context, scope promokit.Scope, f CodeFilter) ([]*promokit.Code, error)
	CodeCount(ctx context.Context, c CodeCount) (int64, error)
	// CodeTally counts the codes that c selects, as CodeCount does, and
	// returns with the count the creation time of the oldest of them: a
	// P4 store's quota, and when the rolling window next frees a code.
	CodeTally(ctx context.Context, c CodeCount) (CodeTally, error)
	// CodeListByStore returns one page of the codes of the store f.StoreID,
	// newest first; f.After is the last code value of the previous page.
	// Like CodeCount it reads through the store's promotions (codes has no
	// index by store), so it serves the P4 stores, whose quota keeps
	// their codes few, not stores with millions of generated codes.
	CodeListByStore(ctx context.Context, f StoreCodeFilter) ([]*promokit.Code, error)
	// CodeExistingMany returns the values among codes that exist. Like every
	// read of codes, it leaves out the codes of an import that has not
	// committed (CodeImportTx).
	CodeExistingMany(ctx context.Context, codes []string) ([]string, error)
	// CodeListForCustomer returns up to q.Limit codes of the store
	// q.StoreID restricted to q.CustomerID (C3) that are active and
	// unexpired at q.Now and whose promotion is live then, in creation
	// order. A partial index holds
	// only codes with a customer, so code generation never writes to it.
	CodeListForCustomer(ctx context.Context, q CustomerCodesQuery) ([]*promokit.Code, error)
}

// CodeFilter selects codes. Codes are ordered by their creation, and After
// is a code value returned by the previous page.
type CodeFilter struct {
	PromotionID string
	PartnerID   string
	Page
}

// CodeCount selects codes to count: those of a store or of a promotion,
// created at or after Since when it is set. Counting a store's codes walks
// each of its promotions' codes: it serves the P4 quota, whose stores have
// few codes, not large stores. The codes of an import that has not
// committed count only with Pending: they hold their values, which is
// what a count of the code space needs, and a count without Since then
// reads an index alone.
type CodeCount struct {
	StoreID     string
	PromotionID string
	Since       time.Time
	Pending     bool
}

// CodeTally is what CodeTally counts: how many codes, and when the oldest
// of them was created (zero when there are none).
type CodeTally struct {
	Count  int64
	Oldest time.Time
}

// StoreCodeFilter selects a page of a store's codes, newest first
// (CodeListByStore): Page.After is a code value.
type StoreCodeFilter struct {
	StoreID string
	Page
}

// CustomerCodesQuery selects up to Limit codes of the store StoreID that
// are restricted to CustomerID and live at Now (CodeListForCustomer).
type CustomerCodesQuery struct {
	StoreID    string
	CustomerID string
	Now        time.Time
	Limit      int
}
