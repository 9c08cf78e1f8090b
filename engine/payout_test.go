package engine_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// payableBundle is an affiliate bundle in which the shop owes the
// affiliate a payable commission of 5% of the order o1's mug.
type payableBundle struct {
	*affiliateBundle
}

// setupPayable makes the shop owe the affiliate amount/20 (5% of a mug of
// amount), payable: the order is completed and released at once.
func setupPayable(t *testing.T, open func(*testing.T) storage.DB, amount int64) *payableBundle {
	t.Helper()
	return setupPayableIn(t, open, amount, "UTC")
}

// setupPayableIn is setupPayable in a marketplace of the time zone zone.
func setupPayableIn(t *testing.T, open func(*testing.T) storage.DB, amount int64, zone string) *payableBundle {
	t.Helper()
	b := setupAffiliate(t, open, zone)
	b.join(t, 500)
	v := b.click(t, b.link(t, b.affiliate, "mug"), "")
	b.clock.Add(time.Minute)
	b.place(t, "o1", v, "", line("mug", amount))
	b.event(t, "o1", engine.OrderEventInput{ID: "o1-paid", Type: promokit.EventPaid})
	b.event(t, "o1", engine.OrderEventInput{ID: "o1-done", Type: promokit.EventCompleted})
	return &payableBundle{b}
}

// payout is a payout of amount from the shop to the affiliate, paid today.
func (b *payableBundle) payout(amount int64) engine.PayoutInput {
	return engine.PayoutInput{Payer: b.shop.ID, Payee: b.aff.ID, Currency: "USD", Amount: amount,
		PaidOn: b.clock.Now().Format(time.DateOnly), Reference: "SEPA 2026-001"}
}

// balance returns the affiliate's balance with the shop at the end of
// the month of from, and at its start.
func (b *payableBundle) balance(t *testing.T, from time.Time) (opening, closing engine.Balance) {
	t.Helper()
	st, err := b.svc.GetStatement(b.affiliate, engine.StatementQuery{Party: b.aff.ID, Counterparty: b.shop.ID,
		From: from, To: from.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Currencies) != 1 || len(st.Currencies[0].Accounts) != 1 {
		t.Fatalf("statement = %+v", st)
	}
	a := st.Currencies[0].Accounts[0]
	return a.Opening, a.Closing
}

// TestPayoutRace pays 30 out of a payable balance of 500 from 20
// goroutines at once: exactly 16 payouts are recorded, the 4 others are
// refused with the balance left (20) as the limit, and the statement
// shows 480 paid and 20 payable.
func TestPayoutRace(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupPayable(t, open, 10000)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			ok      int
			refused []*promokit.Error
			failed  []error
		)
		start := make(chan struct{})
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := b.svc.RecordPayout(b.seller, b.payout(30))
				mu.Lock()
				defer mu.Unlock()
				switch promokit.ErrorCode(err) {
				case "":
					ok++
				case promokit.EPayoutExceeds:
					refused = append(refused, err.(*promokit.Error))
				default:
					failed = append(failed, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if ok != 16 || len(refused) != 4 || len(failed) > 0 {
			t.Fatalf("%d recorded, %d refused, failures %v; want 16 and 4", ok, len(refused), failed)
		}
		for _, e := range refused {
			if *e.Limit != 20 || *e.Current != 30 {
				t.Errorf("refusal limit %d, current %d; want 20 and 30", *e.Limit, *e.Current)
			}
		}
		_, closing := b.balance(t, jan1.Truncate(24*time.Hour))
		if closing != (engine.Balance{Payable: 20, Paid: 480}) {
			t.Fatalf("closing balance = %+v, want 20 payable and 480 paid", closing)
		}
		list, err := b.svc.ListPayouts(b.affiliate, engine.PayoutQuery{}, storage.Page{})
		if err != nil || len(list) != 16 {
			t.Fatalf("the affiliate lists %d payouts, %v; want 16", len(list), err)
		}
		diffs, err := b.store.UsageCheck(context.Background())
		if err != nil || len(diffs) != 0 {
			t.Fatalf("check = %+v, %v", diffs, err)
		}
	})
}

// TestPayoutThenRefund pays out a released commission in full, then
// refunds the order: the payable balance goes negative, the next month's
// statement opens with it, and every payout is refused until earnings
// make it positive again.
func TestPayoutThenRefund(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupPayable(t, open, 10000)
		po, err := b.svc.RecordPayout(b.seller, b.payout(500))
		if err != nil {
			t.Fatal(err)
		}
		if po.State != promokit.PayoutRecorded || po.StoreID != b.shop.ID || po.Proof != nil {
			t.Fatalf("payout = %+v", po)
		}
		_, err = b.svc.RecordPayout(b.seller, b.payout(1))
		if e := wantCode(t, err, promokit.EPayoutExceeds); *e.Limit != 0 || *e.Current != 1 {
			t.Fatalf("refusal = %+v", e)
		}
		// The buyer returns the mug after the payout: 5% of 100.00 back.
		b.clock.Add(time.Hour)
		b.event(t, "o1", engine.OrderEventInput{ID: "o1-return", Type: promokit.EventRefunded,
			Refund: &engine.RefundInput{Reason: "return", Lines: []engine.RefundLine{{Line: 0, Amount: 10000, Quantity: 1}}}})
		jan := jan1.Truncate(24 * time.Hour)
		_, closing := b.balance(t, jan)
		if closing != (engine.Balance{Payable: -500, Paid: 500}) {
			t.Fatalf("January closes at %+v, want -500 payable and 500 paid", closing)
		}
		feb := jan.AddDate(0, 1, 0)
		b.clock.Set(feb.Add(10 * time.Hour))
		opening, _ := b.balance(t, feb)
		if opening != (engine.Balance{Payable: -500, Paid: 500}) {
			t.Fatalf("February opens at %+v, want -500 payable and 500 paid", opening)
		}
		_, err = b.svc.RecordPayout(b.seller, b.payout(1))
		if e := wantCode(t, err, promokit.EPayoutExceeds); *e.Limit != -500 {
			t.Fatalf("refusal with a negative balance = %+v", e)
		}
		// New earnings of 6.00 (a mug of 120.00) leave 1.00 payable.
		v := b.click(t, b.link(t, b.affiliate, "mug"), "")
		b.place(t, "o2", v, "", line("mug", 12000))
		b.event(t, "o2", engine.OrderEventInput{ID: "o2-done", Type: promokit.EventCompleted})
		_, err = b.svc.RecordPayout(b.seller, b.payout(101))
		if e := wantCode(t, err, promokit.EPayoutExceeds); *e.Limit != 100 {
			t.Fatalf("refusal = %+v", e)
		}
		if _, err := b.svc.RecordPayout(b.seller, b.payout(100)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPayoutCallers checks who may record, read, answer and prove a
// payout, and that every other principal learns nothing of it.
func TestPayoutCallers(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupPayable(t, open, 10000)
		// Partners never pay; checkout keys make no payout call; a
		// seller pays for its own store only.
		_, err := b.svc.RecordPayout(b.affiliate, b.payout(10))
		wantCode(t, err, promokit.EForbidden)
		_, err = b.svc.RecordPayout(b.check, b.payout(10))
		wantCode(t, err, promokit.EForbidden)
		_, err = b.svc.RecordPayout(b.foreign, b.payout(10))
		wantCode(t, err, promokit.ENotFound)
		in := b.payout(10)
		in.Payer = promokit.Marketplace
		_, err = b.svc.RecordPayout(b.seller, in)
		wantCode(t, err, promokit.EForbidden)
		// The admin pays for the shop; a seller may leave the payer out.
		byAdmin, err := b.svc.RecordPayout(b.admin, b.payout(10))
		if err != nil {
			t.Fatal(err)
		}
		in = b.payout(20)
		in.Payer = ""
		po, err := b.svc.RecordPayout(b.seller, in)
		if err != nil || po.Payer != b.shop.ID {
			t.Fatalf("payout without payer = %+v, %v", po, err)
		}
		// A payee that does not exist.
		in = b.payout(10)
		in.Payee = "par_00000000000000000000000000"
		_, err = b.svc.RecordPayout(b.seller, in)
		wantCode(t, err, promokit.ENotFound)

		for name, ctx := range map[string]context.Context{"admin": b.admin, "seller": b.seller, "affiliate": b.affiliate} {
			if got, err := b.svc.GetPayout(ctx, po.ID); err != nil || got.ID != po.ID {
				t.Errorf("%s gets %+v, %v", name, got, err)
			}
			if list, err := b.svc.ListPayouts(ctx, engine.PayoutQuery{}, storage.Page{}); err != nil || len(list) != 2 {
				t.Errorf("%s lists %d payouts, %v; want 2", name, len(list), err)
			}
		}
		for name, ctx := range map[string]context.Context{"foreign seller": b.foreign, "another partner": b.partner} {
			_, err := b.svc.GetPayout(ctx, po.ID)
			wantCode(t, err, promokit.ENotFound)
			list, err := b.svc.ListPayouts(ctx, engine.PayoutQuery{}, storage.Page{})
			if err != nil || len(list) != 0 {
				t.Errorf("%s lists %d payouts, %v; want none", name, len(list), err)
			}
			_, err = b.svc.ListPayouts(ctx, engine.PayoutQuery{Party: b.shop.ID}, storage.Page{})
			wantCode(t, err, promokit.ENotFound)
			_, err = b.svc.ConfirmPayout(ctx, po.ID)
			wantCode(t, err, promokit.ENotFound)
			_, err = b.svc.DisputePayout(ctx, po.ID, engine.DisputeInput{Message: "no"})
			wantCode(t, err, promokit.ENotFound)
			_, _, err = b.svc.PayoutProof(ctx, po.ID)
			wantCode(t, err, promokit.ENotFound)
		}
		_, err = b.svc.GetPayout(b.check, po.ID)
		wantCode(t, err, promokit.EForbidden)
		_, err = b.svc.AttachPayoutProof(b.foreign, po.ID, pdf)
		wantCode(t, err, promokit.ENotFound)
		// The affiliate narrows its list to the shop, naming it either way.
		for _, q := range []engine.PayoutQuery{{Counterparty: b.shop.ID}, {Party: b.shop.ID, Counterparty: b.aff.ID}} {
			if list, err := b.svc.ListPayouts(b.affiliate, q, storage.Page{}); err != nil || len(list) != 2 {
				t.Errorf("affiliate lists %d payouts with %+v, %v", len(list), q, err)
			}
		}

		// Only the payee answers: not the payer, not the admin for a
		// partner.
		for _, ctx := range []context.Context{b.seller, b.admin} {
			_, err = b.svc.ConfirmPayout(ctx, po.ID)
			wantCode(t, err, promokit.EForbidden)
			_, err = b.svc.DisputePayout(ctx, po.ID, engine.DisputeInput{Message: "no"})
			wantCode(t, err, promokit.EForbidden)
		}
		// Only the payer's side proves: not the payee.
		_, err = b.svc.AttachPayoutProof(b.affiliate, po.ID, pdf)
		wantCode(t, err, promokit.EForbidden)
		if _, err := b.svc.AttachPayoutProof(b.admin, byAdmin.ID, pdf); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPayoutAnswers walks the state machine: recorded → disputed (with a
// message) → confirmed, which is final; recorded → confirmed directly.
func TestPayoutAnswers(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupPayable(t, open, 10000)
		first, err := b.svc.RecordPayout(b.seller, b.payout(100))
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range []string{"", "   ", string(bytes.Repeat([]byte("x"), 2001)), "a\x00b", "bell\x07"} {
			_, err = b.svc.DisputePayout(b.affiliate, first.ID, engine.DisputeInput{Message: msg})
			wantCode(t, err, promokit.EInvalid)
		}
		b.clock.Add(time.Hour)
		d, err := b.svc.DisputePayout(b.affiliate, first.ID, engine.DisputeInput{Message: "Nothing arrived.\nPlease check the IBAN."})
		if err != nil || d.State != promokit.PayoutDisputed || d.Message == "" || d.DisputedAt == nil || d.ConfirmedAt != nil {
			t.Fatalf("dispute = %+v, %v", d, err)
		}
		_, err = b.svc.DisputePayout(b.affiliate, first.ID, engine.DisputeInput{Message: "again"})
		wantCode(t, err, promokit.EConflict)
		b.clock.Add(time.Hour)
		c, err := b.svc.ConfirmPayout(b.affiliate, first.ID)
		if err != nil || c.State != promokit.PayoutConfirmed || c.ConfirmedAt == nil || c.Message != d.Message {
			t.Fatalf("confirm after a dispute = %+v, %v", c, err)
		}
		_, err = b.svc.ConfirmPayout(b.affiliate, first.ID)
		wantCode(t, err, promokit.EConflict)
		_, err = b.svc.DisputePayout(b.affiliate, first.ID, engine.DisputeInput{Message: "changed my mind"})
		wantCode(t, err, promokit.EConflict)
		got, err := b.svc.GetPayout(b.seller, first.ID)
		if err != nil || got.State != promokit.PayoutConfirmed || !got.ConfirmedAt.Equal(*c.ConfirmedAt) {
			t.Fatalf("payout read back = %+v, %v", got, err)
		}

		second, err := b.svc.RecordPayout(b.seller, b.payout(100))
		if err != nil {
			t.Fatal(err)
		}
		if c, err := b.svc.ConfirmPayout(b.affiliate, second.ID); err != nil || c.State != promokit.PayoutConfirmed {
			t.Fatalf("confirm = %+v, %v", c, err)
		}
		_, err = b.svc.ConfirmPayout(b.affiliate, "pay_00000000000000000000000000")
		wantCode(t, err, promokit.ENotFound)
	})
}

// TestPayoutToMarketplace checks a store's payout to the marketplace,
// answered by the admin; and the marketplace's own payouts, which only
// the admin records.
func TestPayoutToMarketplace(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		// Nothing is owed between the shop and the marketplace.
		in := engine.PayoutInput{Payee: promokit.Marketplace, Currency: "USD", Amount: 1, PaidOn: "2026-01-01", Reference: "fee"}
		_, err := b.svc.RecordPayout(b.seller, in)
		if e := wantCode(t, err, promokit.EPayoutExceeds); *e.Limit != 0 {
			t.Fatalf("refusal = %+v", e)
		}
		in = engine.PayoutInput{Payer: promokit.Marketplace, Payee: b.shop.ID, Currency: "USD", Amount: 1, PaidOn: "2026-01-01", Reference: "subsidy"}
		_, err = b.svc.RecordPayout(b.admin, in)
		wantCode(t, err, promokit.EPayoutExceeds)
	})
}

// TestPayoutValidate checks the fields of a payout: each invalid one is
// EInvalid naming it, and nothing is written.
func TestPayoutValidate(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupPayable(t, open, 10000)
		cases := map[string]func(*engine.PayoutInput){
			"payer":     func(in *engine.PayoutInput) { in.Payer = b.aff.ID },
			"payee":     func(in *engine.PayoutInput) { in.Payee = "bob" },
			"currency":  func(in *engine.PayoutInput) { in.Currency = "usd" },
			"amount":    func(in *engine.PayoutInput) { in.Amount = 0 },
			"paid_on":   func(in *engine.PayoutInput) { in.PaidOn = "2026-01-02" },
			"reference": func(in *engine.PayoutInput) { in.Reference = "" },
		}
		for field, change := range cases {
			in := b.payout(10)
			change(&in)
			_, err := b.svc.RecordPayout(b.admin, in)
			e := wantCode(t, err, promokit.EInvalid)
			if len(e.Fields) == 0 || e.Fields[0].Field != field {
				t.Errorf("%s: fields %+v", field, e.Fields)
			}
		}
		in := b.payout(10)
		in.Payee = b.shop.ID
		_, err := b.svc.RecordPayout(b.admin, in)
		wantCode(t, err, promokit.EInvalid)
		in = b.payout(10)
		in.Reference = string(bytes.Repeat([]byte("é"), 200))
		if _, err := b.svc.RecordPayout(b.admin, in); err != nil {
			t.Fatalf("a reference of 200 characters: %v", err)
		}
		list, err := b.svc.ListPayouts(b.admin, engine.PayoutQuery{}, storage.Page{})
		if err != nil || len(list) != 1 {
			t.Fatalf("payouts = %d, %v; want the one valid", len(list), err)
		}
	})
}

// Proof files of each type, and a text file that is none.
var (
	pdf  = []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
	png  = append([]byte("\x89PNG\r\n\x1a\n"), 0, 0, 0, 13, 'I', 'H', 'D', 'R')
	jpeg = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0}
	text = []byte("Paid on 2026-01-01, see attached. %PDF-")
)

// TestPayoutProof checks the proof file: its type decided by its bytes,
// uploaded once by the payer's side, read back whole by payer, payee and
// admin.
func TestPayoutProof(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupPayable(t, open, 10000)
		for _, c := range []struct {
			data []byte
			typ  string
		}{{pdf, promokit.ProofPDF}, {png, promokit.ProofPNG}, {jpeg, promokit.ProofJPEG}} {
			po, err := b.svc.RecordPayout(b.seller, b.payout(10))
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.svc.AttachPayoutProof(b.seller, po.ID, text)
			wantCode(t, err, promokit.EUnsupportedMedia)
			_, err = b.svc.AttachPayoutProof(b.seller, po.ID, nil)
			wantCode(t, err, promokit.EInvalid)
			got, err := b.svc.AttachPayoutProof(b.seller, po.ID, c.data)
			if err != nil || got.Proof == nil || got.Proof.Type != c.typ || got.Proof.Size != int64(len(c.data)) || len(got.Proof.SHA256) != 64 {
				t.Fatalf("proof of %s = %+v, %v", c.typ, got, err)
			}
			_, err = b.svc.AttachPayoutProof(b.seller, po.ID, c.data)
			wantCode(t, err, promokit.EConflict)
			for _, ctx := range []context.Context{b.seller, b.affiliate, b.admin} {
				proof, data, err := b.svc.PayoutProof(ctx, po.ID)
				if err != nil || !bytes.Equal(data, c.data) || *proof != *got.Proof {
					t.Fatalf("proof read back = %+v, %d bytes, %v", proof, len(data), err)
				}
			}
			if again, err := b.svc.GetPayout(b.affiliate, po.ID); err != nil || *again.Proof != *got.Proof {
				t.Fatalf("payout's proof = %+v, %v", again, err)
			}
		}
		po, err := b.svc.RecordPayout(b.seller, b.payout(10))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = b.svc.PayoutProof(b.affiliate, po.ID)
		wantCode(t, err, promokit.ENotFound)
	})
}
