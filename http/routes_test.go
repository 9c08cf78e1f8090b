package http

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// principal names the callers of the route table.
type principal int

const (
	asAdmin      principal = iota
	asSeller               // owns shop, the store the requests are about
	asForeign              // owns other
	asPartner              // holds shop's code SHOPCODE1
	asCheckout             // bound to shop
	asStorefront           // bound to shop
	asAnon                 // no key
	principals
)

func (p principal) String() string {
	return [...]string{"admin", "seller", "foreign", "partner", "checkout", "storefront", "anonymous"}[p]
}

// key returns the secret of principal p.
func (b *testBundle) key(p principal) string {
	return [...]string{b.admin, b.seller, b.foreign, b.partner, b.checkout, b.storefront, ""}[p]
}

// notExpected returns what p must never see: the names, codes and key ids
// of the stores and partners it has no business with.
func (b *testBundle) notExpected(p principal) []string {
	switch p {
	case asSeller, asCheckout:
		return []string{b.otherName, b.otherPName, b.otherCode, "Other Gadget"}
	case asStorefront:
		// It prices its store's carts and sees nothing else, of its store or another.
		return []string{b.shopName, b.promoName, b.shopCode2, "Shop Widget", b.sellerKeyID, b.checkoutKeyID,
			b.otherName, b.otherPName, b.otherCode, "Other Gadget"}
	case asForeign:
		return []string{b.shopName, b.promoName, b.shopCode, b.shopCode2, "Shop Widget", b.sellerKeyID, b.checkoutKeyID}
	case asPartner:
		return []string{b.otherName, b.otherPName, b.otherCode, b.shopCode2, b.sellerKeyID, b.checkoutKeyID}
	case asAnon:
		return []string{b.shopName, b.otherName, b.promoName, b.otherPName, b.shopCode, b.shopCode2, b.otherCode, b.shop.ID}
	}
	return nil
}

// routeCase is one route of the table and the status each principal gets.
type routeCase struct {
	method, pattern string
	path            func(b *testBundle) string
	body            func(b *testBundle) any
	hdr             []string
	want            [principals]int // admin, seller, foreign, partner, checkout, storefront, anonymous
}

func (rc routeCase) mutates() bool { return rc.method != "GET" }

// routeCases returns the table: every route of Routes().
func routeCases() []routeCase {
	const (
		ok  = http.StatusOK
		cr  = http.StatusCreated
		acc = http.StatusAccepted
		una = http.StatusUnauthorized
		frb = http.StatusForbidden
		nf  = http.StatusNotFound
		unp = http.StatusUnprocessableEntity
		fnd = http.StatusFound
	)
	fixed := func(p string) func(*testBundle) string { return func(*testBundle) string { return p } }
	promo := func(suffix string) func(*testBundle) string {
		return func(b *testBundle) string { return "/v1/promotions/" + b.promo.ID + suffix }
	}
	shop := func(suffix string) func(*testBundle) string {
		return func(b *testBundle) string { return "/v1/stores/" + b.shop.ID + suffix }
	}
	partner := func(suffix string) func(*testBundle) string {
		return func(b *testBundle) string { return "/v1/partners/" + b.partnr.ID + suffix }
	}
	body := func(v any) func(*testBundle) any { return func(*testBundle) any { return v } }
	return []routeCase{
		{"GET", "/healthz", fixed("/healthz"), nil, nil, [principals]int{ok, ok, ok, ok, ok, ok, ok}},
		{"GET", "/readyz", fixed("/readyz"), nil, nil, [principals]int{ok, ok, ok, ok, ok, ok, ok}},
		{"GET", "/metrics", fixed("/metrics"), nil, nil, [principals]int{ok, ok, ok, ok, ok, ok, ok}},
		{"GET", "/openapi.json", fixed("/openapi.json"), nil, nil, [principals]int{ok, ok, ok, ok, ok, ok, ok}},

		{"GET", "/v1/settings", fixed("/v1/settings"), nil, nil, [principals]int{ok, ok, ok, ok, ok, frb, una}},
		{"PATCH", "/v1/settings", fixed("/v1/settings"), body(map[string]any{"name": "Market"}), []string{"If-Match", `"1"`},
			[principals]int{ok, frb, frb, frb, frb, frb, una}},

		{"POST", "/v1/keys", fixed("/v1/keys"), func(b *testBundle) any { return map[string]any{"role": "checkout", "store_id": b.shop.ID} }, nil,
			[principals]int{cr, cr, nf, frb, frb, frb, una}},
		{"GET", "/v1/keys", fixed("/v1/keys"), nil, nil, [principals]int{ok, ok, ok, ok, frb, frb, una}},
		{"DELETE", "/v1/keys/{id}", func(b *testBundle) string { return "/v1/keys/" + b.spareKeyID }, nil, nil,
			[principals]int{ok, ok, nf, nf, frb, frb, una}},

		{"POST", "/v1/stores", fixed("/v1/stores"), body(map[string]any{"name": "New Store"}), nil, [principals]int{cr, frb, frb, frb, frb, frb, una}},
		{"GET", "/v1/stores", fixed("/v1/stores"), nil, nil, [principals]int{ok, ok, ok, frb, ok, frb, una}},
		{"GET", "/v1/stores/{id}", shop(""), nil, nil, [principals]int{ok, ok, nf, frb, ok, frb, una}},
		{"PATCH", "/v1/stores/{id}", shop(""), body(map[string]any{"name": "Renamed"}), nil, [principals]int{ok, frb, frb, frb, frb, frb, una}},
		{"PUT", "/v1/stores/{id}/products/{product_id}", shop("/products/sku-2"), body(map[string]any{"name": "Thing"}), nil,
			[principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"GET", "/v1/stores/{id}/products", shop("/products"), nil, nil, [principals]int{ok, ok, nf, ok, ok, frb, una}},
		{"GET", "/v1/stores/{id}/products/{product_id}", shop("/products/sku-1"), nil, nil, [principals]int{ok, ok, nf, ok, ok, frb, una}},
		{"GET", "/v1/stores/{id}/codes.csv", shop("/codes.csv"), nil, nil, [principals]int{ok, ok, nf, frb, frb, frb, una}},

		{"POST", "/v1/partners", fixed("/v1/partners"), body(map[string]any{"name": "Bo", "kind": "affiliate"}), nil,
			[principals]int{cr, frb, frb, frb, frb, frb, una}},
		{"GET", "/v1/partners", fixed("/v1/partners"), nil, nil, [principals]int{ok, frb, frb, frb, frb, frb, una}},
		{"GET", "/v1/partners/{id}", partner(""), nil, nil, [principals]int{ok, frb, frb, ok, frb, frb, una}},
		{"GET", "/v1/partners/{id}/codes", partner("/codes"), nil, nil, [principals]int{ok, ok, ok, ok, frb, frb, una}},
		{"GET", "/v1/partners/{id}/codes.csv", partner("/codes.csv"), nil, nil, [principals]int{ok, ok, ok, ok, frb, frb, una}},

		{"POST", "/v1/promotions", fixed("/v1/promotions"), func(b *testBundle) any {
			return map[string]any{"store_id": b.shop.ID, "name": "Flash", "type": "amount_off", "amount_off": 500}
		}, nil, [principals]int{cr, cr, nf, frb, frb, frb, una}},
		{"GET", "/v1/promotions", fixed("/v1/promotions"), nil, nil, [principals]int{ok, ok, ok, ok, ok, frb, una}},
		{"GET", "/v1/promotions/{id}", promo(""), nil, nil, [principals]int{ok, ok, nf, ok, ok, frb, una}},
		{"PATCH", "/v1/promotions/{id}", promo(""), body(map[string]any{"name": "Renamed"}), []string{"If-Match", `"1"`},
			[principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"POST", "/v1/promotions/{id}/activate", promo("/activate"), nil, nil, [principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"POST", "/v1/promotions/{id}/deactivate", promo("/deactivate"), nil, nil, [principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"POST", "/v1/promotions/{id}/end", promo("/end"), nil, nil, [principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"POST", "/v1/promotions/{id}/codes", promo("/codes"), body(map[string]any{"code": "NEWCODE1"}), nil,
			[principals]int{cr, cr, nf, frb, frb, frb, una}},
		{"GET", "/v1/promotions/{id}/codes", promo("/codes"), nil, nil, [principals]int{ok, ok, nf, ok, ok, frb, una}},
		{"POST", "/v1/promotions/{id}/codes/import", promo("/codes/import"), body("code\nIMPORTED1\n"), []string{"Content-Type", "text/csv"},
			[principals]int{cr, cr, nf, frb, frb, frb, una}},
		{"GET", "/v1/promotions/{id}/codes.csv", promo("/codes.csv"), nil, nil, [principals]int{ok, ok, nf, frb, ok, frb, una}},
		{"POST", "/v1/promotions/{id}/code-jobs", promo("/code-jobs"), body(map[string]any{"count": 10}), nil,
			[principals]int{acc, acc, nf, frb, frb, frb, una}},

		{"GET", "/v1/jobs/{id}", func(b *testBundle) string { return "/v1/jobs/" + b.jobID }, nil, nil, [principals]int{ok, ok, nf, frb, frb, frb, una}},

		{"POST", "/v1/validate", fixed("/v1/validate"), func(b *testBundle) any { return cartBody(b, "") }, nil,
			[principals]int{ok, frb, frb, frb, ok, ok, una}},
		{"POST", "/v1/qualify", fixed("/v1/qualify"), func(b *testBundle) any {
			return map[string]any{"cart": cartBody(b, "")["cart"], "customer": map[string]any{"customer_id": "cus_1"}}
		}, nil, [principals]int{ok, frb, frb, frb, ok, frb, una}},
		{"POST", "/v1/redeem", fixed("/v1/redeem"), func(b *testBundle) any {
			b.clock.Set(jan1().Add(48 * time.Hour)) // the promotion has started
			return cartBody(b, "ord-1")
		}, nil, [principals]int{cr, frb, frb, frb, cr, frb, una}},
		{"POST", "/v1/reserve", fixed("/v1/reserve"), func(b *testBundle) any {
			b.clock.Set(jan1().Add(48 * time.Hour))
			body := cartBody(b, "ord-1")
			body["hold_seconds"] = 600
			return body
		}, nil, [principals]int{cr, frb, frb, frb, cr, frb, una}},
		{"POST", "/v1/stores/{id}/orders/{order_id}/release", func(b *testBundle) string {
			b.clock.Set(jan1().Add(48 * time.Hour))
			ctx := promokit.NewContext(context.Background(), promokit.Principal{Role: promokit.RoleCheckout, StoreID: b.shop.ID})
			in := cartBody(b, "ord-8")
			if _, err := b.svc.Reserve(ctx, engine.RedeemInput{OrderID: "ord-8", Cart: in["cart"].(promokit.Cart), Codes: in["codes"].([]string)}, 0); err != nil {
				panic(err) // fails the test
			}
			return "/v1/stores/" + b.shop.ID + "/orders/ord-8/release"
		}, nil, nil, [principals]int{ok, frb, frb, frb, ok, frb, una}},
		{"POST", "/v1/stores/{id}/orders/{order_id}/rollback", func(b *testBundle) string {
			b.clock.Set(jan1().Add(48 * time.Hour))
			ctx := promokit.NewContext(context.Background(), promokit.Principal{Role: promokit.RoleCheckout, StoreID: b.shop.ID})
			in := cartBody(b, "ord-9")
			if _, err := b.svc.Redeem(ctx, engine.RedeemInput{OrderID: in["order_id"].(string), Cart: in["cart"].(promokit.Cart), Codes: in["codes"].([]string)}); err != nil {
				panic(err) // fails the test
			}
			return "/v1/stores/" + b.shop.ID + "/orders/ord-9/rollback"
		}, nil, nil, [principals]int{ok, frb, frb, frb, ok, frb, una}},

		{"GET", "/v1/codes/{code}", func(b *testBundle) string { return "/v1/codes/" + strings.ToLower(b.shopCode) }, nil, nil,
			[principals]int{ok, ok, nf, ok, ok, frb, una}},
		{"PATCH", "/v1/codes/{code}", func(b *testBundle) string { return "/v1/codes/" + b.shopCode }, body(map[string]any{"active": false}), nil,
			[principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"GET", "/v1/codes/{code}/redemptions", func(b *testBundle) string { return "/v1/codes/" + strings.ToLower(b.shopCode) + "/redemptions" }, nil, nil,
			[principals]int{ok, ok, nf, ok, frb, frb, una}},

		// The affiliate program: b.affiliate() has shop join, an affiliate
		// (not one of the principals) link it, a browser click and an order.
		{"GET", "/v1/stores/{id}/affiliate", withAffiliate(shop("/affiliate")), nil, nil, [principals]int{ok, ok, nf, ok, ok, frb, una}},
		{"POST", "/v1/stores/{id}/affiliate/join", shop("/affiliate/join"), body(map[string]any{"accept_terms": true, "rate_bp": 500, "url": shopURL}), nil,
			[principals]int{cr, cr, nf, frb, frb, frb, una}},
		{"POST", "/v1/stores/{id}/affiliate/exit", affiliateLater(16*day, shop("/affiliate/exit")), nil, nil,
			[principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"PUT", "/v1/stores/{id}/affiliate/rate", withAffiliate(shop("/affiliate/rate")), body(map[string]any{"rate_bp": 700}), nil,
			[principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"PUT", "/v1/stores/{id}/affiliate/products/{product_id}/rate", withAffiliate(shop("/affiliate/products/sku-1/rate")), body(map[string]any{"rate_bp": 1000}), nil,
			[principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"DELETE", "/v1/stores/{id}/affiliate/products/{product_id}/rate", withAffiliate(shop("/affiliate/products/sku-1/rate")), nil, nil,
			[principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"GET", "/v1/stores/{id}/affiliate/rates", withAffiliate(shop("/affiliate/rates")), nil, nil, [principals]int{ok, ok, nf, frb, frb, frb, una}},
		// The partner is an influencer naming the affiliate: 422.
		{"POST", "/v1/links", fixed("/v1/links"), func(b *testBundle) any {
			return map[string]any{"store_id": b.shop.ID, "partner_id": b.affiliate().aff.ID}
		}, nil, [principals]int{cr, frb, frb, unp, frb, frb, una}},
		{"GET", "/v1/links", withAffiliate(fixed("/v1/links")), nil, nil, [principals]int{ok, ok, ok, ok, frb, frb, una}},
		{"GET", "/v1/links/{id}", func(b *testBundle) string { return "/v1/links/" + b.affiliate().link.ID }, nil, nil,
			[principals]int{ok, ok, nf, nf, frb, frb, una}},
		// Anonymous: a key changes nothing.
		{"GET", "/r/{token}", func(b *testBundle) string { return "/r/" + b.affiliate().link.Token }, nil, nil,
			[principals]int{fnd, fnd, fnd, fnd, fnd, fnd, fnd}},

		{"POST", "/v1/stores/{id}/orders/{order_id}/events", shop("/orders/ord-a/events"), body(map[string]any{
			"id": "ord-a-placed", "type": "placed", "currency": "USD", "lines": []map[string]any{{"product_id": "sku-1", "quantity": 1, "amount": 1000}},
		}), nil, [principals]int{cr, frb, frb, frb, cr, frb, una}},
		{"GET", "/v1/stores/{id}/orders/{order_id}", func(b *testBundle) string {
			return "/v1/stores/" + b.shop.ID + "/orders/" + b.affiliate().orderID
		}, nil, nil, [principals]int{ok, ok, nf, frb, ok, frb, una}},
		// The affiliate's statement, as its store's seller reads it.
		{"GET", "/v1/partners/{id}/statement", affiliatePartner("/statement"), nil, nil, [principals]int{ok, ok, nf, nf, frb, frb, una}},
		{"GET", "/v1/partners/{id}/ledger", affiliatePartner("/ledger"), nil, nil, [principals]int{ok, ok, nf, nf, frb, frb, una}},
		{"GET", "/v1/partners/{id}/ledger.csv", affiliatePartner("/ledger.csv"), nil, nil, [principals]int{ok, ok, nf, nf, frb, frb, una}},
		{"GET", "/v1/stores/{id}/statement", withAffiliate(shop("/statement")), nil, nil, [principals]int{ok, ok, nf, nf, frb, frb, una}},
		{"GET", "/v1/stores/{id}/ledger", withAffiliate(shop("/ledger")), nil, nil, [principals]int{ok, ok, nf, nf, frb, frb, una}},
		{"GET", "/v1/stores/{id}/ledger.csv", withAffiliate(shop("/ledger.csv")), nil, nil, [principals]int{ok, ok, nf, nf, frb, frb, una}},
		// The marketplace's ledger: the admin's, and a seller's with
		// the marketplace (counterparty its store).
		{"GET", "/v1/marketplace/statement", withAffiliate(fixed("/v1/marketplace/statement")), nil, nil, [principals]int{ok, frb, frb, frb, frb, frb, una}},
		{"GET", "/v1/marketplace/statement", withAffiliate(marketplaceWithShop("/statement")), nil, nil, [principals]int{ok, ok, nf, nf, frb, frb, una}},
		{"GET", "/v1/marketplace/ledger", withAffiliate(marketplaceWithShop("/ledger")), nil, nil, [principals]int{ok, ok, nf, nf, frb, frb, una}},
		{"GET", "/v1/marketplace/ledger.csv", withAffiliate(marketplaceWithShop("/ledger.csv")), nil, nil, [principals]int{ok, ok, nf, nf, frb, frb, una}},

		// Payouts: b.payouts() makes the shop owe the partner 50.00 and
		// records two payouts of it, one with a proof. The partner is
		// the payee: it alone answers; the payer's side alone proves.
		{"POST", "/v1/payouts", withPayouts(fixed("/v1/payouts")), func(b *testBundle) any {
			return map[string]any{"payer": b.shop.ID, "payee": b.partnr.ID, "currency": "USD", "amount": 100,
				"paid_on": "2026-01-01", "reference": "wire 7"}
		}, nil, [principals]int{cr, cr, nf, frb, frb, frb, una}},
		{"GET", "/v1/payouts", withPayouts(fixed("/v1/payouts")), nil, nil, [principals]int{ok, ok, ok, ok, frb, frb, una}},
		{"GET", "/v1/payouts/{id}", payoutPath(""), nil, nil, [principals]int{ok, ok, nf, ok, frb, frb, una}},
		{"POST", "/v1/payouts/{id}/confirm", payoutPath("/confirm"), nil, nil, [principals]int{frb, frb, nf, ok, frb, frb, una}},
		{"POST", "/v1/payouts/{id}/dispute", payoutPath("/dispute"), body(map[string]any{"message": "not received"}), nil,
			[principals]int{frb, frb, nf, ok, frb, frb, una}},
		{"PUT", "/v1/payouts/{id}/proof", payoutPath("/proof"), body(proofPDF), []string{"Content-Type", "application/pdf"},
			[principals]int{ok, ok, nf, frb, frb, frb, una}},
		{"GET", "/v1/payouts/{id}/proof", func(b *testBundle) string { return "/v1/payouts/" + b.payouts().proved.ID + "/proof" }, nil, nil,
			[principals]int{ok, ok, nf, ok, frb, frb, una}},
	}
}

// marketplaceWithShop is the path of the marketplace's ledger with suffix,
// narrowed to shop.
func marketplaceWithShop(suffix string) func(b *testBundle) string {
	return func(b *testBundle) string { return "/v1/marketplace" + suffix + "?counterparty=" + b.shop.ID }
}

// affiliatePartner is the path of the affiliate fixture's partner with
// suffix, narrowed to shop.
func affiliatePartner(suffix string) func(b *testBundle) string {
	return func(b *testBundle) string {
		return "/v1/partners/" + b.affiliate().aff.ID + suffix + "?store_id=" + b.shop.ID
	}
}

// cartBody is a $50 cart of the shop with its code, as validate and redeem
// take it, for the order orderID (none for validate).
func cartBody(b *testBundle, orderID string) map[string]any {
	body := map[string]any{
		"cart":  promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{{ProductID: "sku-1", Quantity: 2, UnitPrice: 2500}}},
		"codes": []string{b.shopCode},
	}
	if orderID != "" {
		body["order_id"] = orderID
	}
	return body
}

// TestRoutes runs every route as every principal, checks its status, and
// checks that no response shows a principal what it has no business with.
func TestRoutes(t *testing.T) {
	t.Parallel()
	cases := routeCases()
	t.Run("Complete", func(t *testing.T) {
		t.Parallel()
		have := map[Route]bool{}
		for _, rc := range cases {
			have[Route{rc.method, rc.pattern}] = true
		}
		for _, r := range Routes() {
			if !have[r] {
				t.Errorf("route %s %s has no case in the table", r.Method, r.Pattern)
			}
			delete(have, r)
		}
		for r := range have {
			t.Errorf("case %s %s is not a route", r.Method, r.Pattern)
		}
	})
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		shared := setup(t, open)
		for _, rc := range cases {
			t.Run(rc.method+" "+rc.pattern, func(t *testing.T) {
				t.Parallel()
				for p := range principals {
					t.Run(p.String(), func(t *testing.T) {
						b := shared
						if rc.mutates() {
							t.Parallel()
							b = setup(t, open)
						}
						runRouteCase(t, b, rc, p)
					})
				}
			})
		}
	})
}

// runRouteCase sends the request of rc as p and checks the answer.
func runRouteCase(t *testing.T, b *testBundle, rc routeCase, p principal) {
	t.Helper()
	path := rc.path(b)
	var body any
	if rc.body != nil {
		body = rc.body(b)
	}
	r := b.c.do(t, rc.method, path, b.key(p), body, rc.hdr...)
	if r.StatusCode != rc.want[p] {
		t.Fatalf("%s %s as %s: status %d, want %d: %s", rc.method, path, p, r.StatusCode, rc.want[p], r.Body)
	}
	sent := path + fmt.Sprint(body)
	for _, s := range b.notExpected(p) {
		if s == "" || strings.Contains(sent, s) {
			continue // what the request itself says may come back
		}
		if strings.Contains(string(r.Body), s) {
			t.Errorf("%s %s as %s: the response shows %q: %s", rc.method, path, p, s, r.Body)
		}
	}
}
