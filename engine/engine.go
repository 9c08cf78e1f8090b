// Package engine holds promokit's use cases: it decides who may do what,
// applies the domain rules and runs every change in one transaction of a
// Store. It is the only package where business logic meets storage, and it
// has one implementation for both databases.
//
// Concurrent calls of the hot paths (code look-ups, cart reads, look-up
// checks and failures, idempotency keys, placed orders, redeems and
// clicks) share their database work in batches, each run under a context
// made from its callers' contexts. docs/batching.md lists every batcher:
// what it batches, its bounds, what it does when a batch fails, its
// fallback and how contexts flow.
package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Config configures a Service.
type Config struct {
	DB     storage.DB
	Clock  promokit.Clock
	Logger *slog.Logger
	// KeyCacheTTL is how long an authenticated key is trusted without
	// asking the database again. A key revoked through another process
	// stops working after at most this long; through this process, at
	// once. Zero means 5 seconds; a negative value disables the cache.
	KeyCacheTTL time.Duration
	// JobLease is how long a job worker holds a job between two batches
	// before another process may take it over. Zero means 15 seconds.
	JobLease time.Duration
	// GenerateBatch is how many codes one transaction of a generation job
	// inserts. Zero means GenerateBatch.
	GenerateBatch int
	// ImportChunk is how many codes one transaction of a large code
	// import inserts (ImportCodes); an import of at most this many codes
	// is written in one transaction. Zero means DefaultImportChunk.
	ImportChunk int
	// GenerateWorkers is how many batches of a generation job are in
	// flight at once. Zero means 2.
	GenerateWorkers int
	// RedeemBatches is how many batches of redeem and reserve calls one
	// process writes at once. Zero means 2: one is read and priced while
	// the other commits.
	RedeemBatches int
	// ClickFlush is how long a click waits in memory at most before it is
	// written: a crash loses the clicks of the last interval. Zero means
	// DefaultClickFlush.
	ClickFlush time.Duration
	// RedeemQueue is how many redeem and reserve calls may wait behind the
	// batches being written before the next is answered EUnavailable.
	// Zero means 8,192.
	RedeemQueue int
	// Metrics records job progress; nil records nothing.
	Metrics *Metrics
	// SessionIdle ends a console session that has not been used for this
	// long. Zero means DefaultSessionIdle.
	SessionIdle time.Duration
	// SessionLifetime ends a console session this long after it was
	// made, however it was used. Zero means DefaultSessionLifetime.
	SessionLifetime time.Duration
}

// Service runs promokit's use cases. Its methods read the caller from the
// context (promokit.NewContext) and are safe for concurrent use.
type Service struct {
	db       storage.DB
	clock    promokit.Clock
	log      *slog.Logger
	keys     *keyCache
	auth     authGuard // the limits on failed authentications
	jobLease time.Duration
	owner    string
	metrics  *Metrics
	wake     chan struct{}

	genWorkers  int
	genBatch    int
	importChunk int64
	lookups     *lookups
	redeems     *queue[*useReq]
	cartReads   *queue[*cartRead]

	lookupChecks *queue[*lookupCheck]
	lookupFails  *queue[*lookupFail]
	idempotency  *queue[*idempotencyOp]

	places       *queue[*placeReq]
	placeReads   *queue[*placeRead]
	placeHint    atomic.Pointer[placeHint]
	clicks       *clickWriter
	clickTargets clickTargets

	sessionIdle     time.Duration
	sessionLifetime time.Duration
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = promokit.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ttl := cfg.KeyCacheTTL
	if ttl == 0 {
		ttl = 5 * time.Second
	}
	if cfg.GenerateBatch <= 0 {
		cfg.GenerateBatch = GenerateBatch
	}
	if cfg.ImportChunk <= 0 {
		cfg.ImportChunk = DefaultImportChunk
	}
	if cfg.GenerateWorkers <= 0 {
		cfg.GenerateWorkers = 2
	}
	if cfg.JobLease == 0 {
		cfg.JobLease = 15 * time.Second
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	if cfg.RedeemBatches <= 0 {
		cfg.RedeemBatches = 2
	}
	s := &Service{
		db:       cfg.DB,
		clock:    cfg.Clock,
		log:      cfg.Logger,
		keys:     newKeyCache(ttl),
		jobLease: cfg.JobLease,
		owner:    hex.EncodeToString(b[:]),
		metrics:  cfg.Metrics,
		wake:     make(chan struct{}, 1),

		genWorkers:  cfg.GenerateWorkers,
		genBatch:    cfg.GenerateBatch,
		importChunk: int64(cfg.ImportChunk),

		sessionIdle:     cmp.Or(cfg.SessionIdle, DefaultSessionIdle),
		sessionLifetime: cmp.Or(cfg.SessionLifetime, DefaultSessionLifetime),
	}
	s.lookups = newLookups(s)
	s.cartReads = &queue[*cartRead]{max: 1, maxBatch: maxCartReads, run: s.readCarts}
	s.lookupChecks = &queue[*lookupCheck]{max: 1, maxBatch: maxLookupChecks, run: s.readLookupChecks}
	s.lookupFails = &queue[*lookupFail]{max: 1, maxBatch: maxLookupFails, run: s.writeLookupFails}
	s.idempotency = &queue[*idempotencyOp]{max: 1, maxBatch: maxIdempotencyBatch, run: s.writeIdempotencyBatch}
	s.clicks = newClickWriter(s, cfg.ClickFlush)
	s.placeReads = &queue[*placeRead]{max: 2, maxBatch: maxPlaceReads, limit: maxPlaceQueue, run: s.readPlaces}
	s.places = &queue[*placeReq]{max: 2, maxBatch: maxPlaceBatch, limit: maxPlaceQueue, run: s.writePlaces}
	if cfg.RedeemQueue <= 0 {
		cfg.RedeemQueue = maxRedeemQueue
	}
	s.redeems = &queue[*useReq]{max: cfg.RedeemBatches, maxBatch: maxRedeemBatch, limit: cfg.RedeemQueue, run: s.runBatch}
	return s
}

// Store returns the service's database.
func (s *Service) Store() storage.DB { return s.db }

// Clock returns the service's clock.
func (s *Service) Clock() promokit.Clock { return s.clock }

// now returns the current time at the precision the databases keep.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// principal returns the principal of ctx, or EUnauthenticated.
func principal(ctx context.Context) (promokit.Principal, error) {
	p, ok := promokit.PrincipalFromContext(ctx)
	if !ok || !p.Role.Valid() {
		return promokit.Principal{}, promokit.Errorf(promokit.EUnauthenticated, "a valid API key is required")
	}
	return p, nil
}

// caller returns the principal of ctx for a call that any key may make, or
// EUnauthenticated. A storefront key is EForbidden: it may make the one
// call that names its role (ValidateForBuyer), so that no other method,
// present or future, serves it unless it says so.
func caller(ctx context.Context) (promokit.Principal, error) {
	p, err := principal(ctx)
	if err == nil && p.Role == promokit.RoleStorefront {
		return p, promokit.Errorf(promokit.EForbidden, "a storefront key may only validate carts")
	}
	return p, err
}

// require returns the caller if its role is one of roles, and EForbidden otherwise.
func require(ctx context.Context, roles ...promokit.Role) (promokit.Principal, error) {
	p, err := principal(ctx)
	if err != nil {
		return p, err
	}
	for _, r := range roles {
		if p.Role == r {
			return p, nil
		}
	}
	return p, promokit.Errorf(promokit.EForbidden, "a %s key may not make this call", p.Role)
}

// notFound is the error for a missing or foreign object: the two are
// indistinguishable on purpose.
func notFound(what, id string) error {
	return promokit.Errorf(promokit.ENotFound, "%s %q not found", what, id)
}

// isNotFound reports whether err is a database's storage.ErrNotFound or
// has the code ENotFound (the engine's own notFound, or one translated by
// apiError).
func isNotFound(err error) bool {
	return errors.Is(err, storage.ErrNotFound) || promokit.ErrorCode(err) == promokit.ENotFound
}

// idPage parses the cursor of a page of a list ordered by integer ids
// (promokit.Page.IDAfter): a cursor that is no id is EInvalid, and the
// database gets the id.
func idPage(p storage.Page) (storage.IDPage, error) {
	after, err := p.IDAfter()
	return storage.IDPage{After: after, Limit: p.Limit}, err
}
