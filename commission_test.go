package promokit_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
)

var (
	joinedAt = placedAt.AddDate(0, 0, -30)
	member   = &promokit.Membership{ID: "mem_1", StoreID: "sto_1", JoinedAt: joinedAt}
	click    = &promokit.Click{ID: 7, LinkID: "lnk_1", StoreID: "sto_1", PartnerID: "par_1", VisitorID: "v", ClickedAt: placedAt.Add(-time.Hour)}
	general  = &promokit.Rate{ID: 1, StoreID: "sto_1", Rate: 500}
	ownP1    = &promokit.Rate{ID: 2, StoreID: "sto_1", ProductID: "p1", Rate: 1200}
)

func TestOrderAttribute(t *testing.T) {
	t.Parallel()
	exited := &promokit.Membership{JoinedAt: joinedAt, ExitsAt: timePtr(placedAt)}
	exitsLater := &promokit.Membership{JoinedAt: joinedAt, ExitsAt: timePtr(placedAt.Add(time.Microsecond))}
	joinsLater := &promokit.Membership{JoinedAt: placedAt.Add(time.Microsecond)}
	joinedThen := &promokit.Membership{JoinedAt: placedAt}
	removedP1 := &promokit.Rate{ID: 3, StoreID: "sto_1", ProductID: "p1", Rate: 1200, Removed: true}
	type rate struct {
		bp     promokit.BasisPoints
		id     int64
		source string
	}
	for _, tt := range []struct {
		name       string
		membership *promokit.Membership
		click      *promokit.Click
		rates      []*promokit.Rate
		attributed bool
		lines      [2]rate
	}{
		{name: "own and general rates", membership: member, click: click, rates: []*promokit.Rate{general, ownP1}, attributed: true,
			lines: [2]rate{{1200, 2, "product"}, {500, 1, "general"}}},
		{name: "the general rate alone", membership: member, click: click, rates: []*promokit.Rate{general}, attributed: true,
			lines: [2]rate{{500, 1, "general"}, {500, 1, "general"}}},
		{name: "a removed own rate gives the general", membership: member, click: click, rates: []*promokit.Rate{removedP1, general}, attributed: true,
			lines: [2]rate{{500, 1, "general"}, {500, 1, "general"}}},
		{name: "an own rate without a general", membership: member, click: click, rates: []*promokit.Rate{ownP1}, attributed: true,
			lines: [2]rate{{1200, 2, "product"}, {}}},
		{name: "no rate", membership: member, click: click, attributed: true},
		{name: "joined at the order's time", membership: joinedThen, click: click, rates: []*promokit.Rate{general}, attributed: true,
			lines: [2]rate{{500, 1, "general"}, {500, 1, "general"}}},
		{name: "exits just after the order", membership: exitsLater, click: click, rates: []*promokit.Rate{general}, attributed: true,
			lines: [2]rate{{500, 1, "general"}, {500, 1, "general"}}},
		{name: "no click", membership: member, rates: []*promokit.Rate{general}},
		{name: "never joined", click: click, rates: []*promokit.Rate{general}},
		{name: "joined after the order", membership: joinsLater, click: click, rates: []*promokit.Rate{general}},
		{name: "exited at the order's time", membership: exited, click: click, rates: []*promokit.Rate{general}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOrder(t, promokit.OrderPlaced)
			if got := o.Attribute(tt.membership, tt.click, tt.rates); got != tt.attributed {
				t.Fatalf("Attribute = %v, want %v", got, tt.attributed)
			}
			var want *promokit.Attribution
			if tt.attributed {
				want = &promokit.Attribution{Program: promokit.ProgramAffiliate, LinkID: "lnk_1", PartnerID: "par_1", ClickID: 7, ClickedAt: click.ClickedAt}
			}
			if diff := cmp.Diff(want, o.Attribution); diff != "" {
				t.Errorf("attribution (-want +got):\n%s", diff)
			}
			for i, l := range o.Lines {
				if got := (rate{l.Rate, l.RateID, l.RateSource}); got != tt.lines[i] {
					t.Errorf("line %d earns %+v, want %+v", i, got, tt.lines[i])
				}
			}
		})
	}
}

// attributed returns an order attributed to par_1 whose lines cost the
// amounts given, each at rate bp (rate id 1, the general rate).
func attributed(bp promokit.BasisPoints, amounts ...int64) *promokit.Order {
	o := &promokit.Order{
		StoreID: "sto_1", ID: "ord-1", Currency: "USD", State: promokit.OrderPlaced, PlacedAt: placedAt,
		Attribution: &promokit.Attribution{Program: promokit.ProgramAffiliate, LinkID: "lnk_1", PartnerID: "par_1", ClickID: 7},
	}
	for i, a := range amounts {
		o.Lines = append(o.Lines, promokit.OrderLine{Line: i, ProductID: "p", Quantity: 1, Amount: a, Rate: bp, RateID: 1, RateSource: "general"})
	}
	return o
}

// entry is the ledger entry the tests expect: of event ev-1, written at
// eventAt, for par_1's order ord-1.
func entry(line int, status, kind string, amount, basis int64, bp promokit.BasisPoints) *promokit.LedgerEntry {
	return &promokit.LedgerEntry{
		Payer: "sto_1", Payee: "par_1", StoreID: "sto_1", OrderID: "ord-1", Line: line, Program: promokit.ProgramAffiliate, Rule: promokit.RuleAffiliate,
		Status: status, Kind: kind, Amount: amount, Currency: "USD", Basis: basis, Rate: bp, RateID: 1,
		EventID: "ev-1", CreatedAt: eventAt,
	}
}

var commissions = promokit.Commissions{EventID: "ev-1", CreatedAt: eventAt}

func TestCommissionsAccrue(t *testing.T) {
	t.Parallel()
	const pending, accrued = promokit.LedgerPending, promokit.EntryAccrued
	for _, tt := range []struct {
		name  string
		order *promokit.Order
		want  []*promokit.LedgerEntry
	}{
		// A4: $100 at 5% is $5.
		{name: "the domain's example", order: attributed(500, 10000), want: []*promokit.LedgerEntry{entry(0, pending, accrued, 500, 10000, 500)}},
		{name: "each line rounded on its own", order: attributed(333, 999, 999, 1005),
			want: []*promokit.LedgerEntry{entry(0, pending, accrued, 33, 999, 333), entry(1, pending, accrued, 33, 999, 333), entry(2, pending, accrued, 33, 1005, 333)}},
		{name: "half rounds away from zero", order: attributed(5000, 1, 3), want: []*promokit.LedgerEntry{entry(0, pending, accrued, 1, 1, 5000), entry(1, pending, accrued, 2, 3, 5000)}},
		{name: "no entry of zero", order: attributed(4999, 1, 0, 2), want: []*promokit.LedgerEntry{entry(2, pending, accrued, 1, 2, 4999)}},
		{name: "a zero rate", order: attributed(0, 10000)},
		{name: "the largest amount at 100%", order: attributed(10000, promokit.MaxAmount),
			want: []*promokit.LedgerEntry{entry(0, pending, accrued, promokit.MaxAmount, promokit.MaxAmount, 10000)}},
		{name: "not attributed", order: func() *promokit.Order { o := attributed(500, 10000); o.Attribution = nil; return o }()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, commissions.Accrue(tt.order)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLineBalances(t *testing.T) {
	t.Parallel()
	stored := []*promokit.LedgerEntry{
		entry(0, promokit.LedgerPending, promokit.EntryAccrued, 500, 10000, 500),
		entry(1, promokit.LedgerPending, promokit.EntryAccrued, 100, 2000, 500),
		entry(0, promokit.LedgerPending, promokit.EntryAdjusted, -50, 9000, 500),
		entry(0, promokit.LedgerPending, promokit.EntryReleased, -450, 9000, 500),
		entry(0, promokit.LedgerPayable, promokit.EntryReleased, 450, 9000, 500),
	}
	event := []*promokit.LedgerEntry{entry(0, promokit.LedgerPayable, promokit.EntryReversed, -25, 8500, 500)}
	want := map[int]promokit.LineBalance{0: {Pending: 0, Payable: 425}, 1: {Pending: 100}}
	if diff := cmp.Diff(want, promokit.LineBalances(stored, event)); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	if got := promokit.LineBalances(); len(got) != 0 {
		t.Errorf("LineBalances() = %v, want none", got)
	}
}

func TestCommissionsReleaseAndReverse(t *testing.T) {
	t.Parallel()
	o := attributed(500, 10000, 2000, 50)
	o.Lines[1].Refunded = 500
	bal := map[int]promokit.LineBalance{0: {Pending: 500}, 1: {Pending: 75}, 2: {Pending: 0, Payable: 3}}
	const pending, payable = promokit.LedgerPending, promokit.LedgerPayable
	wantRelease := []*promokit.LedgerEntry{
		entry(0, pending, promokit.EntryReleased, -500, 10000, 500),
		entry(0, payable, promokit.EntryReleased, 500, 10000, 500),
		entry(1, pending, promokit.EntryReleased, -75, 1500, 500),
		entry(1, payable, promokit.EntryReleased, 75, 1500, 500),
	}
	if diff := cmp.Diff(wantRelease, commissions.Release(o, bal)); diff != "" {
		t.Errorf("Release (-want +got):\n%s", diff)
	}
	wantReverse := []*promokit.LedgerEntry{
		entry(0, pending, promokit.EntryReversed, -500, 10000, 500),
		entry(1, pending, promokit.EntryReversed, -75, 1500, 500),
	}
	if diff := cmp.Diff(wantReverse, commissions.Reverse(o, bal)); diff != "" {
		t.Errorf("Reverse (-want +got):\n%s", diff)
	}
	o.Attribution = nil
	if got := commissions.Release(o, bal); got != nil {
		t.Errorf("Release of an order not attributed = %v, want none", got)
	}
	if got := commissions.Reverse(o, bal); got != nil {
		t.Errorf("Reverse of an order not attributed = %v, want none", got)
	}
}

// TestCommissionsAdjust refunds a line of 10000 at 5% in steps: each step
// computes the commission again on the net amount, rounded once, so that
// the entries never drift from the rate applied to what is left.
func TestCommissionsAdjust(t *testing.T) {
	t.Parallel()
	const pending, payable = promokit.LedgerPending, promokit.LedgerPayable
	for _, tt := range []struct {
		name     string
		released bool
		steps    []struct {
			amount int64
			want   []*promokit.LedgerEntry
		}
	}{
		{name: "before release", steps: []struct {
			amount int64
			want   []*promokit.LedgerEntry
		}{
			{3333, []*promokit.LedgerEntry{entry(0, pending, promokit.EntryAdjusted, -167, 6667, 500)}}, // 333.35 → 333
			{3333, []*promokit.LedgerEntry{entry(0, pending, promokit.EntryAdjusted, -166, 3334, 500)}}, // 166.7 → 167
			{1, nil}, // 166.65 → 167: no change
			{3333, []*promokit.LedgerEntry{entry(0, pending, promokit.EntryAdjusted, -167, 0, 500)}},
		}},
		{name: "after release", released: true, steps: []struct {
			amount int64
			want   []*promokit.LedgerEntry
		}{
			{3333, []*promokit.LedgerEntry{entry(0, payable, promokit.EntryReversed, -167, 6667, 500)}},
			{6667, []*promokit.LedgerEntry{entry(0, payable, promokit.EntryReversed, -333, 0, 500)}},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := attributed(500, 10000, 2000)
			o.Paid = o.Total()
			ledger := commissions.Accrue(o)
			if tt.released {
				o.Release()
				ledger = append(ledger, commissions.Release(o, promokit.LineBalances(ledger))...)
			}
			for i, s := range tt.steps {
				r := &promokit.Refund{Lines: []promokit.RefundLine{{Line: 0, Amount: s.amount}}}
				bal := promokit.LineBalances(ledger)
				if err := o.Refund(r); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				got := commissions.Adjust(o, r, bal)
				if diff := cmp.Diff(s.want, got); diff != "" {
					t.Errorf("step %d (-want +got):\n%s", i, diff)
				}
				ledger = append(ledger, got...)
				b := promokit.LineBalances(ledger)[0]
				if want := promokit.ApplyRate(o.Lines[0].Amount-o.Lines[0].Refunded, 500); b.Pending+b.Payable != want {
					t.Errorf("step %d: line 0's entries add up to %d, want %d", i, b.Pending+b.Payable, want)
				}
			}
			// Line 1 was never refunded: its commission is untouched.
			if b := promokit.LineBalances(ledger)[1]; b.Pending+b.Payable != 100 {
				t.Errorf("line 1's entries add up to %d, want 100", b.Pending+b.Payable)
			}
		})
	}
	o := attributed(500, 10000)
	o.Attribution = nil
	r := &promokit.Refund{Lines: []promokit.RefundLine{{Line: 0, Amount: 10}}}
	if got := commissions.Adjust(o, r, nil); got != nil {
		t.Errorf("Adjust of an order not attributed = %v, want none", got)
	}
}

// TestCommissionsMixedLines: each line earns for the payee of the claim
// that won it, at its rate, through the same lifecycle: a P4 line for the
// marketplace (7¢ at 40% is 3¢; the seller keeps 4¢), a clicked line for
// the affiliate, and an unclaimed line for nobody.
func TestCommissionsMixedLines(t *testing.T) {
	t.Parallel()
	o := &promokit.Order{
		StoreID: "sto_1", ID: "ord-1", Currency: "USD", State: promokit.OrderPlaced, PlacedAt: placedAt,
		Attribution: &promokit.Attribution{Program: promokit.ProgramAffiliate, LinkID: "lnk_1", PartnerID: "par_1", ClickID: 7},
		Lines: []promokit.OrderLine{
			{Line: 0, ProductID: "p1", Quantity: 1, Amount: 7, Program: promokit.ProgramPartnerCode, Rule: promokit.RulePartnerCode,
				Code: "SELLER-1", Payee: promokit.Marketplace, Rate: 4000, RateSource: promokit.RateSourcePolicy},
			{Line: 1, ProductID: "p2", Quantity: 1, Amount: 10000, Program: promokit.ProgramAffiliate, Rule: promokit.RuleAffiliate,
				Payee: "par_1", Rate: 500, RateID: 1, RateSource: "general"},
			{Line: 2, ProductID: "p3", Quantity: 1, Amount: 5000},
		},
	}
	o.Paid = o.Total()
	p4 := func(status, kind string, amount, basis int64) *promokit.LedgerEntry {
		return &promokit.LedgerEntry{
			Payer: "sto_1", Payee: promokit.Marketplace, StoreID: "sto_1", OrderID: "ord-1", Line: 0,
			Program: promokit.ProgramPartnerCode, Rule: promokit.RulePartnerCode, Status: status, Kind: kind,
			Amount: amount, Currency: "USD", Basis: basis, Rate: 4000, EventID: "ev-1", CreatedAt: eventAt,
		}
	}
	const pending, payable = promokit.LedgerPending, promokit.LedgerPayable
	ledger := commissions.Accrue(o)
	want := []*promokit.LedgerEntry{p4(pending, promokit.EntryAccrued, 3, 7), entry(1, pending, promokit.EntryAccrued, 500, 10000, 500)}
	if diff := cmp.Diff(want, ledger); diff != "" {
		t.Fatalf("Accrue (-want +got):\n%s", diff)
	}
	// A partial refund of the P4 line: 5¢ left, 2¢ the marketplace's.
	r := &promokit.Refund{Lines: []promokit.RefundLine{{Line: 0, Amount: 2}, {Line: 2, Amount: 1000}}}
	if err := o.Refund(r); err != nil {
		t.Fatal(err)
	}
	got := commissions.Adjust(o, r, promokit.LineBalances(ledger))
	if diff := cmp.Diff([]*promokit.LedgerEntry{p4(pending, promokit.EntryAdjusted, -1, 5)}, got); diff != "" {
		t.Fatalf("Adjust (-want +got):\n%s", diff)
	}
	ledger = append(ledger, got...)
	o.Release()
	got = commissions.Release(o, promokit.LineBalances(ledger))
	want = []*promokit.LedgerEntry{
		p4(pending, promokit.EntryReleased, -2, 5), p4(payable, promokit.EntryReleased, 2, 5),
		entry(1, pending, promokit.EntryReleased, -500, 10000, 500), entry(1, payable, promokit.EntryReleased, 500, 10000, 500),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Release (-want +got):\n%s", diff)
	}
	ledger = append(ledger, got...)
	// A return after the release reverses payable: 1¢ left, 0 the
	// marketplace's (0.4 rounds to 0).
	r = &promokit.Refund{Lines: []promokit.RefundLine{{Line: 0, Amount: 4}}}
	if err := o.Refund(r); err != nil {
		t.Fatal(err)
	}
	got = commissions.Adjust(o, r, promokit.LineBalances(ledger))
	if diff := cmp.Diff([]*promokit.LedgerEntry{p4(payable, promokit.EntryReversed, -2, 1)}, got); diff != "" {
		t.Fatalf("Adjust after release (-want +got):\n%s", diff)
	}
	// Without its click the order's P4 line earns all the same.
	o.Attribution = nil
	if got := commissions.Accrue(o); len(got) != 2 || got[0].Payee != promokit.Marketplace || got[1].Payee != "par_1" {
		t.Errorf("Accrue without the click: %+v", got)
	}
}
