package engine_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// payoutTimes returns the times of a payout as its JSON writes them, by
// field ("uploaded_at" for its proof's), leaving out those it has not.
func payoutTimes(t *testing.T, po *promokit.Payout) map[string]string {
	t.Helper()
	data, err := json.Marshal(po)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		CreatedAt   string `json:"created_at"`
		DisputedAt  string `json:"disputed_at"`
		ConfirmedAt string `json:"confirmed_at"`
		Proof       *struct {
			UploadedAt string `json:"uploaded_at"`
		} `json:"proof"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range map[string]string{"created_at": doc.CreatedAt, "disputed_at": doc.DisputedAt, "confirmed_at": doc.ConfirmedAt} {
		if v != "" {
			out[k] = v
		}
	}
	if doc.Proof != nil {
		out["uploaded_at"] = doc.Proof.UploadedAt
	}
	return out
}

// wantTimes fails unless po's times are want, as its JSON writes them.
func wantTimes(t *testing.T, what string, po *promokit.Payout, want map[string]string) {
	t.Helper()
	got := payoutTimes(t, po)
	if len(got) != len(want) {
		t.Errorf("%s: times %v, want %v", what, got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got[k], v)
		}
	}
}

// TestPayoutTimeZone checks that the payouts' calls answer their times in
// the marketplace's time zone, as statements do, in RFC 3339 with the
// zone's offset: a marketplace in Tokyo (UTC+9) sees a payout recorded at
// 20:00 UTC on January 1 as created at 5:00 on January 2, +09:00, and
// paid_on is a date of Tokyo's calendar. The database keeps UTC: a read
// gives the same instants.
func TestPayoutTimeZone(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupPayableIn(t, open, 10000, "Asia/Tokyo")
		at := func(h, m int) { b.clock.Set(time.Date(2026, 1, 1, h, m, 0, 0, time.UTC)) }

		at(20, 0)
		in := b.payout(100)
		in.PaidOn = "2026-01-03" // tomorrow in Tokyo
		_, err := b.svc.RecordPayout(b.seller, in)
		wantCode(t, err, promokit.EInvalid)
		in.PaidOn = "2026-01-02" // today in Tokyo, tomorrow in UTC
		po, err := b.svc.RecordPayout(b.seller, in)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"created_at": "2026-01-02T05:00:00+09:00"}
		wantTimes(t, "recorded", po, want)

		at(20, 30)
		if po, err = b.svc.AttachPayoutProof(b.seller, po.ID, pdf); err != nil {
			t.Fatal(err)
		}
		want["uploaded_at"] = "2026-01-02T05:30:00+09:00"
		wantTimes(t, "proved", po, want)

		at(21, 0)
		if po, err = b.svc.DisputePayout(b.affiliate, po.ID, engine.DisputeInput{Message: "Not yet."}); err != nil {
			t.Fatal(err)
		}
		want["disputed_at"] = "2026-01-02T06:00:00+09:00"
		wantTimes(t, "disputed", po, want)

		at(22, 0)
		if po, err = b.svc.ConfirmPayout(b.affiliate, po.ID); err != nil {
			t.Fatal(err)
		}
		want["confirmed_at"] = "2026-01-02T07:00:00+09:00"
		wantTimes(t, "confirmed", po, want)

		got, err := b.svc.GetPayout(b.seller, po.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantTimes(t, "read back", got, want)
		if got.PaidOn != "2026-01-02" || !got.CreatedAt.Equal(time.Date(2026, 1, 1, 20, 0, 0, 0, time.UTC)) {
			t.Errorf("read back paid on %s, created at %v", got.PaidOn, got.CreatedAt)
		}
		list, err := b.svc.ListPayouts(b.affiliate, engine.PayoutQuery{}, storage.Page{})
		if err != nil || len(list) != 1 {
			t.Fatalf("list = %d payouts, %v", len(list), err)
		}
		wantTimes(t, "listed", list[0], want)
		proof, _, err := b.svc.PayoutProof(b.affiliate, po.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s := proof.UploadedAt.Format(time.RFC3339); s != want["uploaded_at"] {
			t.Errorf("the proof's uploaded_at = %s, want %s", s, want["uploaded_at"])
		}

		at(23, 0)
		with, err := b.svc.RecordPayoutWithProof(b.seller, in, png)
		if err != nil {
			t.Fatal(err)
		}
		wantTimes(t, "recorded with its proof", with,
			map[string]string{"created_at": "2026-01-02T08:00:00+09:00", "uploaded_at": "2026-01-02T08:00:00+09:00"})
	})
}
