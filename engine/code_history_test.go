package engine_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// historyOrder redeems (or, with hold, reserves) the code for the order id
// at shop, a $50 cart of mugs, as its checkout.
func historyOrder(t *testing.T, b *bundle, id, code string, hold time.Duration) {
	t.Helper()
	in := engine.RedeemInput{OrderID: id, Codes: []string{code}, Customer: promokit.Identity{CustomerID: "cus_" + id},
		Cart: promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{{ProductID: "mug", Quantity: 2, UnitPrice: 2500}}}}
	var err error
	if hold > 0 {
		_, err = b.svc.Reserve(b.check, in, hold)
	} else {
		_, err = b.svc.Redeem(b.check, in)
	}
	if err != nil {
		t.Fatalf("order %s: %v", id, err)
	}
}

// TestCodeRedemptions: a code's usage history lists its redemptions in
// every state, by id, in pages; it is the caller's code or not found.
func TestCodeRedemptions(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p := mustCreatePromotion(t, b.seller, b, percentInput())
		for _, in := range []engine.CodeInput{{Code: "HIST-1", PartnerID: &b.partnr.ID}, {Code: "HIST-2"}} {
			if _, err := b.svc.CreateCode(b.seller, p.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		q := mustCreatePromotion(t, b.foreign, b, percentInput())
		if _, err := b.svc.CreateCode(b.foreign, q.ID, engine.CodeInput{Code: "ELSEWHERE"}); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(jan1.Add(48 * time.Hour)) // the promotions have started
		historyOrder(t, b, "ord-1", "HIST-1", 0)
		historyOrder(t, b, "ord-2", "HIST-2", 0)
		historyOrder(t, b, "ord-3", "HIST-1", 10*time.Minute)
		historyOrder(t, b, "ord-4", "HIST-1", 10*time.Minute)
		historyOrder(t, b, "ord-5", "HIST-1", 0)
		if _, err := b.svc.Release(b.check, b.shop.ID, "ord-3"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Rollback(b.check, b.shop.ID, "ord-5"); err != nil {
			t.Fatal(err)
		}
		// 15% of $50.
		want := "[ord-1 redeemed 750 ord-3 released 750 ord-4 held 750 ord-5 rolled_back 750]"

		history := func(ctx context.Context, code string, page storage.Page) ([]*engine.CodeUse, error) {
			return b.svc.ListCodeRedemptions(ctx, code, page)
		}
		show := func(list []*engine.CodeUse) string {
			var out []any
			for _, r := range list {
				if r.Code != "HIST-1" || r.StoreID != b.shop.ID || r.PromotionID != p.ID {
					t.Errorf("a redemption of another code, store or promotion: %+v", r)
				}
				out = append(out, r.OrderID, r.State, r.Discount)
			}
			return fmt.Sprint(out)
		}
		for name, ctx := range map[string]context.Context{"admin": b.admin, "seller": b.seller, "partner": b.partner} {
			list, err := history(ctx, "hist-1", storage.Page{})
			if err != nil || show(list) != want {
				t.Errorf("%s: history %s %v, want %s", name, show(list), err, want)
			}
		}
		// Pages of two, by id.
		var pages []string
		page := storage.Page{Limit: 2}
		for {
			list, err := history(b.seller, "HIST-1", page)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, show(list))
			if len(list) < page.Limit {
				break
			}
			page.After = strconv.FormatInt(list[len(list)-1].ID, 10)
		}
		if got := fmt.Sprint(pages); got != "[[ord-1 redeemed 750 ord-3 released 750] [ord-4 held 750 ord-5 rolled_back 750] []]" {
			t.Errorf("pages %s", got)
		}
		// A code without redemptions has an empty history.
		if list, err := history(b.admin, "ELSEWHERE", storage.Page{}); err != nil || len(list) != 0 {
			t.Errorf("admin, a code without redemptions: %v %v", list, err)
		}

		// Foreign principals: not found, as a missing code is.
		for name, tc := range map[string]struct {
			ctx  context.Context
			code string
		}{
			"foreign seller":           {b.foreign, "HIST-1"},
			"partner, unassigned code": {b.partner, "HIST-2"},
			"seller, missing code":     {b.seller, "NO-SUCH-CODE"},
			"seller, impossible code":  {b.seller, "a b\x00"},
			"admin, missing code":      {b.admin, "NO-SUCH-CODE"},
		} {
			if _, err := history(tc.ctx, tc.code, storage.Page{}); promokit.ErrorCode(err) != promokit.ENotFound {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}
		_, err := history(b.check, "HIST-1", storage.Page{})
		wantCode(t, err, promokit.EForbidden)
		for _, after := range []string{"x", "-1", "9223372036854775808"} {
			_, err := history(b.seller, "HIST-1", storage.Page{After: after})
			if e := wantCode(t, err, promokit.EInvalid); len(e.Fields) != 1 || e.Fields[0].Field != "after" {
				t.Errorf("cursor %q: %+v", after, e)
			}
		}
	})
}

// TestExportStoreCodes: a store's codes across its promotions, each with
// its promotion, promotions by id and codes in creation order, for the
// admin and the store's seller only.
func TestExportStoreCodes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		var promos []*promokit.Promotion
		for i := range 3 {
			in := percentInput()
			in.Name = ptr(strconv.Itoa(i))
			promos = append(promos, mustCreatePromotion(t, b.seller, b, in))
		}
		auto := percentInput()
		auto.Automatic = ptr(true)
		mustCreatePromotion(t, b.seller, b, auto)
		// Codes created across the promotions, out of their order.
		codes := map[*promokit.Promotion][]string{}
		addCode := func(p *promokit.Promotion, code string) {
			t.Helper()
			if _, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: code}); err != nil {
				t.Fatal(err)
			}
			codes[p] = append(codes[p], code+"@"+p.Name)
		}
		for i, pi := range []int{2, 0, 2, 1, 0} {
			addCode(promos[pi], fmt.Sprintf("EXP-%d", i))
		}
		// wantExport is the export: the promotions by id, each one's
		// codes in creation order.
		wantExport := func() string {
			byID := slices.SortedFunc(maps.Keys(codes), func(a, b *promokit.Promotion) int { return strings.Compare(a.ID, b.ID) })
			var out []string
			for _, p := range byID {
				out = append(out, codes[p]...)
			}
			return fmt.Sprint(out)
		}
		q := mustCreatePromotion(t, b.foreign, b, percentInput())
		if _, err := b.svc.CreateCode(b.foreign, q.ID, engine.CodeInput{Code: "ELSEWHERE"}); err != nil {
			t.Fatal(err)
		}
		export := func(ctx context.Context, storeID string) (string, error) {
			var got []string
			err := b.svc.ExportStoreCodes(ctx, storeID, func(c *promokit.Code, p *promokit.Promotion) error {
				if c.PromotionID != p.ID || c.StoreID != storeID {
					return fmt.Errorf("code %+v exported with promotion %s", c, p.ID)
				}
				got = append(got, c.Code+"@"+p.Name)
				return nil
			})
			return fmt.Sprint(got), err
		}
		want := wantExport()
		for name, ctx := range map[string]context.Context{"admin": b.admin, "seller": b.seller} {
			if got, err := export(ctx, b.shop.ID); err != nil || got != want {
				t.Errorf("%s: export %s %v, want %s", name, got, err, want)
			}
		}
		if got, err := export(b.foreign, b.other.ID); err != nil || got != "[ELSEWHERE@Spring]" {
			t.Errorf("the other store's own export: %s %v", got, err)
		}
		for name, tc := range map[string]struct {
			ctx   context.Context
			store string
			code  string
		}{
			"foreign seller":       {b.foreign, b.shop.ID, promokit.ENotFound},
			"seller, missing":      {b.seller, "sto_missing", promokit.ENotFound},
			"admin, missing":       {b.admin, "sto_missing", promokit.ENotFound},
			"admin, impossible id": {b.admin, "sto\x00", promokit.ENotFound},
			"partner":              {b.partner, b.shop.ID, promokit.EForbidden},
			"checkout":             {b.check, b.shop.ID, promokit.EForbidden},
		} {
			_, err := export(tc.ctx, tc.store)
			if promokit.ErrorCode(err) != tc.code {
				t.Errorf("%s: %v, want %s", name, err, tc.code)
			}
		}
		// Past a page of promotions (101 with a code, and the automatic
		// one): the codes of the second page are there too.
		for i := len(promos); i <= 100; i++ {
			in := percentInput()
			in.Name = ptr(strconv.Itoa(i))
			promos = append(promos, mustCreatePromotion(t, b.seller, b, in))
			addCode(promos[i], fmt.Sprintf("PAGE-%d", i))
		}
		if got, err := export(b.seller, b.shop.ID); err != nil || got != wantExport() {
			t.Errorf("export past a page of promotions: %s %v", got, err)
		}
		// fn's error ends the export and is returned as it is.
		errStop := errors.New("stop")
		n := 0
		err := b.svc.ExportStoreCodes(b.seller, b.shop.ID, func(*promokit.Code, *promokit.Promotion) error {
			n++
			return errStop
		})
		if !errors.Is(err, errStop) || n != 1 {
			t.Errorf("export after fn's error: %d rows, %v", n, err)
		}
	})
}
