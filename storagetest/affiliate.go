package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// The affiliate program: memberships and rates.

// testMemberships checks the round trip of memberships, the latest one
// after a rejoin, exits and their errors.
func testMemberships(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	latest := func(storeID string, lock bool) (*promokit.Membership, error) {
		var m *promokit.Membership
		err := b.writeErr(func(tx storage.Tx) (err error) {
			m, err = tx.MembershipGetLatest(b.ctx, storeID, lock)
			return err
		})
		return m, err
	}
	for _, lock := range []bool{false, true} {
		_, err := latest("sto_1", lock)
		wantErr(t, fmt.Sprintf("MembershipGetLatest of a store that never joined (lock %v)", lock), err, storage.ErrNotFound)
	}
	_, err := latest("sto_9", true)
	wantErr(t, "MembershipGetLatest of a missing store", err, storage.ErrNotFound)

	m1 := &promokit.Membership{ID: "mem_1", StoreID: "sto_1", URL: "https://shop.example/one", JoinedAt: b.now}
	other := &promokit.Membership{ID: "mem_0", StoreID: "sto_2", URL: "https://shop.example/two", JoinedAt: b.at(time.Hour)}
	b.write(t, func(tx storage.Tx) error {
		if err := tx.MembershipCreate(b.ctx, m1); err != nil {
			return err
		}
		return tx.MembershipCreate(b.ctx, other)
	})
	for _, lock := range []bool{false, true} {
		got, err := latest("sto_1", lock)
		if err != nil {
			t.Fatalf("MembershipGetLatest: %v", err)
		}
		wantEqual(t, "membership", m1, got)
	}
	err = b.writeErr(func(tx storage.Tx) error {
		dup := *m1
		return tx.MembershipCreate(b.ctx, &dup)
	})
	wantErr(t, "a second membership with one id", err, storage.ErrExists)
	err = b.writeErr(func(tx storage.Tx) error {
		return tx.MembershipCreate(b.ctx, &promokit.Membership{ID: "mem_9", StoreID: "sto_9", JoinedAt: b.now})
	})
	wantErr(t, "a membership of a missing store", err, storage.ErrNotFound)

	// An exit is recorded once.
	requested, exits := b.at(16*24*time.Hour), b.at(17*24*time.Hour)
	b.write(t, func(tx storage.Tx) error { return tx.MembershipSetExit(b.ctx, "mem_1", requested, exits) })
	err = b.writeErr(func(tx storage.Tx) error { return tx.MembershipSetExit(b.ctx, "mem_1", exits, exits) })
	wantErr(t, "a second exit", err, storage.ErrNotFound)
	err = b.writeErr(func(tx storage.Tx) error { return tx.MembershipSetExit(b.ctx, "mem_9", requested, exits) })
	wantErr(t, "the exit of a missing membership", err, storage.ErrNotFound)
	m1.ExitRequestedAt, m1.ExitsAt = &requested, &exits
	got, err := latest("sto_1", false)
	if err != nil {
		t.Fatalf("MembershipGetLatest: %v", err)
	}
	wantEqual(t, "membership after its exit", m1, got)

	// A rejoin is the latest membership; the other store's is untouched.
	m2 := &promokit.Membership{ID: "mem_2", StoreID: "sto_1", URL: "https://shop.example/one-again", JoinedAt: b.at(30 * 24 * time.Hour)}
	b.write(t, func(tx storage.Tx) error { return tx.MembershipCreate(b.ctx, m2) })
	got, err = latest("sto_1", true)
	if err != nil {
		t.Fatalf("MembershipGetLatest: %v", err)
	}
	wantEqual(t, "membership after a rejoin", m2, got)
	got, err = latest("sto_2", false)
	if err != nil {
		t.Fatalf("MembershipGetLatest: %v", err)
	}
	wantEqual(t, "the other store's membership", other, got)
}

// testMembershipsLock checks that MembershipGetLatest with lock serialises
// the joins of one store: of concurrent writers that each join when they
// find no membership, exactly one joins.
func testMembershipsLock(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	const writers = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		joined int
	)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			did := false
			err := b.writeErr(func(tx storage.Tx) error {
				did = false
				_, err := tx.MembershipGetLatest(b.ctx, "sto_1", true)
				if !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				did = true
				return tx.MembershipCreate(b.ctx, &promokit.Membership{ID: fmt.Sprintf("mem_%d", i), StoreID: "sto_1", JoinedAt: b.now})
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
			if did && err == nil {
				joined++
			}
		}()
	}
	wg.Wait()
	if joined != 1 {
		t.Fatalf("%d of %d concurrent writers joined, want 1", joined, writers)
	}
}

// testRates checks the rates in force at a time: the latest row at or
// before it per product, ties of effective_at broken by id, removed rows
// included, and the history newest first.
func testRates(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	rate := func(product string, bp promokit.BasisPoints, removed bool, at time.Time) *promokit.Rate {
		return &promokit.Rate{StoreID: "sto_1", ProductID: product, Rate: bp, Removed: removed, EffectiveAt: at}
	}
	var (
		g1       = rate("", 500, false, b.now)
		p1       = rate("prd_1", 800, false, b.at(time.Hour))
		p2a      = rate("prd_2", 300, false, b.at(time.Hour))
		p2b      = rate("prd_2", 350, false, b.at(time.Hour)) // same time, higher id: wins
		g2       = rate("", 600, false, b.at(2*time.Hour))
		p1Gone   = rate("prd_1", 0, true, b.at(3*time.Hour))
		foreign  = &promokit.Rate{StoreID: "sto_2", ProductID: "prd_1", Rate: 9000, EffectiveAt: b.now}
		p3       = rate("prd_3", 100, false, b.at(5*time.Hour))
		earlyRow = rate("prd_2", 200, false, b.at(30*time.Minute)) // added last, in force before p2a and p2b
	)
	all := []*promokit.Rate{g1, p1, p2a, p2b, g2, p1Gone, foreign, p3, earlyRow}
	b.write(t, func(tx storage.Tx) error {
		for _, r := range all {
			if err := tx.RateAdd(b.ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("RateAdd ids %d then %d, want increasing", all[i-1].ID, all[i].ID)
		}
	}
	err := b.writeErr(func(tx storage.Tx) error {
		return tx.RateAdd(b.ctx, &promokit.Rate{StoreID: "sto_9", Rate: 1, EffectiveAt: b.now})
	})
	wantErr(t, "a rate of a missing store", err, storage.ErrNotFound)

	at := func(when time.Time, products ...string) []*promokit.Rate {
		t.Helper()
		var got []*promokit.Rate
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.RateListAt(b.ctx, "sto_1", when, products)
			return err
		})
		slices.SortFunc(got, func(a, b *promokit.Rate) int { return strings.Compare(a.ProductID, b.ProductID) })
		return got
	}
	products := []string{"prd_1", "prd_2", "prd_3", "prd_9"}
	wantEqual(t, "rates before any", []*promokit.Rate(nil), at(b.at(-time.Microsecond), products...))
	wantEqual(t, "rates at the first", []*promokit.Rate{g1}, at(b.now, products...))
	wantEqual(t, "rates just before the product rates", []*promokit.Rate{g1, earlyRow}, at(b.at(time.Hour-time.Microsecond), products...))
	wantEqual(t, "rates at the product rates", []*promokit.Rate{g1, p1, p2b}, at(b.at(time.Hour), products...))
	wantEqual(t, "rates of the general rate only", []*promokit.Rate{g1}, at(b.at(time.Hour)))
	wantEqual(t, "rates of one product, asked twice", []*promokit.Rate{g1, p1}, at(b.at(time.Hour), "prd_1", "prd_1"))
	wantEqual(t, "rates after the general change", []*promokit.Rate{g2, p1, p2b}, at(b.at(150*time.Minute), products...))
	wantEqual(t, "rates after a removal", []*promokit.Rate{g2, p1Gone, p2b}, at(b.at(3*time.Hour), products...))
	wantEqual(t, "rates at the end", []*promokit.Rate{g2, p1Gone, p2b, p3}, at(b.at(6*time.Hour), products...))
	var none []*promokit.Rate
	b.read(t, func(tx storage.Tx) (err error) {
		none, err = tx.RateListAt(b.ctx, "sto_9", b.at(time.Hour), products)
		return err
	})
	wantEqual(t, "rates of a store without any", []*promokit.Rate(nil), none)

	// The history, newest first by id, page by page.
	list := func(storeID string, p storage.IDPage) ([]*promokit.Rate, error) {
		var got []*promokit.Rate
		err := b.readErr(func(tx storage.Tx) (err error) {
			got, err = tx.RateList(b.ctx, storeID, p)
			return err
		})
		return got, err
	}
	var pages [][]*promokit.Rate
	p := storage.IDPage{Limit: 3}
	for {
		got, err := list("sto_1", p)
		if err != nil {
			t.Fatalf("ListRates: %v", err)
		}
		if len(got) == 0 {
			break
		}
		pages = append(pages, got)
		p.After = got[len(got)-1].ID
	}
	wantEqual(t, "rate history", [][]*promokit.Rate{{earlyRow, p3, p1Gone}, {g2, p2b, p2a}, {p1, g1}}, pages)
}
