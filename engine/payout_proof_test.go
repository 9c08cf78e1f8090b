package engine_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// TestPayoutWithProof records payouts with their proof files in one
// call: the proof is stored with the payout, and a payout whose proof is
// refused (no PDF, PNG or JPEG, empty), or whose proof cannot be stored,
// writes nothing, as a payout refused for its own fields or its amount.
func TestPayoutWithProof(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		var fs *faultStore
		b := setupPayable(t, faultOpen(&fs, open), 10000) // 500 payable
		po, err := b.svc.RecordPayoutWithProof(b.seller, b.payout(100), pdf)
		if err != nil {
			t.Fatal(err)
		}
		if po.Proof == nil || po.Proof.Type != promokit.ProofPDF || po.Proof.Size != int64(len(pdf)) || !po.Proof.UploadedAt.Equal(po.CreatedAt) {
			t.Fatalf("payout = %+v, proof %+v", po, po.Proof)
		}
		got, err := b.svc.GetPayout(b.affiliate, po.ID)
		if err != nil || got.Proof == nil || *got.Proof != *po.Proof {
			t.Fatalf("read back = %+v, %v", got, err)
		}
		if _, data, err := b.svc.PayoutProof(b.affiliate, po.ID); err != nil || !bytes.Equal(data, pdf) {
			t.Fatalf("proof read back: %d bytes, %v", len(data), err)
		}
		_, err = b.svc.AttachPayoutProof(b.seller, po.ID, jpeg)
		wantCode(t, err, promokit.EConflict)

		// Refused, each writing nothing.
		e := wantCode(t, second(b.svc.RecordPayoutWithProof(b.seller, b.payout(100), text)), promokit.EUnsupportedMedia)
		if len(e.Fields) != 0 {
			t.Errorf("a refused type names fields %+v", e.Fields)
		}
		for _, empty := range [][]byte{nil, {}} {
			e := wantCode(t, second(b.svc.RecordPayoutWithProof(b.seller, b.payout(100), empty)), promokit.EInvalid)
			if len(e.Fields) != 1 || e.Fields[0].Field != "proof" {
				t.Errorf("an empty proof: fields %+v", e.Fields)
			}
		}
		wantCode(t, second(b.svc.RecordPayoutWithProof(b.seller, b.payout(401), png)), promokit.EPayoutExceeds)
		bad := b.payout(100)
		bad.Reference = ""
		wantCode(t, second(b.svc.RecordPayoutWithProof(b.seller, bad, png)), promokit.EInvalid)
		wantCode(t, second(b.svc.RecordPayoutWithProof(b.foreign, b.payout(100), png)), promokit.ENotFound)
		wantCode(t, second(b.svc.RecordPayoutWithProof(b.affiliate, b.payout(100), png)), promokit.EForbidden)
		// The proof's row fails after the payout's: the payout goes too.
		fs.setDown("PayoutProofAdd", 0)
		if _, err := b.svc.RecordPayoutWithProof(b.admin, b.payout(100), png); err == nil {
			t.Fatal("a payout whose proof was not stored was recorded")
		}
		fs.setDown("", 0)

		list, err := b.svc.ListPayouts(b.admin, engine.PayoutQuery{}, storage.Page{})
		if err != nil || len(list) != 1 || list[0].ID != po.ID {
			t.Fatalf("payouts = %+v, %v; want only %s", list, err, po.ID)
		}
		if _, closing := b.balance(t, jan1.Truncate(24*time.Hour)); closing != (engine.Balance{Payable: 400, Paid: 100}) {
			t.Fatalf("closing balance = %+v, want 400 payable and 100 paid", closing)
		}
		// The rest is payable still, proved by the admin for the shop.
		rest, err := b.svc.RecordPayoutWithProof(b.admin, b.payout(400), jpeg)
		if err != nil || rest.Proof == nil || rest.Proof.Type != promokit.ProofJPEG {
			t.Fatalf("the rest = %+v, %v", rest, err)
		}
		diffs, err := b.store.UsageCheck(context.Background())
		if err != nil || len(diffs) != 0 {
			t.Fatalf("check = %+v, %v", diffs, err)
		}
	})
}

// second returns the error of a call that also returns a value.
func second[T any](_ T, err error) error { return err }
