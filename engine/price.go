package engine

import (
	"context"
	"slices"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// price prices a cart at now under its store's stacking rule, with codes
// and the store's live automatic promotions, and returns the priced cart,
// with codes that could not be found among its rejections, and the
// candidates it priced. expect, when set, holds the automatic promotions
// the cart must apply (snapshot.price).
func (s *Service) price(ctx context.Context, tx storage.Tx, cart *promokit.Cart, codes []string, expect *[]string, now time.Time) (*promokit.PricedCart, []promokit.Candidate, error) {
	d, err := storage.CheckoutRead(ctx, tx, storage.CheckoutQuery{StoreID: cart.StoreID, Codes: codes, Now: now})
	if err != nil {
		return nil, nil, err
	}
	if d.Store == nil {
		return nil, nil, notFound("store", cart.StoreID)
	}
	var snap snapshot
	snap.add(cart.StoreID, d)
	if err := snap.loadUsage(ctx, tx, []storage.CartOf{{StoreID: cart.StoreID, CustomerKey: cart.CustomerKey, Codes: codes}}); err != nil {
		return nil, nil, err
	}
	priced, cands := snap.price(d.Store, cart, codes, expect, now)
	return priced, cands, nil
}

// snapshot is what pricing needs of the database for a set of codes and
// stores: the codes, their promotions, each store's live automatic
// promotions and customers' counters, read once for all the carts of a
// batch.
type snapshot struct {
	codes      map[string]*promokit.Code
	promotions map[string]*promokit.Promotion
	automatic  map[string][]*promokit.Promotion // by store id
	usage      map[storage.UsageKey]int64
}

// add adds what CheckoutRead read of a store to what snap holds.
func (snap *snapshot) add(storeID string, d *storage.CheckoutData) {
	if snap.codes == nil {
		snap.codes, snap.promotions = make(map[string]*promokit.Code), make(map[string]*promokit.Promotion)
		snap.automatic = make(map[string][]*promokit.Promotion)
	}
	for _, c := range d.Codes {
		snap.codes[c.Code] = c
	}
	for _, p := range d.Promotions {
		snap.promotions[p.ID] = p
	}
	snap.automatic[storeID] = d.Automatic
}

// loadUsage reads the customers' counters of the codes and promotions
// loaded before, and of their stores' automatic promotions, in one query.
func (snap *snapshot) loadUsage(ctx context.Context, tx storage.Tx, of []storage.CartOf) error {
	keys := storage.CartUsageKeys(of, snap.codes, func(id string) bool {
		p, ok := snap.promotions[id]
		return ok && p.PerCustomer != nil
	}, snap.automatic)
	if len(keys) == 0 {
		return nil
	}
	var err error
	snap.usage, err = tx.UsageCustomerGetMany(ctx, keys)
	return err
}

// price prices cart under store's stacking rule at now, from the
// snapshot, with codes and the store's automatic promotions ordered
// together by promokit.Price. Codes it does not hold are rejected as not
// found, first. An automatic promotion that does not apply is left out of
// the answer: it was never asked for.
//
// expect, when set, holds the automatic promotions the cart must apply:
// each of them that does not is rejected with its reason (not_found when
// it is not a live automatic promotion of the store), and each other one
// that applies is rejected as not_listed. Those rejections name the
// promotion and have no code. It returns the priced cart and the
// candidates it priced.
func (snap *snapshot) price(store *promokit.Store, cart *promokit.Cart, codes []string, expect *[]string, now time.Time) (*promokit.PricedCart, []promokit.Candidate) {
	cands, refused := snap.candidates(cart.StoreID, cart.CustomerKey, codes)
	for _, p := range snap.automatic[cart.StoreID] {
		u := promokit.Usage{PromotionUses: p.Uses, PromotionDiscount: p.DiscountSpent}
		if cart.CustomerKey != "" {
			u.CustomerUses = snap.usage[promokit.PromotionUsageKey(p.ID, cart.CustomerKey)]
		}
		cands = append(cands, promokit.Candidate{Promotion: p, Usage: u})
	}
	priced := promokit.Price(cart, cands, int(store.MaxPromotionsPerOrder), now)
	rejected := append(make([]promokit.Rejection, 0, len(refused)+len(priced.Rejected)), refused...)
	var out map[string]promokit.Rejection // automatic promotions left out, by id
	for _, r := range priced.Rejected {
		if r.Code == "" {
			if out == nil {
				out = make(map[string]promokit.Rejection)
			}
			out[r.PromotionID] = r
			continue
		}
		rejected = append(rejected, r)
	}
	if expect != nil {
		rejected = append(rejected, unexpected(priced.Applied, out, *expect)...)
	}
	priced.Rejected = rejected
	return priced, cands
}

// unexpected compares the automatic promotions a cart applies with those
// it must apply, want, and returns a rejection for each that differs:
// one of want left out, with the reason it was (not_found when it was not
// a candidate), and one applied that want does not list (not_listed).
func unexpected(applied []promokit.Applied, out map[string]promokit.Rejection, want []string) []promokit.Rejection {
	var rs []promokit.Rejection
	for _, id := range want {
		if slices.ContainsFunc(applied, func(a promokit.Applied) bool { return a.Automatic && a.PromotionID == id }) {
			continue
		}
		r, ok := out[id]
		if !ok {
			r = promokit.Rejection{PromotionID: id, Reason: promokit.ReasonNotFound}
		}
		rs = append(rs, r)
	}
	for _, a := range applied {
		if a.Automatic && !slices.Contains(want, a.PromotionID) {
			rs = append(rs, promokit.Rejection{PromotionID: a.PromotionID, Reason: promokit.ReasonNotListed})
		}
	}
	return rs
}

// appliedAutomatic returns the ids of the automatic promotions a priced
// cart applies, sorted.
func appliedAutomatic(pc *promokit.PricedCart) []string {
	ids := []string{}
	for _, a := range pc.Applied {
		if a.Automatic {
			ids = append(ids, a.PromotionID)
		}
	}
	slices.Sort(ids)
	return ids
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
			u.CustomerUses = snap.usage[promokit.PromotionUsageKey(p.ID, customerKey)]
			u.CodeCustomerUses = snap.usage[promokit.CodeUsageKey(v, customerKey)]
		}
		out = append(out, promokit.Candidate{Code: c, Promotion: p, Usage: u})
	}
	return out, refused
}

// findCandidate returns the candidate of an applied code, or of an
// applied automatic promotion (the codeless candidate of its promotion).
func findCandidate(cands []promokit.Candidate, a promokit.Applied) *promokit.Candidate {
	for i := range cands {
		cd := &cands[i]
		if a.Code == "" {
			if cd.Code == nil && cd.Promotion.ID == a.PromotionID {
				return cd
			}
		} else if cd.Code != nil && cd.Code.Code == a.Code {
			return cd
		}
	}
	return nil
}

// codeOf returns a candidate's code value, "" for an automatic promotion.
func codeOf(cd *promokit.Candidate) string {
	if cd.Code == nil {
		return ""
	}
	return cd.Code.Code
}
