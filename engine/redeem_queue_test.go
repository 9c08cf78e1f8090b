package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// gateStore holds every write transaction at a gate while it is closed, so
// that a test can fill the redeem queue behind writes that do not end.
type gateStore struct {
	storage.DB
	closed  atomic.Bool
	gate    chan struct{}
	waiting chan struct{}
}

func (g *gateStore) Write(ctx context.Context, fn func(storage.Tx) error) error {
	if g.closed.Load() {
		g.waiting <- struct{}{}
		<-g.gate
	}
	return g.DB.Write(ctx, fn)
}

// TestRedeemQueueBound checks that a process holds at most RedeemQueue
// redeem calls (8,192 by default; 200 here) waiting behind the batches
// being written and answers the next one 503 (EUnavailable) at once;
// once the writes go on, every queued call is answered.
func TestRedeemQueueBound(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		g := &gateStore{gate: make(chan struct{}), waiting: make(chan struct{}, 16)}
		const queued, extra = 200, 100
		b := setupWith(t, func(t *testing.T) storage.DB { g.DB = open(t); return g }, engine.Config{RedeemQueue: queued})
		in := percentInput()
		in.StoreID, in.TotalUses = b.shop.ID, engine.Nullable[int64]{}
		pr := mustCreatePromotion(t, b.seller, b, in)
		b.clock.Add(48 * time.Hour)
		if _, err := b.svc.CreateCode(b.seller, pr.ID, engine.CodeInput{Code: "QUEUE"}); err != nil {
			t.Fatal(err)
		}
		cart := promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{{ProductID: "mug", Quantity: 1, UnitPrice: 1000}}}
		redeem := func(order string) error {
			_, err := b.svc.Redeem(b.check, engine.RedeemInput{OrderID: order, Cart: cart, Codes: []string{"QUEUE"}})
			return err
		}
		g.closed.Store(true)
		// Two batches (the default) start their writes and stop at the gate.
		var wg sync.WaitGroup
		errs := make(chan error, queued+extra+2)
		for i := range 2 {
			wg.Go(func() { errs <- redeem(fmt.Sprintf("first-%d", i)) })
			<-g.waiting
		}
		// 200 calls wait behind them; of 300 sent at once, exactly 100
		// find the queue full and are refused at once.
		refused := make(chan error, extra+1)
		for i := range queued + extra {
			wg.Go(func() {
				err := redeem(fmt.Sprintf("queued-%d", i))
				if promokit.ErrorCode(err) == promokit.EUnavailable {
					refused <- err
					return
				}
				errs <- err
			})
		}
		for range extra {
			<-refused
		}
		g.closed.Store(false)
		close(g.gate)
		wg.Wait()
		close(errs)
		n := 0
		for err := range errs {
			if err != nil {
				t.Fatalf("a queued call failed: %v", err)
			}
			n++
		}
		if n != queued+2 || len(refused) != 0 {
			t.Fatalf("%d calls answered and %d more refused, want %d and none", n, len(refused), queued+2)
		}
	})
}

// TestClickQueueFull holds the click writes as a database that does not
// answer would: the clicks are answered until the queue is full, the next
// one waits a second and is answered EUnavailable, and once the database
// answers again every click that was answered is stored, and no other.
func TestClickQueueFull(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		g := &gateStore{gate: make(chan struct{}), waiting: make(chan struct{}, 16)}
		b := setupWith(t, func(t *testing.T) storage.DB { g.DB = open(t); return g }, engine.Config{ClickFlush: time.Millisecond})
		rate := promokit.BasisPoints(500)
		if _, err := b.svc.JoinAffiliate(b.seller, b.shop.ID, engine.JoinInput{AcceptTerms: true, Rate: &rate, URL: "https://shop.example/"}); err != nil {
			t.Fatal(err)
		}
		aff, err := b.svc.CreatePartner(b.admin, engine.PartnerInput{Name: "Aff", Kind: promokit.PartnerAffiliate})
		if err != nil {
			t.Fatal(err)
		}
		l, err := b.svc.CreateLink(b.admin, engine.LinkInput{StoreID: b.shop.ID, PartnerID: aff.ID})
		if err != nil {
			t.Fatal(err)
		}
		g.closed.Store(true)
		go func() {
			for range g.waiting { // the writes queue at the gate
			}
		}()
		answered := 0
		for {
			_, err := b.svc.Click(context.Background(), engine.ClickInput{Token: l.Token, UserAgent: browser})
			if promokit.ErrorCode(err) == promokit.EUnavailable {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			answered++
			if answered > 100_000 {
				t.Fatal("the click queue never filled")
			}
		}
		if answered < 16_384 {
			t.Fatalf("refused after %d clicks, before the queue of 16,384 was full", answered)
		}
		g.closed.Store(false)
		close(g.gate)
		if err := b.svc.FlushClicks(context.Background()); err != nil {
			t.Fatal(err)
		}
		v, err := b.svc.GetLink(b.admin, l.ID)
		if err != nil || v.Clicks != int64(answered) {
			t.Fatalf("stored %+v, %v; want the %d clicks answered", v, err, answered)
		}
	})
}
