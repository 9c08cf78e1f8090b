package engine

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// RedeemInput records the codes an order used when it was placed (C4).
// The store's automatic promotions apply by themselves, as validate
// applies them.
type RedeemInput struct {
	OrderID  string            `json:"order_id"`
	Cart     promokit.Cart     `json:"cart"`
	Customer promokit.Identity `json:"customer"`
	Codes    []string          `json:"codes"`
	// Automatic lists the automatic promotions the order was priced with:
	// the promotion ids of validate's applied entries without a code. Set,
	// even empty, it makes the automatic promotions all or nothing like
	// the codes: the order is written only if exactly these apply. Nil
	// leaves them to the redeem's own pricing.
	Automatic *[]string `json:"automatic,omitempty"`
}

// RedeemResult is the priced order and its redemptions. Priced is nil when
// the call priced nothing: on a replay, and on the redeem that commits a
// reservation (the reserve's result carries the priced cart).
type RedeemResult struct {
	OrderID     string                 `json:"order_id"`
	Priced      *promokit.PricedCart   `json:"priced"`
	Redemptions []*promokit.Redemption `json:"redemptions"`
	Replayed    bool                   `json:"replayed"`
}

// MaxOrderCodes is the most codes one order may carry.
const MaxOrderCodes = 10

// RedemptionRefused is the code of a redeem refused because a code no
// longer applies; the error lists each refused code with its reason.
const RedemptionRefused = promokit.ERedemptionRefused

// Redeem records the use of codes by a placed order, all or nothing: in one
// transaction it prices the cart with the usage counters as they stand,
// with the codes and the store's live automatic promotions (as Validate
// does), then takes one use of each applied promotion, code and customer
// counter with conditional updates that the database evaluates (C2, C3),
// and writes one row per code and one codeless row (Code empty) per
// automatic promotion. If any requested code does not apply, or a counter
// reached its limit meanwhile, nothing is written and the error lists
// why. The automatic promotions are all or nothing too: those the request
// lists (RedeemInput.Automatic) or, when it lists none, those the redeem
// priced the order with first must be exactly those that apply when it
// is written, so that an order is never charged another total than the
// one it was priced at; otherwise nothing is written and the error names
// each promotion that differs. An automatic promotion the cart does not
// qualify for is left out, never a reason to refuse. An order reserved
// before is redeemed by moving its holds, without taking the uses again.
// The same order id with the same request returns the recorded result
// (Replayed); with another request it is EConflict. Checkout keys of the
// cart's store and admins may redeem.
func (s *Service) Redeem(ctx context.Context, in RedeemInput) (*RedeemResult, error) {
	return s.use(ctx, in, 0)
}

// checkoutCaller checks that the caller may run the checkout of a store:
// an admin, or a checkout key of that store (or of all stores). Another
// store is not found.
func checkoutCaller(ctx context.Context, storeID string) error {
	pr, err := require(ctx, promokit.RoleAdmin, promokit.RoleCheckout)
	if err != nil {
		return err
	}
	sc := pr.Scope()
	if sc.StoreID != "" && sc.StoreID != storeID || sc.StoreID == "" && !possibleID(storeID) {
		return notFound("store", storeID)
	}
	return nil
}

// DefaultHold and MaxHold bound how long Reserve holds an order's codes.
const (
	DefaultHold = 15 * time.Minute
	MaxHold     = 24 * time.Hour
)

// Reserve holds the codes of an order while it is paid: the same checks and
// counters as Redeem, so a held use counts against every limit, but the
// redemptions stay held until hold (DefaultHold when zero) has passed.
// Redeem then commits them; Release, or the hold's expiry, gives the uses
// back, so a declined payment never burns a code.
func (s *Service) Reserve(ctx context.Context, in RedeemInput, hold time.Duration) (*RedeemResult, error) {
	if hold == 0 {
		hold = DefaultHold
	}
	if hold < time.Second || hold > MaxHold {
		var v promokit.Validation
		v.Add("hold_seconds", "out_of_range", "a hold lasts 1 second to %d hours", int(MaxHold.Hours()))
		return nil, v.Err()
	}
	return s.use(ctx, in, hold)
}

// use is Redeem (hold zero) and Reserve: it checks the request, then
// queues it for the next batch of the redeem path (redeem_batch.go).
func (s *Service) use(ctx context.Context, in RedeemInput, hold time.Duration) (*RedeemResult, error) {
	r, err := newUseReq(ctx, in, hold)
	if err != nil {
		return nil, err
	}
	return s.redeem(r)
}

// newUseReq checks a redeem or reserve call and returns it ready to queue.
func newUseReq(ctx context.Context, in RedeemInput, hold time.Duration) (*useReq, error) {
	if err := checkoutCaller(ctx, in.Cart.StoreID); err != nil {
		return nil, err
	}
	var v promokit.Validation
	if !promokit.ValidOrderID(in.OrderID) {
		v.Add("order_id", "invalid", "order_id must have 1 to 100 printable ASCII characters")
	}
	if len(in.Codes) > MaxOrderCodes {
		v.Add("codes", "out_of_range", "an order redeems at most %d codes", MaxOrderCodes)
	}
	codes := make([]string, 0, len(in.Codes))
	for _, c := range in.Codes {
		c = promokit.NormalizeCode(c)
		if slices.Contains(codes, c) {
			v.Add("codes", "duplicate", "code %s is listed twice", c)
			break
		}
		codes = append(codes, c)
	}
	if in.Automatic != nil {
		ids := automaticIDs(&v, *in.Automatic)
		in.Automatic = &ids
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	customerKey, err := in.Customer.Key()
	if err != nil {
		return nil, err
	}
	if err := impossibleCodes(codes); err != nil {
		return nil, err
	}
	in.Cart.CustomerID, in.Cart.CustomerKey = in.Customer.CustomerID, customerKey
	return &useReq{ctx: ctx, in: in, codes: codes, hash: requestHash(in, codes), hold: hold, expect: in.Automatic}, nil
}

// impossibleCodes refuses an order that lists a value that cannot be a
// code (promokit.ValidCode: a NUL, a character outside the codes'
// alphabet): such a code is not found, as a missing code is, and nothing
// is read for it.
func impossibleCodes(codes []string) error {
	var rs []promokit.Rejection
	for _, c := range codes {
		if c != "" && !promokit.ValidCode(c) {
			rs = append(rs, promokit.Rejection{Code: c, Reason: promokit.ReasonNotFound})
		}
	}
	if rs == nil {
		return nil
	}
	return refusal(rs)
}

// automaticIDs checks the automatic promotions a request lists and returns
// them sorted, so that their order does not make another request.
func automaticIDs(v *promokit.Validation, list []string) []string {
	if len(list) > promokit.MaxQualify {
		v.Add("automatic", "out_of_range", "an order lists at most %d automatic promotions", promokit.MaxQualify)
		return nil
	}
	ids := make([]string, 0, len(list))
	for _, id := range list {
		if id == "" || len(id) > 64 {
			v.Add("automatic", "invalid", "a promotion id has 1 to 64 characters")
			return nil
		}
		if slices.Contains(ids, id) {
			v.Add("automatic", "duplicate", "promotion %s is listed twice", id)
			return nil
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// useOne runs one order's redeem or reserve in tx, on its own: the path of
// an order that was reserved, released or sent before, and of every order
// of a batch that could not be taken at once.
func (s *Service) useOne(ctx context.Context, tx storage.Tx, settings *promokit.Settings, r *useReq, now time.Time) (*RedeemResult, error) {
	in := &r.in
	if err := in.Cart.Validate(settings.Currency); err != nil {
		return nil, err
	}
	state, holdUntil := r.target(now)
	prior, err := tx.RedemptionListByOrder(ctx, in.Cart.StoreID, in.OrderID)
	if err != nil {
		return nil, err
	}
	if len(prior) > 0 {
		if !bytes.Equal(prior[0].RequestHash, r.hash) {
			return nil, promokit.Errorf(promokit.EConflict, "order %s was redeemed with another request", in.OrderID)
		}
		switch st := orderState(prior); {
		case st == promokit.RedemptionRolledBack:
			return nil, promokit.Errorf(promokit.EConflict, "order %s was cancelled", in.OrderID)
		case st == state || st == promokit.RedemptionRedeemed:
			return &RedeemResult{OrderID: in.OrderID, Redemptions: inState(prior, st), Replayed: true}, nil
		case st == promokit.RedemptionHeld:
			// Redeem a reserved order: its uses are taken already.
			held := inState(prior, st)
			for _, p := range held {
				ok, err := tx.RedemptionSetState(ctx, storage.RedemptionStateChange{ID: p.ID, From: promokit.RedemptionHeld, To: promokit.RedemptionRedeemed, HoldUntil: nil, Now: now})
				if err != nil {
					return nil, err
				}
				if !ok {
					return nil, promokit.Errorf(promokit.EConflict, "the hold of order %s ended meanwhile; send the request again", in.OrderID)
				}
				p.State, p.HoldUntil, p.UpdatedAt = promokit.RedemptionRedeemed, nil, now
			}
			return &RedeemResult{OrderID: in.OrderID, Redemptions: held}, nil
		}
		// Released (a declined payment, an expired hold): take the uses
		// again below, reusing the order's rows.
	}
	priced, cands, err := s.price(ctx, tx, &in.Cart, r.codes, r.expect, now)
	if err != nil {
		return nil, err
	}
	if len(priced.Rejected) > 0 {
		return nil, refusal(priced.Rejected)
	}
	if err := takeAll(ctx, tx, cands, priced.Applied, in.Cart.CustomerKey); err != nil {
		return nil, err
	}
	res := &RedeemResult{OrderID: in.OrderID, Priced: priced, Redemptions: []*promokit.Redemption{}}
	var rows []*promokit.Redemption
	for _, a := range priced.Applied {
		if i := slices.IndexFunc(prior, func(p *promokit.Redemption) bool { return records(p, a) }); i >= 0 {
			p := prior[i]
			ok, err := tx.RedemptionSetState(ctx, storage.RedemptionStateChange{ID: p.ID, From: promokit.RedemptionReleased, To: state, HoldUntil: holdUntil, Now: now})
			if err != nil || !ok {
				return nil, orConflict(err, in.OrderID)
			}
			p.State, p.HoldUntil, p.UpdatedAt = state, holdUntil, now
			res.Redemptions = append(res.Redemptions, p)
			continue
		}
		row := r.redemption(a, state, holdUntil, now)
		rows = append(rows, row)
		res.Redemptions = append(res.Redemptions, row)
	}
	if err := tx.RedemptionCreateMany(ctx, rows); err != nil {
		return nil, err
	}
	return res, nil
}

// orderState returns the state of an order from its rows. Rows left
// released by an earlier attempt do not count once others were taken
// again: an order redeemed again after a release priced without an
// automatic promotion it had the first time keeps that row released.
func orderState(rows []*promokit.Redemption) string {
	rank := []string{promokit.RedemptionReleased, promokit.RedemptionHeld, promokit.RedemptionRedeemed, promokit.RedemptionRolledBack}
	state := promokit.RedemptionReleased
	for _, r := range rows {
		if slices.Index(rank, r.State) > slices.Index(rank, state) {
			state = r.State
		}
	}
	return state
}

// inState returns the rows in state.
func inState(rows []*promokit.Redemption, state string) []*promokit.Redemption {
	out := make([]*promokit.Redemption, 0, len(rows))
	for _, r := range rows {
		if r.State == state {
			out = append(out, r)
		}
	}
	return out
}

// records reports whether r is the row of a: of its code, or for an
// automatic promotion, the codeless row of its promotion.
func records(r *promokit.Redemption, a promokit.Applied) bool {
	return r.Code == a.Code && (a.Code != "" || r.PromotionID == a.PromotionID)
}

func orConflict(err error, orderID string) error {
	if err != nil {
		return err
	}
	return promokit.Errorf(promokit.EConflict, "order %s changed meanwhile; send the request again", orderID)
}

// Release gives back the held uses of an order whose payment failed or was
// abandoned. It is idempotent; a redeemed order is left as it is (cancel it
// with Rollback).
func (s *Service) Release(ctx context.Context, storeID, orderID string) ([]*promokit.Redemption, error) {
	return s.giveBack(ctx, storeID, orderID, promokit.RedemptionHeld, promokit.RedemptionReleased)
}

// ExpireHolds releases up to limit holds whose time has passed, giving
// their uses back, and returns how many it released. The job worker calls
// it; each hold is released in the transaction that moves its state, so
// two processes never give one use back twice.
func (s *Service) ExpireHolds(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.write(ctx, func(tx storage.Tx) error {
		now := s.now()
		held, err := tx.RedemptionListExpiredHolds(ctx, now, limit)
		if err != nil {
			return err
		}
		released := make([]*promokit.Redemption, 0, len(held))
		for _, r := range held {
			ok, err := tx.RedemptionSetState(ctx, storage.RedemptionStateChange{ID: r.ID, From: promokit.RedemptionHeld, To: promokit.RedemptionReleased, HoldUntil: nil, Now: now})
			if err != nil {
				return err
			}
			if ok {
				released = append(released, r)
			}
		}
		n = len(released)
		return give(ctx, tx, released)
	})
	return n, err
}

// takeAll takes one use of every counter of the applied codes and
// automatic promotions: the promotions' uses and budgets, then the codes'
// uses, then the customer's counters, each group by id. Every path that
// takes counters (this one and the batches) locks rows in that one order,
// so that two transactions never wait for each other's locks in a cycle.
// A refusal names the limit that stood in the way, and the code or the
// automatic promotion. The counters are those of promokit.UsesTally.Take,
// taken one use at a time.
func takeAll(ctx context.Context, tx storage.Tx, cands []promokit.Candidate, applied []promokit.Applied, customerKey string) error {
	type taking struct {
		cd       *promokit.Candidate
		discount int64
	}
	ts := make([]taking, 0, len(applied))
	for _, a := range applied {
		ts = append(ts, taking{findCandidate(cands, a), a.Discount})
	}
	slices.SortFunc(ts, func(a, b taking) int {
		return cmp.Or(strings.Compare(a.cd.Promotion.ID, b.cd.Promotion.ID), strings.Compare(codeOf(a.cd), codeOf(b.cd)))
	})
	for _, t := range ts {
		if err := takePromotion(ctx, tx, t.cd, 1, t.discount); err != nil {
			return err
		}
	}
	slices.SortFunc(ts, func(a, b taking) int { return strings.Compare(codeOf(a.cd), codeOf(b.cd)) })
	for _, t := range ts {
		if t.cd.Code == nil {
			continue
		}
		ok, err := tx.UsageCodeAdd(ctx, t.cd.Code.Code, 1)
		if err != nil || !ok {
			return orRefusal(err, t.cd, promokit.ReasonLimitReached, "C3", t.cd.Code.UsageLimit)
		}
	}
	if customerKey == "" {
		return nil
	}
	uses := make([]custTaking, 0, 2*len(ts))
	var buf [2]promokit.CustomerCounter
	for _, t := range ts {
		for _, k := range promokit.AppendCustomerCounters(buf[:0], t.cd.Promotion, t.cd.Code, customerKey) {
			uses = append(uses, custTaking{k, t.cd})
		}
	}
	slices.SortFunc(uses, func(a, b custTaking) int { return strings.Compare(a.Subject, b.Subject) })
	for _, u := range uses {
		ok, err := tx.UsageCustomerAdd(ctx, storage.CustomerUse{UsageKey: u.UsageKey, Uses: 1, Limit: u.Limit})
		if err != nil || !ok {
			return orRefusal(err, u.cd, promokit.ReasonCustomerLimit, u.Rule, u.Limit)
		}
	}
	return nil
}

// custTaking is one customer counter an order takes, and the candidate
// that takes it.
type custTaking struct {
	promokit.CustomerCounter
	cd *promokit.Candidate
}

// takePromotion adds n uses and discount to a promotion's counters, or
// refuses with the limit that stood in the way.
func takePromotion(ctx context.Context, tx storage.Tx, cd *promokit.Candidate, n, discount int64) error {
	p := cd.Promotion
	ok, err := tx.UsagePromotionAdd(ctx, p.ID, n, discount)
	if err != nil || ok {
		return err
	}
	// Another order took the last use or budget since the cart was
	// priced: read the counters as they are now to say which.
	now, err := tx.PromotionGet(ctx, promokit.Scope{}, p.ID)
	if err != nil {
		return err
	}
	if p.TotalDiscount != nil && (p.TotalUses == nil || now.Uses+n <= *p.TotalUses) {
		return refusal([]promokit.Rejection{limitRejection(cd, promokit.ReasonBudgetExhausted, *p.TotalDiscount, now.DiscountSpent)})
	}
	limit := int64(0)
	if p.TotalUses != nil {
		limit = *p.TotalUses
	}
	return refusal([]promokit.Rejection{limitRejection(cd, promokit.ReasonLimitReached, limit, now.Uses)})
}

// limitRejection is the rejection of a candidate by its promotion's limit
// (C2), naming the promotion of an automatic one.
func limitRejection(cd *promokit.Candidate, reason string, limit, used int64) promokit.Rejection {
	r := promokit.LimitRejection(codeOf(cd), reason, "C2", limit, used)
	if cd.Code == nil {
		r.PromotionID = cd.Promotion.ID
	}
	return r
}

func orRefusal(err error, cd *promokit.Candidate, reason, rule string, limit *int64) error {
	if err != nil {
		return err
	}
	r := promokit.Rejection{Code: codeOf(cd), Reason: reason, Rule: rule, Limit: limit}
	if cd.Code == nil {
		r.PromotionID = cd.Promotion.ID
	}
	return refusal([]promokit.Rejection{r})
}

// refusal is the error of a redeem refused for the rejections rs: one
// field error per code (field "codes") or automatic promotion (field
// "automatic") that stands in the way.
func refusal(rs []promokit.Rejection) error {
	e := &promokit.Error{Code: RedemptionRefused, Message: refused(rs[0]) + " cannot be redeemed: " + rs[0].Reason}
	if rs[0].Rule != "" {
		e.Rule, e.Limit = rs[0].Rule, rs[0].Limit
	}
	for _, r := range rs {
		field := "codes"
		if r.Code == "" {
			field = "automatic"
		}
		e.Fields = append(e.Fields, promokit.FieldError{Field: field, Code: r.Reason, Message: refused(r) + ": " + r.Reason})
	}
	return e
}

// refused names what a rejection refuses: a code, or an automatic
// promotion by its id.
func refused(r promokit.Rejection) string {
	if r.Code == "" {
		return "automatic promotion " + r.PromotionID
	}
	return "code " + r.Code
}

// requestHash identifies a redeem request, to tell a retry from another
// order that reuses the id.
func requestHash(in RedeemInput, codes []string) []byte {
	// Automatic is left out when the request lists none, so that the
	// requests of orders recorded before it existed keep their hash.
	b, _ := json.Marshal(struct {
		Cart        promokit.Cart
		CustomerKey string
		Codes       []string
		Automatic   *[]string `json:",omitempty"`
	}{in.Cart, in.Cart.CustomerKey, codes, in.Automatic})
	h := sha256.Sum256(b)
	return h[:]
}

// Rollback gives back the uses of a cancelled order (C4): every redeemed
// code and automatic promotion of the order returns its use to each
// counter, in one transaction; held ones are released. It is idempotent: an order already rolled back
// is left as it is. An order that order events completed is refused
// (EConflict) and nothing changes, as its cancelled event would be: a
// completed order is refunded, and a refund does not return the use.
// Checkout keys of the store and admins may roll back.
func (s *Service) Rollback(ctx context.Context, storeID, orderID string) ([]*promokit.Redemption, error) {
	return s.giveBack(ctx, storeID, orderID, promokit.RedemptionRedeemed, promokit.RedemptionRolledBack)
}

// giveBack moves an order's redemptions in state from to state to, and
// held ones to released, giving each use back. A rollback first asks
// the store's order, when order events created it, whether it may still
// be cancelled.
func (s *Service) giveBack(ctx context.Context, storeID, orderID, from, to string) ([]*promokit.Redemption, error) {
	if err := checkoutCaller(ctx, storeID); err != nil {
		return nil, err
	}
	var rs []*promokit.Redemption
	err := s.write(ctx, func(tx storage.Tx) error {
		if to == promokit.RedemptionRolledBack {
			if err := checkCancellable(ctx, tx, storeID, orderID); err != nil {
				return err
			}
		}
		var err error
		rs, err = giveBackTx(ctx, tx, storeID, orderID, from, to, s.now())
		if err == nil && len(rs) == 0 {
			return notFound("order", orderID)
		}
		return err
	})
	return rs, err
}

// checkCancellable refuses, as promokit.Order.Accept refuses a cancelled
// event, the rollback of an order that order events completed. The
// order's row is locked, as a cancelled event locks it, so that no
// completion commits between the check and the give-back. An order the
// store only redeemed for, with no order events, may be rolled back.
func checkCancellable(ctx context.Context, tx storage.Tx, storeID, orderID string) error {
	o, err := tx.OrderGet(ctx, storeID, orderID, true)
	switch {
	case isNotFound(err):
		return nil
	case err != nil:
		return err
	case o.CompletedAt != nil:
		return o.Accept(promokit.EventCancelled)
	}
	return nil
}

// giveBackTx is giveBack inside tx: it returns the order's redemptions
// (none when the order used no code).
func giveBackTx(ctx context.Context, tx storage.Tx, storeID, orderID, from, to string, now time.Time) ([]*promokit.Redemption, error) {
	rs, err := tx.RedemptionListByOrder(ctx, storeID, orderID)
	if err != nil {
		return nil, err
	}
	given := make([]*promokit.Redemption, 0, len(rs))
	for _, r := range rs {
		target := to
		switch r.State {
		case from:
		case promokit.RedemptionHeld:
			target = promokit.RedemptionReleased
		default:
			continue
		}
		ok, err := tx.RedemptionSetState(ctx, storage.RedemptionStateChange{ID: r.ID, From: r.State, To: target, HoldUntil: nil, Now: now})
		if err != nil || !ok {
			return nil, orConflict(err, orderID)
		}
		given = append(given, r)
		r.State, r.HoldUntil, r.UpdatedAt = target, nil, now
	}
	if err := give(ctx, tx, given); err != nil {
		return nil, err
	}
	return rs, nil
}

// give returns the uses of redemptions rs to every counter they took
// (promokit.GiveBack), summed per counter and written in the lock order
// every writer keeps (promokit.Counter), in one storage.UsageTakeMany: a
// release of an order whose redemptions name promotions b then a must not
// lock b before a while a redeem batch holds a and waits for b. The
// limits of a redemption's promotion and code are read only when it has
// a customer key: only a customer's counters depend on them.
func give(ctx context.Context, tx storage.Tx, rs []*promokit.Redemption) error {
	if len(rs) == 0 {
		return nil
	}
	var tally promokit.UsesTally
	for _, r := range rs {
		var (
			p *promokit.Promotion
			c *promokit.Code
		)
		if r.CustomerKey != "" {
			var err error
			if p, err = tx.PromotionGet(ctx, promokit.Scope{}, r.PromotionID); err != nil {
				return err
			}
			if r.Code != "" {
				if c, err = tx.CodeGet(ctx, promokit.Scope{}, r.Code); err != nil {
					return err
				}
			}
		}
		tally.Give(r, p, c)
	}
	u := tally.Uses()
	ok, err := storage.UsageTakeMany(ctx, tx, storage.Uses{Promotions: u.Promotions, Codes: u.Codes, Customers: u.Customers})
	if err == nil && !ok {
		err = errors.New("engine: a give-back found a counter missing")
	}
	return err
}
