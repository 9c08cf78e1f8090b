package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// Proof files of each type, and a text file that is none of them.
var (
	proofPDF  = []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
	proofPNG  = append([]byte("\x89PNG\r\n\x1a\n"), 0, 0, 0, 13, 'I', 'H', 'D', 'R')
	proofJPEG = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0}
	proofText = []byte("Paid on 2026-01-01: see the bank's statement.\n")
)

// payoutFixture is what b.payouts() makes: a payable balance of 5,000 USD
// cents that the shop owes the partner, and two payouts of it recorded by
// the shop's seller, proved with a proof and plain without.
type payoutFixture struct {
	once          sync.Once
	err           error
	plain, proved *promokit.Payout
}

var payoutFixtures sync.Map // *testBundle → *payoutFixture

// payouts makes the payout fixture of b once.
func (b *testBundle) payouts() *payoutFixture {
	v, _ := payoutFixtures.LoadOrStore(b, &payoutFixture{})
	f := v.(*payoutFixture)
	f.once.Do(func() { f.err = f.make(b) })
	if f.err != nil {
		panic(f.err)
	}
	return f
}

func (f *payoutFixture) make(b *testBundle) error {
	ctx := context.Background()
	// A released commission of the shop to the partner: the ledger's
	// entry as an order's release writes it.
	err := b.store.Write(ctx, func(tx storage.Tx) error {
		return tx.LedgerAddMany(ctx, []*promokit.LedgerEntry{{Payer: b.shop.ID, Payee: b.partnr.ID, StoreID: b.shop.ID,
			OrderID: "ord-p", Program: promokit.ProgramAffiliate, Status: promokit.LedgerPayable, Kind: promokit.EntryReleased,
			Amount: 5000, Currency: "USD", Basis: 100000, Rate: 500, EventID: "ord-p-done", CreatedAt: b.clock.Now()}})
	})
	if err != nil {
		return err
	}
	seller := promokit.NewContext(ctx, promokit.Principal{Role: promokit.RoleSeller, StoreID: b.shop.ID})
	in := engine.PayoutInput{Payee: b.partnr.ID, Currency: "USD", Amount: 1000, PaidOn: "2026-01-01", Reference: "wire 1"}
	if f.plain, err = b.svc.RecordPayout(seller, in); err != nil {
		return err
	}
	in.Reference = "wire 2"
	if f.proved, err = b.svc.RecordPayout(seller, in); err != nil {
		return err
	}
	f.proved, err = b.svc.AttachPayoutProof(seller, f.proved.ID, proofPDF)
	return err
}

// withPayouts makes the payout fixture before it returns the path.
func withPayouts(path func(*testBundle) string) func(*testBundle) string {
	return func(b *testBundle) string {
		b.payouts()
		return path(b)
	}
}

// payoutPath is the path of the fixture's payout without proof, with
// suffix.
func payoutPath(suffix string) func(*testBundle) string {
	return func(b *testBundle) string { return "/v1/payouts/" + b.payouts().plain.ID + suffix }
}

// TestPayoutAPI records a payout over the API and walks it: the refusal
// above the payable balance with its limit, the proof (by its bytes, once,
// within the limit, served as an attachment), the dispute and the
// confirmation.
func TestPayoutAPI(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open, func(c *Config) { c.ProofLimit = 1000 })
		f := b.payouts() // 3,000 of 5,000 left payable
		body := map[string]any{"payee": b.partnr.ID, "currency": "USD", "amount": 3001, "paid_on": "2026-01-01", "reference": "wire 3"}
		r := mustDo(t, b, b.seller, "POST", "/v1/payouts", body, http.StatusUnprocessableEntity)
		if p := r.Problem; p.Code != promokit.EPayoutExceeds || p.Limit == nil || *p.Limit != 3000 || p.Current == nil || *p.Current != 3001 {
			t.Fatalf("refusal = %s", r.Body)
		}
		body["amount"] = 3000
		r = mustDo(t, b, b.seller, "POST", "/v1/payouts", body, http.StatusCreated, "Idempotency-Key", "payout-3")
		po := decodeAs[promokit.Payout](t, r)
		if r.Header.Get("Location") != "/v1/payouts/"+po.ID || po.State != promokit.PayoutRecorded || po.Payer != b.shop.ID || po.Proof != nil {
			t.Fatalf("payout = %s", r.Body)
		}
		// A retry with its key answers the same payout and pays nothing more.
		again := mustDo(t, b, b.seller, "POST", "/v1/payouts", body, http.StatusCreated, "Idempotency-Key", "payout-3")
		if again.Header.Get("Idempotent-Replayed") != "true" || decodeAs[promokit.Payout](t, again).ID != po.ID {
			t.Fatalf("retry = %s", again.Body)
		}
		body["amount"] = 1
		r = mustDo(t, b, b.seller, "POST", "/v1/payouts", body, http.StatusUnprocessableEntity)
		if *r.Problem.Limit != 0 {
			t.Fatalf("refusal at zero = %s", r.Body)
		}
		if n := b.count(t, b.partner, "/v1/payouts"); n != 3 {
			t.Fatalf("the partner lists %d payouts, want 3", n)
		}
		if n := b.count(t, b.foreign, "/v1/payouts"); n != 0 {
			t.Fatalf("the foreign seller lists %d payouts, want none", n)
		}
		mustDo(t, b, b.foreign, "GET", "/v1/payouts?party="+b.shop.ID, nil, http.StatusNotFound)
		if n := b.count(t, b.admin, "/v1/payouts?party="+b.partnr.ID+"&counterparty="+b.shop.ID); n != 3 {
			t.Fatalf("the admin lists %d payouts of the pair, want 3", n)
		}

		path := "/v1/payouts/" + po.ID
		proof := path + "/proof"
		// Refused by its bytes whatever it is called, above the limit
		// (declared or not), empty, or by the payee.
		r = mustDo(t, b, b.seller, "PUT", proof, proofText, http.StatusUnsupportedMediaType, "Content-Type", "application/pdf")
		if r.Problem.Code != promokit.EUnsupportedMedia {
			t.Fatalf("text proof = %s", r.Body)
		}
		big := append(append([]byte{}, proofPDF...), bytes.Repeat([]byte{' '}, 1000)...)
		mustDo(t, b, b.seller, "PUT", proof, big, http.StatusRequestEntityTooLarge, "Content-Type", "application/pdf")
		mustDo(t, b, b.seller, "PUT", proof, chunked(big), http.StatusRequestEntityTooLarge, "Content-Type", "application/pdf")
		mustDo(t, b, b.seller, "PUT", proof, big, http.StatusRequestEntityTooLarge, "Content-Type", "application/pdf", "Idempotency-Key", "big")
		mustDo(t, b, b.seller, "PUT", proof, []byte{}, http.StatusUnprocessableEntity, "Content-Type", "application/pdf")
		mustDo(t, b, b.partner, "PUT", proof, proofPNG, http.StatusForbidden, "Content-Type", "image/png")
		r = mustDo(t, b, b.seller, "PUT", proof, proofPNG, http.StatusOK, "Content-Type", "application/octet-stream", "Idempotency-Key", "proof-3")
		sum := sha256.Sum256(proofPNG)
		if p := decodeAs[promokit.Payout](t, r).Proof; p == nil || p.Type != "image/png" || p.Size != int64(len(proofPNG)) || p.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("proof = %s", r.Body)
		}
		if strings.Contains(string(r.Body), "PNG") {
			t.Fatalf("the payout shows the proof's bytes: %s", r.Body)
		}
		mustDo(t, b, b.seller, "PUT", proof, proofPNG, http.StatusOK, "Content-Type", "image/png", "Idempotency-Key", "proof-3")
		r = mustDo(t, b, b.admin, "PUT", proof, proofJPEG, http.StatusConflict, "Content-Type", "image/jpeg")
		for _, key := range []string{b.seller, b.partner, b.admin} {
			r = mustDo(t, b, key, "GET", proof, nil, http.StatusOK)
			h := r.Header
			if !bytes.Equal(r.Body, proofPNG) || h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" ||
				h.Get("Content-Disposition") != `attachment; filename="`+po.ID+`-proof.png"` || h.Get("Content-Length") != strconv.Itoa(len(proofPNG)) {
				t.Fatalf("proof served with %v: %q", h, r.Body)
			}
		}
		mustDo(t, b, b.foreign, "GET", proof, nil, http.StatusNotFound)
		mustDo(t, b, b.partner, "GET", "/v1/payouts/"+f.plain.ID+"/proof", nil, http.StatusNotFound)

		// The payee disputes, then confirms; the confirmation is final.
		mustDo(t, b, b.partner, "POST", path+"/dispute", map[string]any{"message": ""}, http.StatusUnprocessableEntity)
		mustDo(t, b, b.partner, "POST", path+"/dispute", map[string]any{"message": "x", "extra": 1}, http.StatusBadRequest)
		r = mustDo(t, b, b.partner, "POST", path+"/dispute", map[string]any{"message": "Not on my account yet."}, http.StatusOK)
		if p := decodeAs[promokit.Payout](t, r); p.State != promokit.PayoutDisputed || p.Message != "Not on my account yet." {
			t.Fatalf("dispute = %s", r.Body)
		}
		mustDo(t, b, b.partner, "POST", path+"/dispute", map[string]any{"message": "again"}, http.StatusConflict)
		r = mustDo(t, b, b.partner, "POST", path+"/confirm", nil, http.StatusOK)
		if p := decodeAs[promokit.Payout](t, r); p.State != promokit.PayoutConfirmed || p.ConfirmedAt == nil {
			t.Fatalf("confirm = %s", r.Body)
		}
		mustDo(t, b, b.partner, "POST", path+"/confirm", nil, http.StatusConflict)

		// Bad input is 4xx on both databases, NUL included.
		for _, in := range []map[string]any{
			{"payee": b.partnr.ID, "currency": "USD", "amount": 1, "paid_on": "2026-01-01", "reference": "a\u0000b"},
			{"payee": b.partnr.ID, "currency": "USD", "amount": 1, "paid_on": "2026-13-01", "reference": "r"},
			{"payee": b.partnr.ID, "currency": "USD", "amount": 1, "paid_on": "2027-01-01", "reference": "r"},
			{"payee": b.partnr.ID, "currency": "USD", "amount": -1, "paid_on": "2026-01-01", "reference": "r"},
			{"payee": "par_\u0000", "currency": "USD", "amount": 1, "paid_on": "2026-01-01", "reference": "r"},
		} {
			mustDo(t, b, b.seller, "POST", "/v1/payouts", in, http.StatusUnprocessableEntity)
		}
		mustDo(t, b, b.admin, "GET", "/v1/payouts/pay_%00", nil, http.StatusUnprocessableEntity)
		mustDo(t, b, b.admin, "GET", "/v1/payouts?party=bob", nil, http.StatusUnprocessableEntity)
		mustDo(t, b, b.admin, "GET", "/v1/payouts/nope", nil, http.StatusNotFound)
	})
}

// chunked hides the length of data, so that the body is sent chunked and
// the server learns its size only by reading it.
func chunked(data []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(data)} }
