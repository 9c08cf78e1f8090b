package sqlite

import "github.com/promokit/promokit"

// The two sides of a party's money. Ledger entries and payouts name a
// payer and a payee; a party's rows are those it pays or is paid, and a
// counterparty narrows them to those with it on the other side. The
// conditions are written here once, for the payouts' queries and the
// ledger's lists and sums.

// partySide is one side a party's rows are on: the column that names the
// party, which is also the side's name (promokit.SidePayer, SidePayee),
// and the column that names its counterparty.
type partySide struct {
	column, other string
}

// partySides are the two sides: the party pays, or it is paid. A ledger
// list or sum reads each on its own index (ledger_payer, ledger_payee).
var partySides = [2]partySide{{promokit.SidePayer, promokit.SidePayee}, {promokit.SidePayee, promokit.SidePayer}}

// cond returns the condition that a row (of the table aliased prefix,
// such as "p.", or "") has party on side s and, when counterparty is not
// "", counterparty on the other, with a ? for each of its arguments.
func (s partySide) cond(prefix, party, counterparty string) (string, []any) {
	if counterparty == "" {
		return prefix + s.column + " = ?", []any{party}
	}
	return prefix + s.column + " = ? AND " + prefix + s.other + " = ?", []any{party, counterparty}
}

// betweenCond returns the condition that a row has party on either side
// and, when counterparty is not "", counterparty on the other, and its
// arguments.
func betweenCond(prefix, party, counterparty string) (string, []any) {
	a, aArgs := partySides[0].cond(prefix, party, counterparty)
	b, bArgs := partySides[1].cond(prefix, party, counterparty)
	return "((" + a + ") OR (" + b + "))", append(aArgs, bArgs...)
}
