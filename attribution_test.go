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
