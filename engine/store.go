package engine

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// DB is a database the engine runs on. The sqlite and postgres packages
// implement it; storetest holds the suite both must pass. Every method that
// returns an object returns a *promokit.Error with code ENotFound when there
// is none, never (nil, nil).
type DB interface {
	// Read runs fn against a consistent view of the database; fn must not
	// write. On SQLite it uses the read pool, so reads never wait for the
	// writer.
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
	// limit (no other customer counter is kept).
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

// CounterDiff is a usage counter that differs from its rows: Kind is
// "promotion_uses", "promotion_discount", "code_uses" or "customer_uses";
// Subject the promotion id, code, or subject and customer key.
type CounterDiff struct {
	Kind     string `json:"kind"`
	Subject  string `json:"subject"`
	Stored   int64  `json:"stored"`
	FromRows int64  `json:"from_rows"`
}

// Page selects one page of a list ordered by id: the objects after the
// cursor After (an id; empty for the first page), at most Limit of them.
type Page struct {
	After string
	Limit int
}

// PromotionFilter selects promotions. Empty fields select everything. Status
// is evaluated at Now.
type PromotionFilter struct {
	StoreID string
	Channel promokit.Channel
	Status  promokit.Status
	Now     time.Time
	Page
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

// KeyFilter selects keys.
type KeyFilter struct {
	StoreID   string
	PartnerID string
	Page
}

// IdempotencyRecord is what the server keeps of a request sent with an
// Idempotency-Key: a hash of the request, and once it is done, the response.
// Status 0 means the first request is still running.
type IdempotencyRecord struct {
	KeyID       string
	Key         string
	RequestHash []byte
	Status      int
	Headers     []byte // JSON object of the response headers to replay
	Body        []byte
	CreatedAt   time.Time
}

// Tx is one transaction's view of the database. Scoped reads take a
// promokit.Scope and add it to the query, so that an object outside the
// scope is not found rather than filtered after the fact.
type Tx interface {
	// SettingsInit inserts the marketplace settings unless a row exists;
	// it reports whether it inserted. Only one of several processes
	// starting at once sees true.
	SettingsInit(ctx context.Context, s *promokit.Settings) (bool, error)
	SettingsGet(ctx context.Context) (*promokit.Settings, error)
	// SettingsUpdate replaces the settings if their version is still
	// version; it sets s.Version to version+1. EVersionMismatch otherwise.
	SettingsUpdate(ctx context.Context, s *promokit.Settings, version int64) error

	KeyCreate(ctx context.Context, k *promokit.Key) error
	KeyGet(ctx context.Context, id string) (*promokit.Key, error)
	KeyGetByHash(ctx context.Context, hash []byte) (*promokit.Key, error)
	KeyList(ctx context.Context, f KeyFilter) ([]*promokit.Key, error)
	// KeyRevoke sets revoked_at of an unrevoked key; ENotFound if there is
	// no such key or it is already revoked.
	KeyRevoke(ctx context.Context, id string, now time.Time) error

	StoreCreate(ctx context.Context, s *promokit.Store) error
	// StoreGet returns a store; with lock it also locks the store's row
	// until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's
	// writer is already exclusive), which serialises per-store quotas.
	StoreGet(ctx context.Context, id string, lock bool) (*promokit.Store, error)
	StoreList(ctx context.Context, p Page) ([]*promokit.Store, error)
	StoreUpdate(ctx context.Context, s *promokit.Store) error

	PartnerCreate(ctx context.Context, p *promokit.Partner) error
	PartnerGet(ctx context.Context, id string) (*promokit.Partner, error)
	PartnerList(ctx context.Context, p Page) ([]*promokit.Partner, error)

	// ProductPut inserts or replaces a product of a store.
	ProductPut(ctx context.Context, p *promokit.Product) error
	ProductGet(ctx context.Context, storeID, id string) (*promokit.Product, error)
	ProductList(ctx context.Context, storeID string, p Page) ([]*promokit.Product, error)
	// ProductMissing returns the ids among ids that are not products of the store.
	ProductMissing(ctx context.Context, storeID string, ids []string) ([]string, error)

	PromotionCreate(ctx context.Context, p *promokit.Promotion) error
	// PromotionGet returns a promotion visible to scope: of the scope's
	// store, or, for a partner scope, one with a code assigned to it.
	PromotionGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Promotion, error)
	// PromotionUpdate replaces every editable field and the flags of p if
	// its stored version is still version, and sets p.Version to
	// version+1. EVersionMismatch when another write came first.
	PromotionUpdate(ctx context.Context, p *promokit.Promotion, version int64) error
	PromotionList(ctx context.Context, scope promokit.Scope, f PromotionFilter) ([]*promokit.Promotion, error)

	// CodeCreate inserts one code; ECodeTaken when the value exists.
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
	// CodeExistingMany returns the values among codes that exist. Like every
	// read of codes, it leaves out the codes of an import that has not
	// committed (CodeImportTx).
	CodeExistingMany(ctx context.Context, codes []string) ([]string, error)

	JobCreate(ctx context.Context, j *promokit.Job) error
	JobGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Job, error)
	// JobClaim leases one queued or running job whose lease is absent or
	// over at now to owner until until, and returns it; ENotFound when
	// there is none. Two processes never claim the same job at once.
	JobClaim(ctx context.Context, owner string, now, until time.Time) (*promokit.Job, error)
	// JobUpdate writes a job's progress, state, error, finish time and
	// lease, if owner still holds its lease; EConflict otherwise.
	JobUpdate(ctx context.Context, j *promokit.Job, owner string) error
	// JobAddProgress adds n to a job's progress if owner still holds its
	// lease, extends the lease to until, and returns the new progress; a
	// job reaching its total becomes succeeded and its lease is released.
	// EConflict when the lease is lost. Concurrent batches of one job may
	// call it: the increment is atomic.
	JobAddProgress(ctx context.Context, id, owner string, n int64, now, until time.Time) (int64, error)

	// UsagePromotionAdd adds uses and discount to a promotion's counters
	// if, for positive amounts, the results stay within its total_uses and
	// total_discount limits; it reports whether it added. The condition is
	// part of the UPDATE, so concurrent writers can never pass a limit.
	// Negative amounts (a use given back) always apply.
	UsagePromotionAdd(ctx context.Context, id string, uses, discount int64) (bool, error)
	// UsageCodeAdd is UsagePromotionAdd for a code's own usage_limit.
	UsageCodeAdd(ctx context.Context, code string, uses int64) (bool, error)
	// UsageCustomerAdd adds uses to a customer's counter of a subject (a
	// promotion id, or "code:" and a code) if the result stays within
	// limit (nil: no limit), and reports whether it added.
	UsageCustomerAdd(ctx context.Context, subject, customerKey string, uses int64, limit *int64) (bool, error)
	// UsageCustomerGet returns a customer's uses of a subject (0 when none).
	UsageCustomerGet(ctx context.Context, subject, customerKey string) (int64, error)
	// RedemptionCreate inserts a redemption and sets its ID; EConflict
	// when the order already has a redemption of that code, or for a
	// codeless redemption (Code empty: an automatic promotion), one of that
	// promotion without a code.
	RedemptionCreate(ctx context.Context, r *promokit.Redemption) error
	// RedemptionListByOrder returns an order's redemptions, by id.
	RedemptionListByOrder(ctx context.Context, storeID, orderID string) ([]*promokit.Redemption, error)
	// RedemptionSetState moves a redemption from state from to state to,
	// with holdUntil as its new hold (nil: none), and reports whether it
	// did (false: it was not in from).
	RedemptionSetState(ctx context.Context, id int64, from, to string, holdUntil *time.Time, now time.Time) (bool, error)
	// RedemptionListExpiredHolds returns up to limit held redemptions whose hold ended
	// at or before now, oldest first.
	RedemptionListExpiredHolds(ctx context.Context, now time.Time, limit int) ([]*promokit.Redemption, error)

	// Batch reads and writes of the checkout: each does for many objects
	// what the single-object method above does for one, in as few round
	// trips as the database allows.

	// CheckoutRead reads at once what the checkouts of one store need:
	// the settings, the store (nil when there is none), the redemptions of
	// the orders among orderIDs (by id), the codes among codes that the
	// store owns with their promotions, and the store's automatic
	// promotions live at now (as PromotionListAutomatic reads them, at most
	// MaxQualify, by id). PostgreSQL sends every query in one round trip
	// inside a write; outside, it reads all but the codes' promotions in
	// one round trip with cached plans, then the codes' promotions.
	CheckoutRead(ctx context.Context, storeID string, orderIDs, codes []string, now time.Time) (*CheckoutData, error)
	// ReadCarts reads at once what a batch of validated carts needs: what
	// CheckoutRead reads of each store of the carts, for its carts' codes
	// and without orders, the failed look-ups of q.Failures and the
	// customers' counters of the carts (CartsData). SQLite reads it as
	// ReadCartsInTurn does; PostgreSQL in two round trips, whatever the
	// number of stores.
	ReadCarts(ctx context.Context, q *CartsQuery) (*CartsData, error)
	// PromotionGetMany returns the promotions among ids that scope can see,
	// in any order, leaving out the missing and the foreign.
	PromotionGetMany(ctx context.Context, scope promokit.Scope, ids []string) ([]*promokit.Promotion, error)
	// UsageCustomerGetMany returns the uses of each counter among keys that has
	// one; a counter that does not exist is left out (0 uses).
	UsageCustomerGetMany(ctx context.Context, keys []UsageKey) (map[UsageKey]int64, error)
	// RedemptionListByOrderMany returns the redemptions of a store's orders among
	// orderIDs, by id.
	RedemptionListByOrderMany(ctx context.Context, storeID string, orderIDs []string) ([]*promokit.Redemption, error)
	// TakeUses writes a batch of orders at once: it adds the uses of each
	// promotion, code and customer counter within its limits (as
	// UsagePromotionAdd, UsageCodeAdd and UsageCustomerAdd do, in that
	// order and in the order given), then inserts the redemptions and sets
	// their IDs. A use of the empty code (a codeless redemption of an
	// automatic promotion) has no code counter and is skipped. It reports
	// false when a use did not fit a limit; what it wrote is then partial
	// and the transaction must be rolled back.
	// PostgreSQL sends every statement in one round trip, the inserts
	// first, so the locks of the counters are held for their updates, one
	// round trip and the commit.
	TakeUses(ctx context.Context, u Uses) (bool, error)
	// RedemptionCreateMany inserts redemptions and sets their IDs; EConflict
	// as RedemptionCreate.
	RedemptionCreateMany(ctx context.Context, rs []*promokit.Redemption) error
	// Savepoint runs fn inside a savepoint of the transaction: when fn
	// returns an error, what it wrote is undone and the transaction goes
	// on as before fn, even after a statement failed.
	Savepoint(ctx context.Context, fn func() error) error

	IdempotencyGet(ctx context.Context, keyID, key string) (*IdempotencyRecord, error)
	// IdempotencyCreate inserts a record; EConflict when one exists, in
	// which case it writes nothing and the transaction goes on.
	IdempotencyCreate(ctx context.Context, r *IdempotencyRecord) error
	// IdempotencyComplete stores the response of a record.
	IdempotencyComplete(ctx context.Context, r *IdempotencyRecord) error
	// IdempotencyCreateMany inserts records of requests that have not
	// answered yet (their Status, Headers and Body are not written), in
	// order, leaving out each one whose key is recorded already, also by
	// an earlier one of rs, and reports which it inserted. PostgreSQL
	// writes them in one statement.
	IdempotencyCreateMany(ctx context.Context, rs []*IdempotencyRecord) ([]bool, error)
	// IdempotencyCompleteMany stores the responses of records and reports
	// which records existed. PostgreSQL writes them in one statement.
	IdempotencyCompleteMany(ctx context.Context, rs []*IdempotencyRecord) ([]bool, error)
	IdempotencyDelete(ctx context.Context, keyID, key string) error
	// IdempotencyDeleteBefore removes records created before t.
	IdempotencyDeleteBefore(ctx context.Context, t time.Time) (int64, error)

	// Qualify: a store's automatic promotions and a customer's codes.

	// PromotionListAutomatic returns up to limit automatic promotions of a
	// store that are live at now (active, started, not ended), by id. It
	// reads a partial index of active automatic promotions, so the store's
	// promotions with codes cost nothing.
	PromotionListAutomatic(ctx context.Context, storeID string, now time.Time, limit int) ([]*promokit.Promotion, error)
	// CodeListForCustomer returns up to limit codes of a store restricted to
	// customerID (C3) that are active and unexpired at now and whose
	// promotion is live at now, in creation order. A partial index holds
	// only codes with a customer, so code generation never writes to it.
	CodeListForCustomer(ctx context.Context, storeID, customerID string, now time.Time, limit int) ([]*promokit.Code, error)

	// Failed look-ups and authentications: counts per subject ("key:",
	// "addr:" or "cust:" and its value for look-ups, "auth:" and a client
	// address for authentications) and per fixed window, named by the time
	// it starts.

	// LookupFailureGetMany returns the failures counted in the window for each
	// of subjects that has a count; the others are left out (none).
	LookupFailureGetMany(ctx context.Context, window time.Time, subjects []string) (map[string]int64, error)
	// LookupFailureLockMany returns the counts of subjects in the window, as
	// LookupFailureGetMany does, and holds them until the write transaction
	// ends: no other transaction changes them meanwhile, whatever process
	// it runs in, so that a count read here plus what the transaction adds
	// is the count. subjects is sorted and holds no duplicate; the rows are
	// taken in that order (PostgreSQL creates the missing ones at zero to
	// hold them too).
	LookupFailureLockMany(ctx context.Context, window time.Time, subjects []string) (map[string]int64, error)
	// LookupFailureAddMany adds counts[i] to the count of subjects[i] in the
	// window, creating the counts it lacks, in one statement that takes
	// the rows in the order of their subjects, so that concurrent writers
	// add up and never wait for each other in a cycle. subjects holds no
	// duplicate; counts is as long.
	LookupFailureAddMany(ctx context.Context, window time.Time, subjects []string, counts []int64) error
	// LookupFailureDeleteBefore removes the counts of windows that start
	// before t and returns how many it removed.
	LookupFailureDeleteBefore(ctx context.Context, t time.Time) (int64, error)

	ProgramTx
	CodeImportTx
}

// UsageKey names a customer's usage counter: Subject is a promotion id, or
// "code:" and a code.
type UsageKey struct {
	Subject     string
	CustomerKey string
}

// CartsQuery is what Tx.ReadCarts reads.
type CartsQuery struct {
	Carts []CartOf
	// Now is the time of the stores' live automatic promotions.
	Now time.Time
	// Failures holds, by window, the subjects whose failed look-ups to
	// read.
	Failures map[time.Time][]string
}

// CartOf is a cart as Tx.ReadCarts reads it: its store, its customer's key
// ("" for none) and its codes.
type CartOf struct {
	StoreID     string
	CustomerKey string
	Codes       []string
}

// CartsData is what Tx.ReadCarts returns.
type CartsData struct {
	Settings *promokit.Settings
	// Stores holds, for each store of the carts, what CheckoutRead would
	// return for the codes of its carts; its Store is nil when there is no
	// such store.
	Stores map[string]*CheckoutData
	// Failures holds, by window, the counts of the subjects asked that
	// have one.
	Failures map[time.Time]map[string]int64
	// Usage holds the customers' counters that exist among, for each cart
	// with a customer: those of its codes' promotions, those of its codes
	// that have a per-customer limit, and those of its store's automatic
	// promotions that have one.
	Usage map[UsageKey]int64
}

// ReadCartsInTurn implements Tx.ReadCarts with tx's other reads, one
// after another: the failed look-ups, each store's CheckoutRead, then the
// customers' counters.
func ReadCartsInTurn(ctx context.Context, tx Tx, q *CartsQuery) (*CartsData, error) {
	failures, err := readFailures(ctx, tx, q.Failures)
	if err != nil {
		return nil, err
	}
	d := &CartsData{Stores: make(map[string]*CheckoutData), Failures: failures}
	codes := make(map[string]*promokit.Code)
	automatic := make(map[string][]*promokit.Promotion)
	for storeID, values := range CodesByStore(q.Carts) {
		cd, err := tx.CheckoutRead(ctx, storeID, nil, values, q.Now)
		if err != nil {
			return nil, err
		}
		d.Settings, d.Stores[storeID], automatic[storeID] = cd.Settings, cd, cd.Automatic
		for _, c := range cd.Codes {
			codes[c.Code] = c
		}
	}
	if keys := CartUsageKeys(q.Carts, codes, automatic); len(keys) > 0 {
		if d.Usage, err = tx.UsageCustomerGetMany(ctx, keys); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// CartUsageKeys returns, without repeats, the customers' counters that
// CartsData.Usage holds for carts, given the codes read (by value) and the
// stores' automatic promotions.
func CartUsageKeys(carts []CartOf, codes map[string]*promokit.Code, automatic map[string][]*promokit.Promotion) []UsageKey {
	return usageKeys(carts, codes, nil, automatic)
}

// CodesByStore returns the distinct codes of carts, by store.
func CodesByStore(carts []CartOf) map[string][]string {
	out := make(map[string][]string)
	for _, c := range carts {
		out[c.StoreID] = appendNew(out[c.StoreID], c.Codes...)
	}
	return out
}

// CheckoutData is what Tx.CheckoutRead returns.
type CheckoutData struct {
	Settings   *promokit.Settings
	Store      *promokit.Store // nil: no such store
	Prior      []*promokit.Redemption
	Codes      []*promokit.Code
	Promotions []*promokit.Promotion // of Codes
	// Automatic holds the store's automatic promotions live at the time
	// asked, by id, at most MaxQualify.
	Automatic []*promokit.Promotion
}

// Uses is what a batch of orders takes and writes (Tx.TakeUses).
type Uses struct {
	Promotions  []PromotionUse
	Codes       []CodeUse
	Customers   []CustomerUse
	Redemptions []*promokit.Redemption
}

// PromotionUse is uses and discount to add to a promotion's counters.
type PromotionUse struct {
	ID       string
	Uses     int64
	Discount int64
}

// CodeUse is uses to add to a code's counter. The empty code has none.
type CodeUse struct {
	Code string
	Uses int64
}

// CustomerUse is uses to add to a customer's counter within Limit (nil: no
// limit).
type CustomerUse struct {
	UsageKey
	Uses  int64
	Limit *int64
}
