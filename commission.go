package promokit

import "time"

// Commissions of the affiliate program (DOMAIN.md A3, A4): which rate each
// line of an attributed order earns, and the ledger entries that each
// change of the order writes. Every amount is int64 minor units, every
// rate basis points, and each line's commission is rounded once, half away
// from zero (ApplyRate), on the line's amount net of its refunds.

// Attribute stamps o with the click c that won it (A3) when membership m
// covers the order's time, and gives each line the rate in force at that
// time (A4): its product's own rate, else the general rate (source
// "general"), else none. rates are the store's rates in force at the
// order's time, as the storage reads them: at most one per product and one
// general; a product's removed rate gives the product the general rate
// again. Every line of the store's order earns, not only the linked
// product. Attribute reports whether o is attributed; a nil click, or a
// store outside the program at the order's time, leaves o unattributed.
func (o *Order) Attribute(m *Membership, c *Click, rates []*Rate) bool {
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
		l.Rate, l.RateID, l.RateSource = r.Rate, r.ID, source
	}
	return true
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

// Commissions computes the ledger entries that one change of an attributed
// order writes for its partner. Each entry is for one line, and carries
// the line's rate and, as its basis, the line's amount net of refunds when
// the entry is written. Each method returns no entry for an order that is
// not attributed, and never an entry of zero; bal is the order's
// LineBalances before the change.
type Commissions struct {
	// EventID is the order event that makes the entries; "" when the
	// clock releases commissions.
	EventID string
	// CreatedAt is when the entries are written.
	CreatedAt time.Time
}

// Accrue returns the pending commission of each line of a newly placed
// order: its amount at its rate, rounded once (A4; $100 at 5% is $5).
func (c Commissions) Accrue(o *Order) []*LedgerEntry {
	if o.Attribution == nil {
		return nil
	}
	var out []*LedgerEntry
	for i := range o.Lines {
		l := &o.Lines[i]
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
	if o.Attribution == nil {
		return nil
	}
	var out []*LedgerEntry
	for i := range o.Lines {
		l := &o.Lines[i]
		if p := bal[l.Line].Pending; p != 0 {
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
	if o.Attribution == nil {
		return nil
	}
	var out []*LedgerEntry
	for i := range o.Lines {
		l := &o.Lines[i]
		if p := bal[l.Line].Pending; p != 0 {
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
	if o.Attribution == nil {
		return nil
	}
	lines := o.lineIndex()
	var out []*LedgerEntry
	for _, rl := range r.Lines {
		l := lines[rl.Line]
		if l == nil {
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

// entry is a ledger entry of o's partner for line l.
func (c Commissions) entry(o *Order, l *OrderLine, status, kind string, amount int64) *LedgerEntry {
	return &LedgerEntry{
		Payer: o.StoreID, Payee: o.Attribution.PartnerID, StoreID: o.StoreID, OrderID: o.ID, Line: l.Line,
		Program: o.Attribution.Program, Rule: RuleAffiliate, Status: status, Kind: kind, Amount: amount, Currency: o.Currency,
		Basis: l.Amount - l.Refunded, Rate: l.Rate, RateID: l.RateID, EventID: c.EventID, CreatedAt: c.CreatedAt,
	}
}
