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

// use is Redeem (hold zero) and Reserve.
func (s *Service) use(ctx context.Context, in RedeemInput, hold time.Duration) (*RedeemResult, error) {
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
	hash := requestHash(in, codes)
	state := promokit.RedemptionRedeemed
	if hold > 0 {
		state = promokit.RedemptionHeld
	}
	var res *RedeemResult
	err = s.store.Write(ctx, func(tx Tx) error {
		settings, err := tx.GetSettings(ctx)
		if err != nil {
			return err
		}
		if err := in.Cart.Validate(settings.Currency); err != nil {
			return err
		}
		now := s.now()
		var holdUntil *time.Time
		if hold > 0 {
			t := now.Add(hold)
			holdUntil = &t
		}
		prior, err := tx.OrderRedemptions(ctx, in.Cart.StoreID, in.OrderID)
		if err != nil {
			return err
		}
		if len(prior) > 0 {
			if !bytes.Equal(prior[0].RequestHash, hash) {
				return promokit.Errorf(promokit.EConflict, "order %s was redeemed with another request", in.OrderID)
			}
			switch st := prior[0].State; {
			case st == promokit.RedemptionRolledBack:
				return promokit.Errorf(promokit.EConflict, "order %s was cancelled", in.OrderID)
			case st == state || st == promokit.RedemptionRedeemed:
				res = &RedeemResult{OrderID: in.OrderID, Redemptions: prior, Replayed: true}
				return nil
			case st == promokit.RedemptionHeld:
				// Redeem a reserved order: its uses are taken already.
				for _, r := range prior {
					ok, err := tx.SetRedemptionState(ctx, r.ID, promokit.RedemptionHeld, promokit.RedemptionRedeemed, nil, now)
					if err != nil {
						return err
					}
					if !ok {
						return promokit.Errorf(promokit.EConflict, "the hold of order %s ended meanwhile; send the request again", in.OrderID)
					}
					r.State, r.HoldUntil, r.UpdatedAt = promokit.RedemptionRedeemed, nil, now
				}
				res = &RedeemResult{OrderID: in.OrderID, Redemptions: prior}
				return nil
			}
			// Released (a declined payment, an expired hold): take the
			// uses again below, reusing the order's rows.
		}
		priced, cands, err := s.price(ctx, tx, &in.Cart, codes, now)
		if err != nil {
			return err
		}
		if len(priced.Rejected) > 0 {
			return refusal(priced.Rejected)
		}
		res = &RedeemResult{OrderID: in.OrderID, Priced: priced}
		// Counters are taken in one order (promotion, then code, then
		// customer; by promotion id) so that two orders never wait for
		// each other's locks in a cycle.
		applied := slices.Clone(priced.Applied)
		slices.SortFunc(applied, func(a, b promokit.Applied) int {
			return cmp.Or(strings.Compare(a.PromotionID, b.PromotionID), strings.Compare(a.Code, b.Code))
		})
		for _, a := range applied {
			cd := findCandidate(cands, a.Code)
			if err := take(ctx, tx, cd, customerKey, a.Discount, 1); err != nil {
				return err
			}
			if i := slices.IndexFunc(prior, func(r *promokit.Redemption) bool { return r.Code == a.Code }); i >= 0 {
				r := prior[i]
				ok, err := tx.SetRedemptionState(ctx, r.ID, promokit.RedemptionReleased, state, holdUntil, now)
				if err != nil || !ok {
					return orConflict(err, in.OrderID)
				}
				r.State, r.HoldUntil, r.UpdatedAt = state, holdUntil, now
				res.Redemptions = append(res.Redemptions, r)
				continue
			}
			r := &promokit.Redemption{
				StoreID: in.Cart.StoreID, OrderID: in.OrderID, Code: a.Code, PromotionID: a.PromotionID,
				CustomerKey: customerKey, Discount: a.Discount, State: state, RequestHash: hash,
				HoldUntil: holdUntil, CreatedAt: now, UpdatedAt: now,
			}
			if err := tx.CreateRedemption(ctx, r); err != nil {
				return err
			}
			res.Redemptions = append(res.Redemptions, r)
		}
		return nil
	})
	if err != nil {
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

// take adds n uses (and n times discount) to every counter of a candidate,
// or refuses with the limit that stood in the way. A known customer's
// counters are kept whether or not a per-customer limit applies, so that
// a rollback gives back exactly what was taken.
func take(ctx context.Context, tx Tx, cd *promokit.Candidate, customerKey string, discount, n int64) error {
	p, c := cd.Promotion, cd.Code
	ok, err := tx.AddPromotionUsage(ctx, p.ID, n, n*discount)
	if err != nil {
		return err
	}
	if !ok {
		// Another order took the last use or budget since the cart was
		// priced: read the counters as they are now to say which.
		now, err := tx.GetPromotion(ctx, promokit.Scope{}, p.ID)
		if err != nil {
			return err
		}
		if p.TotalDiscount != nil && (p.TotalUses == nil || now.Uses+n <= *p.TotalUses) {
			return refusal([]promokit.Rejection{promokit.LimitRejection(c.Code, promokit.ReasonBudgetExhausted, "C2", *p.TotalDiscount, now.DiscountSpent)})
		}
		limit := int64(0)
		if p.TotalUses != nil {
			limit = *p.TotalUses
		}
		return refusal([]promokit.Rejection{promokit.LimitRejection(c.Code, promokit.ReasonLimitReached, "C2", limit, now.Uses)})
	}
	if ok, err = tx.AddCodeUsage(ctx, c.Code, n); err != nil || !ok {
		return orRefusal(err, c.Code, promokit.ReasonLimitReached, "C3", c.UsageLimit)
	}
	if customerKey == "" {
		return nil
	}
	if ok, err = tx.AddCustomerUsage(ctx, p.ID, customerKey, n, p.PerCustomer); err != nil || !ok {
		return orRefusal(err, c.Code, promokit.ReasonCustomerLimit, "C1", p.PerCustomer)
	}
	if ok, err = tx.AddCustomerUsage(ctx, "code:"+c.Code, customerKey, n, c.PerCustomerLimit); err != nil || !ok {
		return orRefusal(err, c.Code, promokit.ReasonCustomerLimit, "C3", c.PerCustomerLimit)
	}
	return nil
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
	store, err := tx.GetStore(ctx, cart.StoreID, false)
	if err != nil {
		return nil, nil, err
	}
	cands, refused, err := s.candidates(ctx, tx, cart.StoreID, cart.CustomerKey, codes)
	if err != nil {
		return nil, nil, err
	}
	priced := promokit.Price(cart, cands, int(store.MaxPromotionsPerOrder), now)
	priced.Rejected = append(append([]promokit.Rejection{}, refused...), priced.Rejected...)
	return priced, cands, nil
}

// candidates loads the codes of an order with their promotions and usage;
// codes missing or of another store are rejected as not found.
func (s *Service) candidates(ctx context.Context, tx Tx, storeID, customerKey string, codes []string) ([]promokit.Candidate, []promokit.Rejection, error) {
	var (
		out     []promokit.Candidate
		refused []promokit.Rejection
	)
	for _, value := range codes {
		c, err := tx.GetCode(ctx, promokit.Scope{StoreID: storeID}, value)
		if isNotFound(err) {
			refused = append(refused, promokit.Rejection{Code: value, Reason: promokit.ReasonNotFound})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		p, err := tx.GetPromotion(ctx, promokit.Scope{StoreID: storeID}, c.PromotionID)
		if err != nil {
			return nil, nil, err
		}
		u := promokit.Usage{PromotionUses: p.Uses, PromotionDiscount: p.DiscountSpent, CodeUses: c.Uses}
		if customerKey != "" {
			if u.CustomerUses, err = tx.CustomerUsage(ctx, p.ID, customerKey); err != nil {
				return nil, nil, err
			}
			if u.CodeCustomerUses, err = tx.CustomerUsage(ctx, "code:"+c.Code, customerKey); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, promokit.Candidate{Code: c, Promotion: p, Usage: u})
	}
	return out, refused, nil
}

func findCandidate(cands []promokit.Candidate, code string) *promokit.Candidate {
	for i := range cands {
		if cands[i].Code.Code == code {
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
		if rs, err = tx.OrderRedemptions(ctx, storeID, orderID); err != nil {
			return err
		}
		if len(rs) == 0 {
			return notFound("order", orderID)
		}
		now := s.now()
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
				return orConflict(err, orderID)
			}
			if err := give(ctx, tx, r); err != nil {
				return err
			}
			r.State, r.HoldUntil, r.UpdatedAt = target, nil, now
		}
		return nil
	})
	return rs, err
}

// give returns one use of a redemption to every counter it took.
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
	if _, err := tx.AddCustomerUsage(ctx, r.PromotionID, r.CustomerKey, -1, nil); err != nil {
		return err
	}
	_, err := tx.AddCustomerUsage(ctx, "code:"+r.Code, r.CustomerKey, -1, nil)
	return err
}
