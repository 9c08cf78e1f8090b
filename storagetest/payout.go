package storagetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// newPayout returns a recorded payout of amount USD cents from payer to
// payee, made at at.
func newPayout(id, payer, payee string, amount int64, at time.Time) *promokit.Payout {
	return &promokit.Payout{ID: id, Payer: payer, Payee: payee, StoreID: promokit.PayoutStore(payer, payee), Currency: "USD",
		Amount: amount, PaidOn: at.Format(time.DateOnly), Reference: "wire " + id, State: promokit.PayoutRecorded, CreatedAt: at}
}

// testPayouts checks that a payout reads back as written, to its payer,
// its payee and an empty party only; that lists select by party and
// counterparty and page by id; that an answer applies only from the state
// it was read in; and that a proof is added once and reads back whole.
func testPayouts(t *testing.T, b *bundle) {
	ps := []*promokit.Payout{
		newPayout("pay_1", "sto_1", "par_1", 300, b.now),
		newPayout("pay_2", promokit.Marketplace, "sto_1", 200, b.at(time.Second)),
		newPayout("pay_3", "sto_2", "par_1", 100, b.at(2*time.Second)),
		newPayout("pay_4", "sto_1", promokit.Marketplace, 50, b.at(3*time.Second)),
	}
	b.write(t, func(tx storage.Tx) error {
		for _, p := range ps {
			if err := tx.PayoutCreate(b.ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	err := b.writeErr(func(tx storage.Tx) error {
		return tx.PayoutCreate(b.ctx, newPayout("pay_1", "sto_9", "par_9", 1, b.now))
	})
	wantErr(t, "create again", err, storage.ErrExists)
	b.read(t, func(tx storage.Tx) error {
		for _, party := range []string{"", "sto_1", "par_1"} {
			got, err := tx.PayoutGet(b.ctx, party, "pay_1")
			if err != nil {
				return fmt.Errorf("get as %q: %w", party, err)
			}
			wantEqual(t, "payout as "+party, ps[0], got)
		}
		for _, party := range []string{"sto_2", "par_2", promokit.Marketplace} {
			_, err := tx.PayoutGet(b.ctx, party, "pay_1")
			wantErr(t, "get as "+party, err, storage.ErrNotFound)
		}
		_, err := tx.PayoutGet(b.ctx, "", "pay_9")
		wantErr(t, "get a missing payout", err, storage.ErrNotFound)

		ids := func(f storage.PayoutFilter, p storage.Page) []string {
			list, err := tx.PayoutList(b.ctx, f, p)
			if err != nil {
				t.Fatalf("list %+v: %v", f, err)
			}
			out := []string{}
			for _, p := range list {
				out = append(out, p.ID)
			}
			return out
		}
		wantEqual(t, "all", []string{"pay_1", "pay_2", "pay_3", "pay_4"}, ids(storage.PayoutFilter{}, storage.Page{}))
		wantEqual(t, "sto_1", []string{"pay_1", "pay_2", "pay_4"}, ids(storage.PayoutFilter{Party: "sto_1"}, storage.Page{}))
		wantEqual(t, "sto_1 page", []string{"pay_2"}, ids(storage.PayoutFilter{Party: "sto_1"}, storage.Page{After: "pay_1", Limit: 1}))
		wantEqual(t, "par_1", []string{"pay_1", "pay_3"}, ids(storage.PayoutFilter{Party: "par_1"}, storage.Page{}))
		wantEqual(t, "sto_1 with the marketplace", []string{"pay_2", "pay_4"},
			ids(storage.PayoutFilter{Party: "sto_1", Counterparty: promokit.Marketplace}, storage.Page{}))
		wantEqual(t, "the marketplace with sto_1", []string{"pay_2", "pay_4"},
			ids(storage.PayoutFilter{Party: promokit.Marketplace, Counterparty: "sto_1"}, storage.Page{}))
		wantEqual(t, "par_2", []string{}, ids(storage.PayoutFilter{Party: "par_2"}, storage.Page{}))
		return nil
	})

	// An answer applies from the state it was read in only.
	disputed := *ps[0]
	at := b.at(time.Minute)
	disputed.State, disputed.Message, disputed.DisputedAt = promokit.PayoutDisputed, "not received", &at
	b.write(t, func(tx storage.Tx) error { return tx.PayoutAnswer(b.ctx, &disputed, promokit.PayoutRecorded) })
	b.write(t, func(tx storage.Tx) error {
		late := *ps[0]
		late.State, late.ConfirmedAt = promokit.PayoutConfirmed, &at
		wantErr(t, "answer from a stale state", tx.PayoutAnswer(b.ctx, &late, promokit.PayoutRecorded), storage.ErrStale)
		missing := *ps[0]
		missing.ID = "pay_9"
		wantErr(t, "answer a missing payout", tx.PayoutAnswer(b.ctx, &missing, promokit.PayoutRecorded), storage.ErrStale)
		return nil
	})
	b.read(t, func(tx storage.Tx) error {
		got, err := tx.PayoutGet(b.ctx, "", "pay_1")
		wantEqual(t, "disputed payout", &disputed, got)
		return err
	})

	// A proof: once, read back whole, described on the payout.
	data := append([]byte("%PDF-1.7\n"), make([]byte, 70_000)...)
	data[len(data)-1] = 0xFF
	proof := &promokit.PayoutProof{Type: promokit.ProofPDF, Size: int64(len(data)), SHA256: "ab", UploadedAt: b.at(time.Hour)}
	b.read(t, func(tx storage.Tx) error {
		_, _, err := tx.PayoutProofGet(b.ctx, "pay_1")
		wantErr(t, "proof before its upload", err, storage.ErrNotFound)
		return nil
	})
	b.write(t, func(tx storage.Tx) error { return tx.PayoutProofAdd(b.ctx, "pay_1", proof, data) })
	err = b.writeErr(func(tx storage.Tx) error { return tx.PayoutProofAdd(b.ctx, "pay_1", proof, data) })
	wantErr(t, "second proof", err, storage.ErrExists)
	err = b.writeErr(func(tx storage.Tx) error { return tx.PayoutProofAdd(b.ctx, "pay_9", proof, data) })
	wantErr(t, "proof of a missing payout", err, storage.ErrNotFound)
	b.read(t, func(tx storage.Tx) error {
		gotProof, gotData, err := tx.PayoutProofGet(b.ctx, "pay_1")
		if err != nil {
			return err
		}
		wantEqual(t, "proof", proof, gotProof)
		wantEqual(t, "proof bytes", data, gotData)
		p, err := tx.PayoutGet(b.ctx, "par_1", "pay_1")
		wantEqual(t, "payout's proof", proof, p.Proof)
		return err
	})
}

// testPayoutLock checks that PayoutLock serialises the payouts of a pair:
// 20 transactions each lock the pair, read its payable balance of 500
// (PayoutPayable) and pay 30 out of it when it is enough. Exactly 16 pay,
// and the balance left is 20, however the transactions interleave; it is
// what the ledger's sums say, and other pairs and currencies are apart.
func testPayoutLock(t *testing.T, b *bundle) {
	b.write(t, func(tx storage.Tx) error {
		return tx.LedgerAddMany(b.ctx, []*promokit.LedgerEntry{
			newEntry("par_1", "sto_1", "ord-1", 0, promokit.LedgerPayable, promokit.EntryReleased, 500, "USD", b.now),
			// Another currency and another pair count for nothing.
			newEntry("par_1", "sto_1", "ord-2", 0, promokit.LedgerPayable, promokit.EntryReleased, 900, "EUR", b.now),
			newEntry("par_2", "sto_1", "ord-3", 0, promokit.LedgerPayable, promokit.EntryReleased, 900, "USD", b.now),
		})
	})
	payable := func(tx storage.Tx) (int64, error) { return tx.PayoutPayable(b.ctx, "sto_1", "par_1", "USD") }
	// What the ledger's sums say the pair owes, for PayoutPayable to
	// agree with.
	summed := func(tx storage.Tx, payee, currency string) (int64, error) {
		totals, err := tx.LedgerSum(b.ctx, storage.LedgerFilter{Party: "sto_1", Counterparty: payee})
		var n int64
		for _, s := range totals {
			if s.Side == promokit.SidePayer && s.Currency == currency && s.Status == promokit.LedgerPayable {
				n += s.Amount
			}
		}
		return n, err
	}
	errShort := errors.New("short")
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		paid   int
		short  int
		failed []error
	)
	start := make(chan struct{})
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := b.writeErr(func(tx storage.Tx) error {
				at := b.at(time.Duration(i+1) * time.Millisecond)
				if err := tx.PayoutLock(b.ctx, "sto_1", "par_1", "USD", at); err != nil {
					return err
				}
				n, err := payable(tx)
				if err != nil {
					return err
				}
				if n < 30 {
					return errShort
				}
				p := newPayout(fmt.Sprintf("pay_%02d", i), "sto_1", "par_1", 30, at)
				if err := tx.PayoutCreate(b.ctx, p); err != nil {
					return err
				}
				return tx.LedgerAddMany(b.ctx, promokit.PayoutEntries(p, at))
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				paid++
			case errors.Is(err, errShort):
				short++
			default:
				failed = append(failed, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(failed) > 0 || paid != 16 || short != 4 {
		t.Fatalf("%d paid, %d refused, errors %v; want 16 and 4", paid, short, failed)
	}
	b.read(t, func(tx storage.Tx) error {
		for _, c := range []struct {
			payee, currency string
			want            int64
		}{{"par_1", "USD", 20}, {"par_1", "EUR", 900}, {"par_2", "USD", 900}, {"par_3", "USD", 0}} {
			got, err := tx.PayoutPayable(b.ctx, "sto_1", c.payee, c.currency)
			if err != nil {
				return err
			}
			sum, err := summed(tx, c.payee, c.currency)
			if err != nil {
				return err
			}
			if got != c.want || sum != c.want {
				t.Errorf("payable of sto_1 to %s in %s = %d (the ledger's sums: %d), want %d", c.payee, c.currency, got, sum, c.want)
			}
		}
		return nil
	})
	wantCounterDiffs(t, b, "check after the payouts", nil)
}

// testPayoutCheck checks that UsageCheck compares each payout's amount
// with the sum of its paid entries: a payout whose entries say another
// amount and a payout without entries show. It checks each entry that
// names a payout too: an entry naming a payout that does not exist, and
// one whose payout is between other parties or in another currency, show
// by the entry's id, saying what is wrong.
func testPayoutCheck(t *testing.T, b *bundle) {
	good := newPayout("pay_1", "sto_1", "par_1", 300, b.now)
	short := newPayout("pay_2", "sto_1", "par_1", 200, b.now)
	bare := newPayout("pay_3", promokit.Marketplace, "par_1", 70, b.now)
	other := newPayout("pay_4", "sto_1", "par_2", 60, b.now)
	orphan := newPayout("pay_9", "sto_2", "par_2", 40, b.now)
	shortEntries, otherEntries, orphanEntries := promokit.PayoutEntries(short, b.now), promokit.PayoutEntries(other, b.now),
		promokit.PayoutEntries(orphan, b.now)
	shortEntries[1].Amount = 150 // the paid entry of pay_2
	otherEntries[0].Payee = "par_1"
	otherEntries[1].Currency = "EUR"
	b.write(t, func(tx storage.Tx) error {
		for _, p := range []*promokit.Payout{good, short, bare, other} {
			if err := tx.PayoutCreate(b.ctx, p); err != nil {
				return err
			}
		}
		es := append(promokit.PayoutEntries(good, b.now), shortEntries...)
		return tx.LedgerAddMany(b.ctx, append(append(es, otherEntries...), orphanEntries...))
	})
	want := []storage.CounterDiff{
		{Kind: promokit.CounterPayoutPaid, Subject: "pay_2", Stored: 200, FromRows: 150},
		{Kind: promokit.CounterPayoutPaid, Subject: "pay_3", Stored: 70, FromRows: 0},
	}
	for _, c := range []struct {
		e      *promokit.LedgerEntry
		detail string
	}{
		{otherEntries[0], "names payout pay_4, from sto_1 to par_2 in USD, but the entry is from sto_1 to par_1 in USD"},
		{otherEntries[1], "names payout pay_4, from sto_1 to par_2 in USD, but the entry is from sto_1 to par_2 in EUR"},
		{orphanEntries[0], "names payout pay_9, which does not exist"},
		{orphanEntries[1], "names payout pay_9, which does not exist"},
	} {
		want = append(want, storage.CounterDiff{Kind: promokit.CounterLedgerPayout, Subject: strconv.FormatInt(c.e.ID, 10), Detail: c.detail})
	}
	slices.SortFunc(want, func(x, y storage.CounterDiff) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Subject, y.Subject))
	})
	wantCounterDiffs(t, b, "check", want)
}
