package promokit

import "time"

// What each line of an order earns for its payee, and the ledger entries
// that each change of the order writes: an affiliate's commission (A3,
// A4), the marketplace's share of a P4 code's sale (P4), each the claim
// that won the line (O1, DecideLines). Every amount is int64 minor units,
// every rate basis points, and each line's amount is rounded once, half
// away from zero (ApplyRate), on the line's amount net of its refunds. The
// store of the order pays; the line's payee earns.

// Attribute stamps o with the click c that won it (A3) and each line with
// the affiliate claim it earns by (Order.ClaimAffiliate), when no other
// program claims the order's lines: the affiliate program alone, as
// DecideLines decides it. It reports whether o is attributed.
func (o *Order) Attribute(m *Membership, c *Click, rates []*Rate) bool {
	lc := NewLineClaims(o)
	ok := o.ClaimAffiliate(lc, m, c, rates)
	o.DecideLines(lc)
	return ok
}

// LineBalance is what the ledger entries of one order line add up to, by
// status.
type LineBalance struct {
	Pending int64
	Payable int64
}

// LineBalances sums ledger entries of one order per line: an entry that is
// not pending counts as payable. It takes several lists so that the
// entries stored and those an event made so far are summed together.
func LineBalances(entries ...[]*LedgerEntry) map[int]LineBalance {
	out := map[int]LineBalance{}
	for _, es := range entries {
		for _, e := range es {
			b := out[e.Line]
			if e.Status == LedgerPending {
				b.Pending += e.Amount
			} else {
				b.Payable += e.Amount
			}
			out[e.Line] = b
		}
	}
	return out
}

// Commissions computes the ledger entries that one change of an order
// writes for the payees of its lines. Each entry is for one line, and
// carries the line's program, rule and rate and, as its basis, the line's
// amount net of refunds when the entry is written. A line that nothing
// earns on gets no entry, and no entry is ever of zero; bal is the order's
// LineBalances before the change.
type Commissions struct {
	// EventID is the order event that makes the entries; "" when the
	// clock releases commissions.
	EventID string
	// CreatedAt is when the entries are written.
	CreatedAt time.Time
}

// Accrue returns the pending amount of each line of a newly placed order:
// its amount at its rate, rounded once (A4: $100 at 5% is $5; P4: 7¢ at
// the marketplace's 40% is 3¢).
func (c Commissions) Accrue(o *Order) []*LedgerEntry {
	var out []*LedgerEntry
	for i := range o.Lines {
		l := &o.Lines[i]
		if o.payee(l) == "" {
			continue
		}
		if amount := ApplyRate(l.Amount, l.Rate); amount != 0 {
			out = append(out, c.entry(o, l, LedgerPending, EntryAccrued, amount))
		}
	}
	return out
}

// Release returns, for each line with a pending commission, the pair of
// entries that moves it to payable: the order completed and its hold
// passed (A4: the commission is charged only after completion).
func (c Commissions) Release(o *Order, bal map[int]LineBalance) []*LedgerEntry {
	var out []*LedgerEntry
	for i := range o.Lines {
		l := &o.Lines[i]
		if p := bal[l.Line].Pending; p != 0 && o.payee(l) != "" {
			out = append(out,
				c.entry(o, l, LedgerPending, EntryReleased, -p),
				c.entry(o, l, LedgerPayable, EntryReleased, p))
		}
	}
	return out
}

// Reverse returns the entries that take back each line's pending
// commission of a cancelled order.
func (c Commissions) Reverse(o *Order, bal map[int]LineBalance) []*LedgerEntry {
	var out []*LedgerEntry
	for i := range o.Lines {
		l := &o.Lines[i]
		if p := bal[l.Line].Pending; p != 0 && o.payee(l) != "" {
			out = append(out, c.entry(o, l, LedgerPending, EntryReversed, -p))
		}
	}
	return out
}

// Adjust returns the entries of refund r, which o.Refund has applied to
// o's lines. Each refunded line's commission is computed again on its net
// amount, rounded once, and the difference from what its entries add up to
// is written: to pending while the order's commissions are not released
// (adjusted), as a reversal of payable after (reversed). A line whose
// commission does not change gets no entry.
func (c Commissions) Adjust(o *Order, r *Refund, bal map[int]LineBalance) []*LedgerEntry {
	lines := o.lineIndex()
	var out []*LedgerEntry
	for _, rl := range r.Lines {
		l := lines[rl.Line]
		if l == nil || o.payee(l) == "" {
			continue
		}
		b := bal[l.Line]
		delta := ApplyRate(l.Amount-l.Refunded, l.Rate) - (b.Pending + b.Payable)
		switch {
		case delta == 0:
		case !o.Released:
			out = append(out, c.entry(o, l, LedgerPending, EntryAdjusted, delta))
		default:
			out = append(out, c.entry(o, l, LedgerPayable, EntryReversed, delta))
		}
	}
	return out
}

// entry is a ledger entry of line l of o: its store pays the line's
// payee.
func (c Commissions) entry(o *Order, l *OrderLine, status, kind string, amount int64) *LedgerEntry {
	program, rule := l.Program, l.Rule
	if l.Payee == "" {
		program, rule = o.Attribution.Program, RuleAffiliate
	}
	return &LedgerEntry{
		Payer: o.StoreID, Payee: o.payee(l), StoreID: o.StoreID, OrderID: o.ID, Line: l.Line,
		Program: program, Rule: rule, Status: status, Kind: kind, Amount: amount, Currency: o.Currency,
		Basis: l.Amount - l.Refunded, Rate: l.Rate, RateID: l.RateID, EventID: c.EventID, CreatedAt: c.CreatedAt,
	}
}

// payee is the party that earns on line l of o, "" when none does: the
// payee DecideLines stamped on it. A line of an order placed before lines
// recorded their payee earns for the order's click, as it did then.
func (o *Order) payee(l *OrderLine) string {
	if l.Payee != "" {
		return l.Payee
	}
	if o.Attribution != nil {
		return o.Attribution.PartnerID
	}
	return ""
}

// Earns reports whether any line of o earns for a payee: whether its
// changes may write ledger entries.
func (o *Order) Earns() bool {
	for i := range o.Lines {
		if o.payee(&o.Lines[i]) != "" {
			return true
		}
	}
	return false
}
