package engine

import (
	"context"
	"slices"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// ValidateInput is a cart and the codes a buyer entered.
type ValidateInput struct {
	Cart     promokit.Cart     `json:"cart"`
	Customer promokit.Identity `json:"customer"`
	Codes    []string          `json:"codes"`

	// Guard, when set, checks the failed look-ups of the request's
	// subjects with the cart's read, as CheckLookups would before it: a
	// subject over its limit fails the call with a *LookupRefusal before
	// anything is priced.
	Guard *LookupGuard `json:"-"`
}

// LookupGuard is who a request's failed look-ups count against and their
// limits.
type LookupGuard struct {
	Subjects LookupSubjects
	Limits   LookupLimits
}

// Validate prices a cart with codes without using them (C4): every line's
// discount, the totals, and for each code that does not apply its reason,
// with the rule, limit, used and remaining where a limit stands in the way.
// The store's live automatic promotions that the cart qualifies for apply
// too, ordered with the codes by one stacking rule (promokit.Price); each
// one applied is listed with an empty code and Automatic set, and one
// that does not apply is left out (Qualify says why). It writes nothing;
// Redeem checks again inside its write. Checkout keys of the cart's store
// and admins may validate; a storefront key calls ValidateForBuyer, which
// tells less.
func (s *Service) Validate(ctx context.Context, in ValidateInput) (*promokit.PricedCart, error) {
	if err := checkoutCaller(ctx, in.Cart.StoreID); err != nil {
		return nil, err
	}
	return s.validate(ctx, in)
}

// validate is Validate once the caller is allowed.
func (s *Service) validate(ctx context.Context, in ValidateInput) (*promokit.PricedCart, error) {
	if len(in.Codes) > MaxOrderCodes {
		var v promokit.Validation
		v.Add("codes", "out_of_range", "a cart carries at most %d codes", MaxOrderCodes)
		return nil, v.Err()
	}
	customerKey, err := in.Customer.Key()
	if err != nil {
		return nil, err
	}
	in.Cart.CustomerID, in.Cart.CustomerKey = in.Customer.CustomerID, customerKey
	codes := make([]string, 0, len(in.Codes))
	possible := true
	for _, c := range in.Codes {
		if c = promokit.NormalizeCode(c); !slices.Contains(codes, c) {
			codes = append(codes, c)
			possible = possible && promokit.ValidCode(c)
		}
	}
	// A value that cannot be a code (a NUL, a character outside the
	// codes' alphabet) is not read: it is not found, as a missing code
	// is, and counts as a failed look-up the same way.
	read := codes
	if !possible {
		read = slices.DeleteFunc(slices.Clone(codes), func(c string) bool { return !promokit.ValidCode(c) })
	}
	cr := &cartRead{storeID: in.Cart.StoreID, customerKey: customerKey, codes: read, done: make(chan struct{})}
	var guarded []lookupSubject
	if in.Guard != nil {
		guarded = in.Guard.Limits.limited(in.Guard.Subjects)
		cr.window, cr.subjects = lookupWindow(s.now()), subjectNames(guarded)
	}
	s.cartReads.push(ctx, cr)
	if err := await(ctx, cr.done); err != nil {
		return nil, err
	}
	if cr.err != nil {
		return nil, cr.err
	}
	if in.Guard != nil {
		if refusal := in.Guard.Limits.refusal(guarded, cr.failures, cr.window, s.now()); refusal != nil {
			return nil, refusal
		}
	}
	if err := in.Cart.Validate(cr.settings.Currency); err != nil {
		return nil, err
	}
	priced, _ := cr.snap.price(cr.store, &in.Cart, codes, nil, s.now())
	return priced, nil
}

// cartRead is what validating a cart reads of the database. Carts
// validated at once share their reads (HOT-LIMITS pattern 3 applied to
// reads): one batch reads the failed look-ups of the guarded carts'
// subjects, the settings, and per store the store, the codes of all its
// carts and their promotions and the store's live automatic promotions
// (one indexed read per store, not per cart), then the customers'
// counters, for tens of carts (CartReadMany: two round trips on
// PostgreSQL). Every answer comes from a read that began after its cart
// arrived, so batching never serves stale counters.
type cartRead struct {
	storeID     string
	customerKey string
	codes       []string
	window      time.Time // of the failed look-ups of subjects
	subjects    []string  // whose failed look-ups to read, if any

	settings *promokit.Settings
	failures map[string]int64 // of subjects: shared by the batch, read only
	store    *promokit.Store
	snap     *snapshot // shared by the batch: read only
	err      error
	done     chan struct{}
}

// maxCartReads bounds a batch of cart reads, and so its queries' sizes.
const maxCartReads = 128

// readCarts answers a batch of cart reads under ctx, the batch's context
// (batchContext), isolating a cart whose read the database refuses
// (isolate.go).
func (s *Service) readCarts(ctx context.Context, batch []*cartRead) {
	started := time.Now()
	isolateBatch(s, batch, func(part []*cartRead) error { return s.readCartsOnce(ctx, part) },
		func(r *cartRead, err error) { r.err = err })
	s.metrics.cartReadBatch(len(batch), time.Since(started))
	for _, r := range batch {
		close(r.done)
	}
}

// readCartsOnce reads the carts of batch at once and sets their answers,
// or returns the error of the read and sets none.
func (s *Service) readCartsOnce(ctx context.Context, batch []*cartRead) error {
	q := &storage.CartsQuery{Carts: make([]storage.CartOf, len(batch)), Now: s.now(), Failures: make(map[time.Time][]string)}
	for i, r := range batch {
		q.Carts[i] = storage.CartOf{StoreID: r.storeID, CustomerKey: r.customerKey, Codes: r.codes}
		if len(r.subjects) > 0 {
			q.Failures[r.window] = appendNew(q.Failures[r.window], r.subjects...)
		}
	}
	var d *storage.CartsData
	err := s.read(ctx, func(tx storage.Tx) (err error) {
		d, err = storage.CartReadMany(ctx, tx, q)
		return err
	})
	if err != nil {
		return err
	}
	snap := new(snapshot)
	for storeID, cd := range d.Stores {
		snap.add(storeID, cd)
	}
	snap.usage = d.Usage
	for _, r := range batch {
		if d.Stores[r.storeID] == nil || d.Stores[r.storeID].Store == nil {
			r.err = notFound("store", r.storeID)
			continue
		}
		r.settings, r.store, r.snap = d.Settings, d.Stores[r.storeID].Store, snap
		r.failures = d.Failures[r.window]
	}
	return nil
}
