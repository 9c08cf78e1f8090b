// Package storage is the seam between promokit's engine and its databases:
// the interfaces a database implements (DB, and Tx, one transaction's view
// of it, made of one interface per noun), the parameters and results they
// exchange, and the optional abilities a database may declare to do in
// fewer round trips what the engine would otherwise compose from plain
// methods. The sqlite and postgres packages implement it; storagetest holds
// the suite both must pass. It imports the domain package only: a database
// knows nothing of the engine's service, its batching or its metrics.
//
// Method names put the noun first (CodeGet, CodeGetMany), so that a
// database's methods for one noun sort together, and a batch variant ends
// in Many. Every method that returns an object returns an error that is
// ErrNotFound when there is none, never (nil, nil).
//
// A database reports what happened to the data with the sentinel errors of
// error.go (ErrNotFound, ErrExists, ErrTaken, ErrStale) wrapped in an
// *Error naming the object, and any other failure as a plain wrapped
// error. It returns no *promokit.Error: what a report means to the API's
// caller is the engine's to decide.
//
// Optional abilities: a Tx may implement CheckoutReader, CartReader,
// UsageTaker, PlaceReader and OrderPlacer. The engine calls the functions
// of the same names in this package, which use the ability when the Tx has
// it and otherwise the plain methods, one after another (the InTurn
// functions). Both must give the same results; storagetest checks it.
package storage

import (
	"context"

	"github.com/promokit/promokit"
)

// DB is a database the engine runs on. The sqlite and postgres packages
// implement it; storagetest holds the suite both must pass. Every method that
// returns an object returns an ErrNotFound error when there is none, never
// (nil, nil).
type DB interface {
	// Read runs fn outside any transaction; fn must not write, and a write
	// fails. Each statement sees the data committed when it starts, so two
	// statements of fn may see two states, and so may the statements of
	// one round trip: a read whose parts must agree is one statement. In
	// exchange a look-up costs one statement, with no BEGIN and COMMIT,
	// and on SQLite reads use their own pool and never wait for the
	// writer. Write transactions run at READ COMMITTED on PostgreSQL, so
	// they too see each statement's own state, but hold the rows they lock.
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in one write transaction, committed when fn returns nil
	// and rolled back otherwise. On SQLite write transactions are
	// serialised (BEGIN IMMEDIATE on the single writer connection); on
	// PostgreSQL they run at READ COMMITTED and serialise where they must
	// through row locks (GetStore with lock) and conditional updates.
	Write(ctx context.Context, fn func(Tx) error) error
	// CodeExport streams the codes that scope can see and f selects, in
	// creation order, to fn without holding them in memory. It stops at
	// the first error fn returns and returns it.
	CodeExport(ctx context.Context, scope promokit.Scope, f CodeFilter, fn func(*promokit.Code) error) error
	// UsageCheck recomputes every usage counter from the redemption
	// rows (held and redeemed ones count) and returns the counters that
	// differ: promotions' uses and discount_spent, codes' uses, and
	// customers' uses of the promotions and codes that have a per-customer
	// limit (no other customer counter is kept). It recomputes the
	// ledger's stored sums from its entries too (the daily roll-ups, the
	// payable balance of each pair as the roll-ups give it, each payout's
	// amount) and reports each entry that names a payout that does not
	// exist or is not between its parties in its currency: every
	// promokit.Counters kind.
	UsageCheck(ctx context.Context) ([]CounterDiff, error)
	// Migrate applies the embedded migrations that have not been applied.
	// It is safe when several processes call it at once.
	Migrate(ctx context.Context) error
	// MigrationVersions lists the versions of the embedded migrations.
	MigrationVersions() []int64
	// CodeAnalyze refreshes the query planner's statistics of the codes
	// after a bulk insert (a generation job, an import), so that the
	// plans of the next queries see the table as it now is. PostgreSQL
	// would do it later by itself; SQLite keeps no such statistics
	// unless asked and needs none here: it does nothing.
	CodeAnalyze(ctx context.Context) error
	// LedgerVacuum does what the database's own upkeep does in time to a
	// ledger after a bulk load: on PostgreSQL, VACUUM (ANALYZE), which marks
	// the new rows' pages all-visible so that statements sum them from the
	// indexes alone; nothing on SQLite. Bulk loads call it (the bench's
	// seeded ledgers); the server never needs to.
	LedgerVacuum(ctx context.Context) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// DataError reports whether err is the database refusing a value a
	// statement carried (a text it cannot hold, a number out of range, a
	// constraint, an index row too large), an error that another
	// statement without that value would not meet; not an error of the
	// database itself (down, a timeout, a deadlock), which any statement
	// would meet. The engine runs a batch that fails with such an error
	// again in halves, to find the member whose value it is (isolate.go).
	DataError(err error) bool
	// Close releases the database.
	Close() error
}

// Checkpointer is the ability of a DB whose commits go to a log that a checkpoint
// moves into the database file (SQLite's write-ahead log): Checkpoint does
// it without holding up the writes. Left to itself, SQLite checkpoints
// inside the commit that fills its log, and every write queued behind
// that commit waits for it.
type Checkpointer interface {
	Checkpoint(ctx context.Context) error
}

// Tx is one transaction's view of the database. Scoped reads take a
// promokit.Scope and add it to the query, so that an object outside the
// scope is not found rather than filtered after the fact.
type Tx interface {
	SettingsTx
	KeyTx
	AccountTx
	PromotionTx
	CodeTx
	CodeImportTx
	JobTx
	UsageTx
	RedemptionTx
	IdempotencyTx
	LookupLimitTx
	AffiliateTx
	LinkTx
	ClickTx
	OrderTx
	LedgerTx
	PayoutTx
	SessionTx
	StatsTx

	// Savepoint runs fn inside a savepoint of the transaction: when fn
	// returns an error, what it wrote is undone and the transaction goes
	// on as before fn, even after a statement failed.
	Savepoint(ctx context.Context, fn func() error) error
}

// Page selects one page of a list ordered by text ids (promokit.Page): a
// driver returns at most Page.Size objects after the id Page.After.
type Page = promokit.Page

// IDPage selects one page of a list ordered by integer ids: at most Size
// objects past the id After (0 for the first page). The engine parses the
// API's text cursor into it (promokit.Page.IDAfter), so that a driver never
// sees a cursor it must refuse.
type IDPage struct {
	After int64
	Limit int
}

// Size returns the number of objects the page holds at most: Limit, or
// promokit.DefaultPageSize when it is not set.
func (p IDPage) Size() int { return Page{Limit: p.Limit}.Size() }
