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
// that grounds it, the code it rests on ("" for a click) and the partner
// who would earn ("" when only the marketplace and the store share it, as
// under P4).
type Claim struct {
	Program   string `json:"program"`
	Rule      string `json:"rule"`
	Code      string `json:"code,omitempty"`
	PartnerID string `json:"partner_id,omitempty"`
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
