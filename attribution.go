package promokit

import (
	"cmp"
	"slices"
)

// One attribution per order line (DOMAIN.md O1). Several programs may
// claim a line of an order: a red envelope the buyer used on the first
// payment (R2), the code of an influencer task (I3), a seller's partner
// code (P4) and the click of an affiliate link (A3). Exactly one earns on
// the line, so that an order never pays two programs for the same line;
// the engine gathers each line's claims and Decide picks the winner, whose
// program and rule every ledger entry of the line records.

// Programs that may earn on an order line, besides ProgramAffiliate.
const (
	ProgramEnvelope    = "red_envelope" // a platform red envelope (R2, R3)
	ProgramTask        = "task"         // an influencer task's code (I3)
	ProgramPartnerCode = "partner_code" // a P4 seller's code (P4)
)

// The rules that ground each program's claim on a line.
const (
	RuleEnvelope    = "R2" // used on the first payment of a participating line
	RuleTask        = "I3" // a task code the order redeemed, covering the line
	RulePartnerCode = "P4" // a P4 code the order redeemed, covering the line
	RuleAffiliate   = "A3" // the latest qualifying click on a link of the store
)

// Claim is one program's claim on an order line: the program, the rule
// that grounds it, the code it rests on ("" for a click), the partner who
// would earn ("" when only the marketplace and the store share it, as
// under P4) and the rate the line would earn at, in force when the order
// was placed: its id and its source ("product" or "general" for an
// affiliate rate, "policy" for a share the marketplace's policy sets).
type Claim struct {
	Program    string      `json:"program"`
	Rule       string      `json:"rule"`
	Code       string      `json:"code,omitempty"`
	PartnerID  string      `json:"partner_id,omitempty"`
	Rate       BasisPoints `json:"rate_bp"`
	RateID     int64       `json:"rate_id,omitempty"`
	RateSource string      `json:"rate_source,omitempty"`
}

// Payee is the party that earns on a line the claim wins: its partner,
// else the marketplace (a P4 code's share is the marketplace's fee).
func (c Claim) Payee() string {
	if c.PartnerID != "" {
		return c.PartnerID
	}
	return Marketplace
}

// RateSourcePolicy is the source of a rate that the marketplace's policy
// sets rather than the store (P4's share).
const RateSourcePolicy = "policy"

// LineClaims are the claims on each line of an order, by the line's index
// in Order.Lines. Each program adds its claims with a function of its own
// (Order.ClaimAffiliate, Order.ClaimPartnerCodes; a red envelope's and an
// influencer task's come with those programs), and Order.DecideLines picks
// each line's winner in one place.
type LineClaims [][]Claim

// NewLineClaims returns the empty claims of o's lines.
func NewLineClaims(o *Order) LineClaims { return make(LineClaims, len(o.Lines)) }

// DecideLines stamps each line of o with the claim that wins it (Decide,
// O1): its program, rule, code, payee and rate. A line without a claim
// earns nothing and keeps none of them. Every ledger entry of the line
// then names that program and rule (Commissions).
func (o *Order) DecideLines(lc LineClaims) {
	for i := range o.Lines {
		l := &o.Lines[i]
		var claims []Claim
		if i < len(lc) {
			claims = lc[i]
		}
		won, ok := Decide(claims)
		if !ok {
			continue
		}
		l.Program, l.Rule, l.Code, l.Payee = won.Program, won.Rule, won.Code, won.Payee()
		l.Rate, l.RateID, l.RateSource = won.Rate, won.RateID, won.RateSource
	}
}

// ClaimAffiliate stamps o with the click c that won it (A3) when
// membership m covers the order's time, and adds to lc, on every line the
// store has a rate for, the claim of the click's partner at the rate in
// force at that time (A4): the line's product's own rate (source
// "product"), else the general rate ("general"). rates are the store's
// rates in force at the order's time, as the storage reads them: at most
// one per product and one general; a product's removed rate gives the
// product the general rate again. Every line of the store's order is
// claimed, not only the linked product's. It reports whether o is
// attributed; a nil click, or a store outside the program at the order's
// time, leaves o unattributed and lc untouched.
func (o *Order) ClaimAffiliate(lc LineClaims, m *Membership, c *Click, rates []*Rate) bool {
	if !m.ActiveAt(o.PlacedAt) || c == nil {
		return false
	}
	o.Attribution = &Attribution{
		Program: ProgramAffiliate, LinkID: c.LinkID, PartnerID: c.PartnerID, ClickID: c.ID, ClickedAt: c.ClickedAt,
	}
	var general *Rate
	own := map[string]*Rate{}
	for _, r := range rates {
		if r.ProductID == "" {
			general = r
		} else if !r.Removed {
			own[r.ProductID] = r
		}
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		r, source := own[l.ProductID], "product"
		if r == nil {
			r, source = general, "general"
		}
		if r == nil {
			continue
		}
		lc[i] = append(lc[i], Claim{
			Program: ProgramAffiliate, Rule: RuleAffiliate, PartnerID: c.PartnerID,
			Rate: r.Rate, RateID: r.ID, RateSource: source,
		})
	}
	return true
}

// ClaimPartnerCodes adds to lc the claims of the P4 codes that o redeemed
// (P4): when o's store runs under the P4 policy (st.PartnerPromoCodes),
// each of its redemptions that holds a use (held or redeemed) of a code of
// one of the store's own promotions (channel store) claims every line whose
// product that promotion covers, for the marketplace, at its share of the
// line (10000 − pol.PartnerShare, the seller keeping pol.PartnerShare), the
// share in force when the order is placed. promos are the promotions of the
// redemptions, by any order; a redemption whose promotion is missing, a
// codeless one (an automatic promotion) and one that gave its use back
// claim nothing.
func (o *Order) ClaimPartnerCodes(lc LineClaims, st *Store, reds []*Redemption, promos []*Promotion, pol PartnerCodePolicy) {
	if st == nil || !st.PartnerPromoCodes {
		return
	}
	byID := make(map[string]*Promotion, len(promos))
	for _, p := range promos {
		byID[p.ID] = p
	}
	for _, r := range reds {
		if r.Code == "" || r.StoreID != o.StoreID || r.OrderID != o.ID ||
			r.State != RedemptionRedeemed && r.State != RedemptionHeld {
			continue
		}
		p := byID[r.PromotionID]
		if p == nil || p.StoreID != o.StoreID || p.Channel != ChannelStore {
			continue
		}
		for i := range o.Lines {
			if p.AppliesTo(o.Lines[i].ProductID) {
				lc[i] = append(lc[i], Claim{
					Program: ProgramPartnerCode, Rule: RulePartnerCode, Code: r.Code,
					Rate: MarketplaceShare(pol), RateSource: RateSourcePolicy,
				})
			}
		}
	}
}

// MarketplaceShare is the marketplace's share of a P4 line (P4): what the
// seller's share (partner_share_bp) leaves of the whole, 40% by default.
func MarketplaceShare(pol PartnerCodePolicy) BasisPoints {
	return 10000 - pol.PartnerShare
}

// SplitPartnerCodeLine splits a P4 line's net amount between the
// marketplace and the seller (P4): the marketplace's part is the amount
// at its share, rounded once, half away from zero (ApplyRate), and the
// seller keeps the rest, so that the parts add up to the amount exactly:
// 7¢ at 40% is 3¢ for the marketplace and 4¢ for the seller.
func SplitPartnerCodeLine(net int64, pol PartnerCodePolicy) (marketplace, seller int64) {
	marketplace = ApplyRate(net, MarketplaceShare(pol))
	return marketplace, net - marketplace
}

// claimRank is the precedence of O1: the lower rank wins. An unknown
// program ranks after every known one.
func claimRank(program string) int {
	switch program {
	case ProgramEnvelope:
		return 0
	case ProgramTask:
		return 1
	case ProgramPartnerCode:
		return 2
	case ProgramAffiliate:
		return 3
	}
	return 4
}

// Decide returns the claim that earns on a line among its claims (O1): a
// red envelope used on the first payment, then an influencer task code,
// then a P4 code, then an affiliate click. Between two claims of one
// program (two task codes on one line) the smaller code wins, so that the
// choice never depends on the order the claims come in. ok is false when
// the line has no claim: nobody earns on it.
func Decide(claims []Claim) (won Claim, ok bool) {
	if len(claims) == 0 {
		return Claim{}, false
	}
	return slices.MinFunc(claims, func(a, b Claim) int {
		return cmp.Or(cmp.Compare(claimRank(a.Program), claimRank(b.Program)), cmp.Compare(a.Code, b.Code))
	}), true
}

// RedeemedCodes splits the codes an order event names into those the
// order redeemed and those it did not. Both lists are normalised
// (NormalizeCode), without duplicates, in the order the event gives; a
// code the order did not redeem earns nothing and is reported back to the
// caller. redeemed are the codes of the order's redemptions.
func RedeemedCodes(named, redeemed []string) (ok, unredeemed []string) {
	have := make(map[string]bool, len(redeemed))
	for _, c := range redeemed {
		have[NormalizeCode(c)] = true
	}
	seen := make(map[string]bool, len(named))
	for _, c := range named {
		c = NormalizeCode(c)
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		if have[c] {
			ok = append(ok, c)
		} else {
			unredeemed = append(unredeemed, c)
		}
	}
	return ok, unredeemed
}
