package engine

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/promokit/promokit"
)

// RedeemInput records the codes an order used when it was placed (C4).
type RedeemInput struct {
	OrderID  string            `json:"order_id"`
	Cart     promokit.Cart     `json:"cart"`
	Customer promokit.Identity `json:"customer"`
	Codes    []string          `json:"codes"`
}

// RedeemResult is the priced order and its redemptions.
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
// then takes one use of each applied promotion, code and customer counter
// with conditional updates that the database evaluates (C2, C3), and
// writes one row per code. If any requested code does not apply, or a
// counter reached its limit meanwhile, nothing is written and the error
// lists why. An order reserved before is redeemed by moving its holds,
// without taking the uses again. The same order id with the same request
// returns the recorded result (Replayed); with another request it is
// EConflict. Checkout keys of the cart's store and admins may redeem.
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
	if sc := pr.Scope(); sc.StoreID != "" && sc.StoreID != storeID {
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
	if len(in.Codes) == 0 || len(in.Codes) > MaxOrderCodes {
		v.Add("codes", "out_of_range", "an order redeems 1 to %d codes", MaxOrderCodes)
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
	if err := v.Err(); err != nil {
		return nil, err
	}
	customerKey, err := in.Customer.Key()
	if err != nil {
		return nil, err
	}
	in.Cart.CustomerID, in.Cart.CustomerKey = in.Customer.CustomerID, customerKey
	return &useReq{ctx: ctx, in: in, codes: codes, hash: requestHash(in, codes), hold: hold}, nil
}

// useOne runs one order's redeem or reserve in tx, on its own: the path of
// an order that was reserved, released or sent before, and of every order
// of a batch that could not be taken at once.
func (s *Service) useOne(ctx context.Context, tx Tx, settings *promokit.Settings, r *useReq, now time.Time) (*RedeemResult, error) {
	in := &r.in
	if err := in.Cart.Validate(settings.Currency); err != nil {
		return nil, err
	}
	state, holdUntil := r.target(now)
	prior, err := tx.OrderRedemptions(ctx, in.Cart.StoreID, in.OrderID)
	if err != nil {
		return nil, err
	}
	if len(prior) > 0 {
		if !bytes.Equal(prior[0].RequestHash, r.hash) {
			return nil, promokit.Errorf(promokit.EConflict, "order %s was redeemed with another request", in.OrderID)
		}
		switch st := prior[0].State; {
		case st == promokit.RedemptionRolledBack:
			return nil, promokit.Errorf(promokit.EConflict, "order %s was cancelled", in.OrderID)
		case st == state || st == promokit.RedemptionRedeemed:
			return &RedeemResult{OrderID: in.OrderID, Redemptions: prior, Replayed: true}, nil
		case st == promokit.RedemptionHeld:
			// Redeem a reserved order: its uses are taken already.
			for _, p := range prior {
				ok, err := tx.SetRedemptionState(ctx, p.ID, promokit.RedemptionHeld, promokit.RedemptionRedeemed, nil, now)
				if err != nil {
					return nil, err
				}
				if !ok {
					return nil, promokit.Errorf(promokit.EConflict, "the hold of order %s ended meanwhile; send the request again", in.OrderID)
				}
				p.State, p.HoldUntil, p.UpdatedAt = promokit.RedemptionRedeemed, nil, now
			}
			return &RedeemResult{OrderID: in.OrderID, Redemptions: prior}, nil
		}
		// Released (a declined payment, an expired hold): take the uses
		// again below, reusing the order's rows.
	}
	priced, cands, err := s.price(ctx, tx, &in.Cart, r.codes, now)
	if err != nil {
		return nil, err
	}
	if len(priced.Rejected) > 0 {
		return nil, refusal(priced.Rejected)
	}
	if err := takeAll(ctx, tx, cands, priced.Applied, in.Cart.CustomerKey); err != nil {
		return nil, err
	}
	res := &RedeemResult{OrderID: in.OrderID, Priced: priced}
	var rows []*promokit.Redemption
	for _, a := range priced.Applied {
		if i := slices.IndexFunc(prior, func(p *promokit.Redemption) bool { return p.Code == a.Code }); i >= 0 {
			p := prior[i]
			ok, err := tx.SetRedemptionState(ctx, p.ID, promokit.RedemptionReleased, state, holdUntil, now)
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
	if err := tx.CreateRedemptions(ctx, rows); err != nil {
		return nil, err
	}
	return res, nil
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
	err := s.store.Write(ctx, func(tx Tx) error {
		now := s.now()
		held, err := tx.ExpiredHolds(ctx, now, limit)
		if err != nil {
			return err
		}
		for _, r := range held {
			ok, err := tx.SetRedemptionState(ctx, r.ID, promokit.RedemptionHeld, promokit.RedemptionReleased, nil, now)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := give(ctx, tx, r); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// takeAll takes one use of every counter of the applied codes: the
// promotions' uses and budgets, then the codes' uses, then the customer's
// counters, each group by id. Every path that takes counters (this one and
// the batches) locks rows in that one order, so that two transactions never
// wait for each other's locks in a cycle. A refusal names the limit that
// stood in the way. A customer's counter of a promotion or code is kept
// only when it has a per-customer limit: limits cannot change once a
// promotion has started, so give finds the same counters to give back.
func takeAll(ctx context.Context, tx Tx, cands []promokit.Candidate, applied []promokit.Applied, customerKey string) error {
	type taking struct {
		cd       *promokit.Candidate
		discount int64
	}
	ts := make([]taking, 0, len(applied))
	for _, a := range applied {
		ts = append(ts, taking{findCandidate(cands, a.Code), a.Discount})
	}
	slices.SortFunc(ts, func(a, b taking) int {
		return cmp.Or(strings.Compare(a.cd.Promotion.ID, b.cd.Promotion.ID), strings.Compare(a.cd.Code.Code, b.cd.Code.Code))
	})
	for _, t := range ts {
		if err := takePromotion(ctx, tx, t.cd, 1, t.discount); err != nil {
			return err
		}
	}
	slices.SortFunc(ts, func(a, b taking) int { return strings.Compare(a.cd.Code.Code, b.cd.Code.Code) })
	for _, t := range ts {
		ok, err := tx.AddCodeUsage(ctx, t.cd.Code.Code, 1)
		if err != nil || !ok {
			return orRefusal(err, t.cd.Code.Code, promokit.ReasonLimitReached, "C3", t.cd.Code.UsageLimit)
		}
	}
	if customerKey == "" {
		return nil
	}
	uses := make([]custTaking, 0, 2*len(ts))
	for _, t := range ts {
		if t.cd.Promotion.PerCustomer != nil {
			uses = append(uses, custTaking{t.cd.Promotion.ID, t.cd, "C1", t.cd.Promotion.PerCustomer})
		}
		if t.cd.Code.PerCustomerLimit != nil {
			uses = append(uses, custTaking{"code:" + t.cd.Code.Code, t.cd, "C3", t.cd.Code.PerCustomerLimit})
		}
	}
	slices.SortFunc(uses, func(a, b custTaking) int { return strings.Compare(a.subject, b.subject) })
	for _, u := range uses {
		ok, err := tx.AddCustomerUsage(ctx, u.subject, customerKey, 1, u.limit)
		if err != nil || !ok {
			return orRefusal(err, u.cd.Code.Code, promokit.ReasonCustomerLimit, u.rule, u.limit)
		}
	}
	return nil
}

// custTaking is one customer counter an order takes.
type custTaking struct {
	subject string
	cd      *promokit.Candidate
	rule    string
	limit   *int64
}

// takePromotion adds n uses and discount to a promotion's counters, or
// refuses with the limit that stood in the way.
func takePromotion(ctx context.Context, tx Tx, cd *promokit.Candidate, n, discount int64) error {
	p := cd.Promotion
	ok, err := tx.AddPromotionUsage(ctx, p.ID, n, discount)
	if err != nil || ok {
		return err
	}
	// Another order took the last use or budget since the cart was
	// priced: read the counters as they are now to say which.
	now, err := tx.GetPromotion(ctx, promokit.Scope{}, p.ID)
	if err != nil {
		return err
	}
	if p.TotalDiscount != nil && (p.TotalUses == nil || now.Uses+n <= *p.TotalUses) {
		return refusal([]promokit.Rejection{promokit.LimitRejection(cd.Code.Code, promokit.ReasonBudgetExhausted, "C2", *p.TotalDiscount, now.DiscountSpent)})
	}
	limit := int64(0)
	if p.TotalUses != nil {
		limit = *p.TotalUses
	}
	return refusal([]promokit.Rejection{promokit.LimitRejection(cd.Code.Code, promokit.ReasonLimitReached, "C2", limit, now.Uses)})
}

func orRefusal(err error, code, reason, rule string, limit *int64) error {
	if err != nil {
		return err
	}
	return refusal([]promokit.Rejection{{Code: code, Reason: reason, Rule: rule, Limit: limit}})
}

// refusal is the error of a redeem refused for the rejections rs.
func refusal(rs []promokit.Rejection) error {
	e := &promokit.Error{Code: RedemptionRefused, Message: "code " + rs[0].Code + " cannot be redeemed: " + rs[0].Reason}
	if rs[0].Rule != "" {
		e.Rule, e.Limit = rs[0].Rule, rs[0].Limit
	}
	for _, r := range rs {
		e.Fields = append(e.Fields, promokit.FieldError{Field: "codes", Code: r.Reason, Message: "code " + r.Code + ": " + r.Reason})
	}
	return e
}

// price prices a cart with codes at now under its store's stacking rule,
// and returns the priced cart, with codes that could not be found among
// its rejections, and the candidates it priced.
func (s *Service) price(ctx context.Context, tx Tx, cart *promokit.Cart, codes []string, now time.Time) (*promokit.PricedCart, []promokit.Candidate, error) {
	d, err := tx.CheckoutRead(ctx, cart.StoreID, nil, codes)
	if err != nil {
		return nil, nil, err
	}
	if d.Store == nil {
		return nil, nil, notFound("store", cart.StoreID)
	}
	var snap snapshot
	snap.add(d.Codes, d.Promotions)
	if err := snap.loadUsage(ctx, tx, []usageOf{{cart.CustomerKey, codes}}); err != nil {
		return nil, nil, err
	}
	priced, cands := snap.price(d.Store, cart, codes, now)
	return priced, cands, nil
}

// snapshot is what pricing needs of the database for a set of codes: the
// codes, their promotions and customers' counters, read once for all the
// carts of a batch.
type snapshot struct {
	codes      map[string]*promokit.Code
	promotions map[string]*promokit.Promotion
	usage      map[UsageKey]int64
}

// add adds codes and promotions read together to what snap holds.
func (snap *snapshot) add(codes []*promokit.Code, promotions []*promokit.Promotion) {
	if snap.codes == nil {
		snap.codes, snap.promotions = make(map[string]*promokit.Code), make(map[string]*promokit.Promotion)
	}
	for _, c := range codes {
		snap.codes[c.Code] = c
	}
	for _, p := range promotions {
		snap.promotions[p.ID] = p
	}
}

// usageOf is a customer and the codes whose counters it needs.
type usageOf struct {
	customerKey string
	codes       []string
}

// loadUsage reads the customers' counters of the promotions and codes
// loaded before.
func (snap *snapshot) loadUsage(ctx context.Context, tx Tx, of []usageOf) error {
	var keys []UsageKey
	for _, u := range of {
		if u.customerKey == "" {
			continue
		}
		for _, v := range u.codes {
			c, ok := snap.codes[v]
			if !ok {
				continue
			}
			// Only limited counters exist, and only they matter.
			if p, ok := snap.promotions[c.PromotionID]; ok && p.PerCustomer != nil {
				keys = append(keys, UsageKey{c.PromotionID, u.customerKey})
			}
			if c.PerCustomerLimit != nil {
				keys = append(keys, UsageKey{"code:" + v, u.customerKey})
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	var err error
	snap.usage, err = tx.CustomerUsages(ctx, keys)
	return err
}

// price prices cart with codes under store's stacking rule at now, from
// the snapshot: codes it does not hold are rejected as not found, first.
// It returns the priced cart and the candidates it priced.
func (snap *snapshot) price(store *promokit.Store, cart *promokit.Cart, codes []string, now time.Time) (*promokit.PricedCart, []promokit.Candidate) {
	cands, refused := snap.candidates(cart.StoreID, cart.CustomerKey, codes)
	priced := promokit.Price(cart, cands, int(store.MaxPromotionsPerOrder), now)
	priced.Rejected = append(append([]promokit.Rejection{}, refused...), priced.Rejected...)
	return priced, cands
}

// candidates returns a cart's candidates from the snapshot, and the codes
// that are missing, foreign or without their promotion as not found.
func (snap *snapshot) candidates(storeID, customerKey string, codes []string) ([]promokit.Candidate, []promokit.Rejection) {
	var (
		out     []promokit.Candidate
		refused []promokit.Rejection
	)
	for _, v := range codes {
		c, ok := snap.codes[v]
		var p *promokit.Promotion
		if ok {
			p, ok = snap.promotions[c.PromotionID]
		}
		if !ok || c.StoreID != storeID || p.StoreID != storeID {
			refused = append(refused, promokit.Rejection{Code: v, Reason: promokit.ReasonNotFound})
			continue
		}
		u := promokit.Usage{PromotionUses: p.Uses, PromotionDiscount: p.DiscountSpent, CodeUses: c.Uses}
		if customerKey != "" {
			u.CustomerUses = snap.usage[UsageKey{p.ID, customerKey}]
			u.CodeCustomerUses = snap.usage[UsageKey{"code:" + v, customerKey}]
		}
		out = append(out, promokit.Candidate{Code: c, Promotion: p, Usage: u})
	}
	return out, refused
}

func findCandidate(cands []promokit.Candidate, code string) *promokit.Candidate {
	for i := range cands {
		if cands[i].Code != nil && cands[i].Code.Code == code {
			return &cands[i]
		}
	}
	return nil
}

// requestHash identifies a redeem request, to tell a retry from another
// order that reuses the id.
func requestHash(in RedeemInput, codes []string) []byte {
	b, _ := json.Marshal(struct {
		Cart        promokit.Cart
		CustomerKey string
		Codes       []string
	}{in.Cart, in.Cart.CustomerKey, codes})
	h := sha256.Sum256(b)
	return h[:]
}

// Rollback gives back the uses of a cancelled order (C4): every redeemed
// code of the order returns its use to each counter, in one transaction;
// held codes are released. It is idempotent: an order already rolled back
// is left as it is. Checkout keys of the store and admins may roll back.
func (s *Service) Rollback(ctx context.Context, storeID, orderID string) ([]*promokit.Redemption, error) {
	return s.giveBack(ctx, storeID, orderID, promokit.RedemptionRedeemed, promokit.RedemptionRolledBack)
}

// giveBack moves an order's redemptions in state from to state to, and
// held ones to released, giving each use back.
func (s *Service) giveBack(ctx context.Context, storeID, orderID, from, to string) ([]*promokit.Redemption, error) {
	if err := checkoutCaller(ctx, storeID); err != nil {
		return nil, err
	}
	var rs []*promokit.Redemption
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		rs, err = giveBackTx(ctx, tx, storeID, orderID, from, to, s.now())
		if err == nil && len(rs) == 0 {
			return notFound("order", orderID)
		}
		return err
	})
	return rs, err
}

// giveBackTx is giveBack inside tx: it returns the order's redemptions
// (none when the order used no code).
func giveBackTx(ctx context.Context, tx Tx, storeID, orderID, from, to string, now time.Time) ([]*promokit.Redemption, error) {
	rs, err := tx.OrderRedemptions(ctx, storeID, orderID)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		target := to
		switch r.State {
		case from:
		case promokit.RedemptionHeld:
			target = promokit.RedemptionReleased
		default:
			continue
		}
		ok, err := tx.SetRedemptionState(ctx, r.ID, r.State, target, nil, now)
		if err != nil || !ok {
			return nil, orConflict(err, orderID)
		}
		if err := give(ctx, tx, r); err != nil {
			return nil, err
		}
		r.State, r.HoldUntil, r.UpdatedAt = target, nil, now
	}
	return rs, nil
}

// give returns one use of a redemption to every counter it took: the
// promotion's and the code's, and the customer's where a per-customer
// limit made takeAll keep one.
func give(ctx context.Context, tx Tx, r *promokit.Redemption) error {
	if _, err := tx.AddPromotionUsage(ctx, r.PromotionID, -1, -r.Discount); err != nil {
		return err
	}
	if _, err := tx.AddCodeUsage(ctx, r.Code, -1); err != nil {
		return err
	}
	if r.CustomerKey == "" {
		return nil
	}
	p, err := tx.GetPromotion(ctx, promokit.Scope{}, r.PromotionID)
	if err != nil {
		return err
	}
	if p.PerCustomer != nil {
		if _, err := tx.AddCustomerUsage(ctx, r.PromotionID, r.CustomerKey, -1, nil); err != nil {
			return err
		}
	}
	c, err := tx.GetCode(ctx, promokit.Scope{}, r.Code)
	if err != nil {
		return err
	}
	if c.PerCustomerLimit != nil {
		_, err = tx.AddCustomerUsage(ctx, "code:"+r.Code, r.CustomerKey, -1, nil)
	}
	return err
}
