package promokit_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
)

// TestDecide: every precedence case of O1, each claim beside each claim
// it must beat, in both orders.
func TestDecide(t *testing.T) {
	t.Parallel()
	envelope := promokit.Claim{Program: promokit.ProgramEnvelope, Rule: promokit.RuleEnvelope, Code: "RED-1", PartnerID: "ptn_promoter"}
	task := promokit.Claim{Program: promokit.ProgramTask, Rule: promokit.RuleTask, Code: "TASK-1", PartnerID: "ptn_influencer"}
	p4 := promokit.Claim{Program: promokit.ProgramPartnerCode, Rule: promokit.RulePartnerCode, Code: "SELLER-1"}
	click := promokit.Claim{Program: promokit.ProgramAffiliate, Rule: promokit.RuleAffiliate, PartnerID: "ptn_affiliate"}
	for _, tc := range []struct {
		name   string
		claims []promokit.Claim
		want   promokit.Claim
		ok     bool
	}{
		{"no claim: nobody earns", nil, promokit.Claim{}, false},
		{"a click alone", []promokit.Claim{click}, click, true},
		{"a P4 code alone", []promokit.Claim{p4}, p4, true},
		{"a task code alone", []promokit.Claim{task}, task, true},
		{"an envelope alone", []promokit.Claim{envelope}, envelope, true},
		{"envelope over task", []promokit.Claim{task, envelope}, envelope, true},
		{"envelope over P4", []promokit.Claim{p4, envelope}, envelope, true},
		{"envelope over click", []promokit.Claim{click, envelope}, envelope, true},
		{"task over P4", []promokit.Claim{p4, task}, task, true},
		{"task over click", []promokit.Claim{click, task}, task, true},
		{"P4 over click", []promokit.Claim{click, p4}, p4, true},
		{"all four", []promokit.Claim{click, p4, task, envelope}, envelope, true},
		{"all but the envelope", []promokit.Claim{click, task, p4}, task, true},
		{"two task codes: the smaller code", []promokit.Claim{
			{Program: promokit.ProgramTask, Rule: promokit.RuleTask, Code: "TASK-9", PartnerID: "ptn_b"}, task}, task, true},
		{"an unknown program loses to every known one", []promokit.Claim{{Program: "lottery", Code: "A"}, click}, click, true},
	} {
		for _, claims := range [][]promokit.Claim{tc.claims, reversed(tc.claims)} {
			got, ok := promokit.Decide(claims)
			if ok != tc.ok || got != tc.want {
				t.Errorf("%s: Decide(%v) = %+v, %v; want %+v, %v", tc.name, claims, got, ok, tc.want, tc.ok)
			}
		}
	}
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// TestRedeemedCodes: the codes an order event names are normalised and
// matched with the order's redemptions; the others are reported.
func TestRedeemedCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		named, redeemed []string
		ok, unredeemed  []string
	}{
		{"none", nil, []string{"SPRING"}, nil, nil},
		{"normalised before matching", []string{" spring ", "Summer-1"}, []string{"SPRING", "summer-1"}, []string{"SPRING", "SUMMER-1"}, nil},
		{"a code the order did not redeem", []string{"SPRING", "STOLEN"}, []string{"SPRING"}, []string{"SPRING"}, []string{"STOLEN"}},
		{"duplicates count once", []string{"spring", "SPRING", "stolen", "Stolen"}, []string{"SPRING"}, []string{"SPRING"}, []string{"STOLEN"}},
		{"empty values are ignored", []string{"", "  "}, nil, nil, nil},
		{"an order without redemptions", []string{"SPRING"}, nil, nil, []string{"SPRING"}},
	} {
		ok, unredeemed := promokit.RedeemedCodes(tc.named, tc.redeemed)
		if diff := cmp.Diff(tc.ok, ok); diff != "" {
			t.Errorf("%s: redeemed (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.unredeemed, unredeemed); diff != "" {
			t.Errorf("%s: not redeemed (-want +got):\n%s", tc.name, diff)
		}
	}
}

// p4Order is an order of sto_1 with lines of p1 (1000), p2 (2500) and p3
// (7), placed with a click of par_1 at sto_1's general rate of 5%.
func p4Order(t *testing.T) (*promokit.Order, promokit.LineClaims) {
	t.Helper()
	o := testOrder(t, promokit.OrderPlaced)
	o.Lines = append(o.Lines, promokit.OrderLine{Line: 2, ProductID: "p3", Quantity: 1, Amount: 7})
	lc := promokit.NewLineClaims(o)
	if !o.ClaimAffiliate(lc, member, click, []*promokit.Rate{general}) {
		t.Fatal("ClaimAffiliate: not attributed")
	}
	return o, lc
}

// TestClaimPartnerCodes: a P4 code the order redeemed claims, for the
// marketplace, the lines its promotion covers, and beats the click there
// (O1); every line records the claim that won it.
func TestClaimPartnerCodes(t *testing.T) {
	t.Parallel()
	p4Store := &promokit.Store{ID: "sto_1", PartnerPromoCodes: true}
	pol := marketplacePolicy(t).PartnerCodes
	promo := func(id string, channel promokit.Channel, products ...string) *promokit.Promotion {
		return &promokit.Promotion{ID: id, StoreID: "sto_1", Channel: channel, ProductIDs: products}
	}
	red := func(code, promotionID, state string) *promokit.Redemption {
		return &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-1", Code: code, PromotionID: promotionID, State: state}
	}
	promos := []*promokit.Promotion{
		promo("prm_p1", promokit.ChannelStore, "p1", "p3"),
		promo("prm_p2", promokit.ChannelStore, "p2"),
		promo("prm_task", promokit.ChannelPartner, "p2"),
		promo("prm_env", promokit.ChannelPlatform, "p2"),
	}
	type won struct {
		program, rule, code, payee string
		rate                       promokit.BasisPoints
		source                     string
	}
	clicked := won{promokit.ProgramAffiliate, promokit.RuleAffiliate, "", "par_1", 500, "general"}
	p4 := func(code string) won {
		return won{promokit.ProgramPartnerCode, promokit.RulePartnerCode, code, promokit.Marketplace, 4000, promokit.RateSourcePolicy}
	}
	for _, tc := range []struct {
		name  string
		store *promokit.Store
		reds  []*promokit.Redemption
		want  [3]won
	}{
		{"no code: the click earns every line", p4Store, nil, [3]won{clicked, clicked, clicked}},
		{"a P4 code wins the lines it covers", p4Store, []*promokit.Redemption{red("SELLER-1", "prm_p1", promokit.RedemptionRedeemed)},
			[3]won{p4("SELLER-1"), clicked, p4("SELLER-1")}},
		{"a held use counts", p4Store, []*promokit.Redemption{red("SELLER-2", "prm_p2", promokit.RedemptionHeld)},
			[3]won{clicked, p4("SELLER-2"), clicked}},
		{"two codes on one line: the smaller code", p4Store, []*promokit.Redemption{
			red("SELLER-9", "prm_p1", promokit.RedemptionRedeemed), red("SELLER-1", "prm_p1", promokit.RedemptionRedeemed)},
			[3]won{p4("SELLER-1"), clicked, p4("SELLER-1")}},
		{"a use given back claims nothing", p4Store, []*promokit.Redemption{
			red("SELLER-1", "prm_p1", promokit.RedemptionRolledBack), red("SELLER-2", "prm_p2", promokit.RedemptionReleased)},
			[3]won{clicked, clicked, clicked}},
		{"a store outside P4 claims nothing", &promokit.Store{ID: "sto_1"},
			[]*promokit.Redemption{red("SELLER-1", "prm_p1", promokit.RedemptionRedeemed)}, [3]won{clicked, clicked, clicked}},
		{"a task's or an envelope's promotion is not P4", p4Store, []*promokit.Redemption{
			red("TASK-1", "prm_task", promokit.RedemptionRedeemed), red("RED-1", "prm_env", promokit.RedemptionRedeemed)},
			[3]won{clicked, clicked, clicked}},
		{"an unknown promotion claims nothing", p4Store, []*promokit.Redemption{red("GONE-1", "prm_gone", promokit.RedemptionRedeemed)},
			[3]won{clicked, clicked, clicked}},
		{"a codeless redemption claims nothing", p4Store, []*promokit.Redemption{red("", "prm_p1", promokit.RedemptionRedeemed)},
			[3]won{clicked, clicked, clicked}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, lc := p4Order(t)
			o.ClaimPartnerCodes(lc, tc.store, tc.reds, promos, pol)
			o.DecideLines(lc)
			for i, l := range o.Lines {
				got := won{l.Program, l.Rule, l.Code, l.Payee, l.Rate, l.RateSource}
				if got != tc.want[i] {
					t.Errorf("line %d: %+v, want %+v", i, got, tc.want[i])
				}
			}
		})
	}

	// Without a click a P4 line still earns, and a line nothing claims
	// earns nothing.
	o := testOrder(t, promokit.OrderPlaced)
	lc := promokit.NewLineClaims(o)
	o.ClaimPartnerCodes(lc, p4Store, []*promokit.Redemption{red("SELLER-1", "prm_p1", promokit.RedemptionRedeemed)}, promos, pol)
	o.DecideLines(lc)
	if l := o.Lines[0]; l.Payee != promokit.Marketplace || l.Rate != 4000 {
		t.Errorf("P4 line without a click: %+v", l)
	}
	if l := o.Lines[1]; l.Payee != "" || l.Program != "" || l.Rate != 0 {
		t.Errorf("unclaimed line: %+v", l)
	}
	if !o.Earns() || o.Attribution != nil {
		t.Errorf("Earns = %v, attribution %+v", o.Earns(), o.Attribution)
	}
}

// TestSplitPartnerCodeLine: the P4 split to the cent. The marketplace's
// part is the line at its share rounded half away from zero, the seller
// keeps the rest, and the parts add up to the line exactly.
func TestSplitPartnerCodeLine(t *testing.T) {
	t.Parallel()
	pol := marketplacePolicy(t).PartnerCodes // 60% the seller's
	for _, tc := range []struct {
		net, marketplace, seller int64
		sellerShare              promokit.BasisPoints
	}{
		{7, 3, 4, 6000},           // 2.8 → 3
		{1, 0, 1, 6000},           // 0.4 → 0
		{5, 2, 3, 6000},           // 2.0
		{10000, 4000, 6000, 6000}, // $100 → $40 / $60
		{9999, 4000, 5999, 6000},  // 3999.6 → 4000
		{3, 2, 1, 5000},           // 1.5 → 2: half away from zero
		{1, 1, 0, 5000},           // 0.5 → 1
		{7, 7, 0, 0},              // the seller's share at 0: all the marketplace's
		{7, 0, 7, 10000},          // at 100%: all the seller's
		{promokit.MaxAmount, promokit.MaxAmount / 10 * 4, promokit.MaxAmount / 10 * 6, 6000},
	} {
		pol.PartnerShare = tc.sellerShare
		m, s := promokit.SplitPartnerCodeLine(tc.net, pol)
		if m != tc.marketplace || s != tc.seller || m+s != tc.net {
			t.Errorf("split %d at a seller's share of %d: %d / %d, want %d / %d", tc.net, tc.sellerShare, m, s, tc.marketplace, tc.seller)
		}
	}
}

func marketplacePolicy(t *testing.T) promokit.Policy {
	t.Helper()
	p, ok := promokit.PolicyPreset(promokit.PresetMarketplace)
	if !ok {
		t.Fatal("no marketplace preset")
	}
	return p
}
