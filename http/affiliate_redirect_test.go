package http

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// wantFieldError checks a 422 answer naming field with code.
func wantFieldError(t *testing.T, r *response, field, code string) {
	t.Helper()
	p := wantProblem(t, r, http.StatusUnprocessableEntity, promokit.EInvalid)
	for _, e := range p.Errors {
		if e.Field == field && e.Code == code {
			return
		}
	}
	t.Fatalf("%s %s: errors %+v, want %s %s", r.Request.Method, r.Request.URL.Path, p.Errors, field, code)
}

// storeHosts reads a store's redirect hosts as key.
func storeHosts(t *testing.T, b *testBundle, key, storeID string) []string {
	t.Helper()
	return decodeAs[promokit.Store](t, mustDo(t, b, key, "GET", "/v1/stores/"+storeID, nil, http.StatusOK)).RedirectHosts
}

// TestPageURLs checks the pages affiliate links open when they are saved:
// a product's url and the url a store gives on joining refuse user-info
// (https://shop.example@evil.example/ opens evil.example), other schemes,
// backslashes, whitespace, non-ASCII characters and hosts that are no
// domain name, on both databases. Nothing is written on a refusal.
func TestPageURLs(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		shop := "/v1/stores/" + b.shop.ID
		for _, c := range []struct{ url, code string }{
			{"https://shop.example@evil.example/", promokit.URLUserInfo},
			{"https://shop.example.com:x@evil.example/mug", promokit.URLUserInfo},
			{"javascript:alert(1)", promokit.EInvalid},
			{`https://evil.example\.shop.example.com/`, promokit.EInvalid},
			{"https://shop.example.com/a b", promokit.EInvalid},
			{"https://shop.example.com/\u202emug", promokit.EInvalid},
			{"https://127.0.0.1/", promokit.URLInvalidHost},
			{"https://2130706433/", promokit.URLInvalidHost},
			{"https://[::1]/", promokit.URLInvalidHost},
			{"http://localhost:8080/", promokit.URLInvalidHost},
		} {
			r := b.c.do(t, "PUT", shop+"/products/sku-1", b.seller, map[string]any{"name": "Shop Widget", "url": c.url})
			wantFieldError(t, r, "url", c.code)
			r = b.c.do(t, "POST", shop+"/affiliate/join", b.seller, map[string]any{"accept_terms": true, "rate_bp": 500, "url": c.url})
			wantFieldError(t, r, "url", c.code)
		}
		if p := decodeAs[promokit.Product](t, mustDo(t, b, b.seller, "GET", shop+"/products/sku-1", nil, http.StatusOK)); p.URL != "" {
			t.Fatalf("a refused url was written: %q", p.URL)
		}
		if p := decodeAs[engine.Program](t, mustDo(t, b, b.seller, "GET", shop+"/affiliate", nil, http.StatusOK)); p.State != engine.ProgramNotJoined {
			t.Fatalf("a refused join was written: %+v", p)
		}
		mustDo(t, b, b.seller, "PUT", shop+"/products/sku-1", map[string]any{"name": "Shop Widget", "url": "https://shop.example.com/caf%C3%A9"}, http.StatusOK)
	})
}

// TestRedirectHostsPrincipals: a store's redirect hosts are the admin's to
// set, through PATCH /v1/stores/{id}; the store's seller and its checkout
// key read them, and no other key changes them, the store's own seller
// included.
func TestRedirectHostsPrincipals(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		shop := "/v1/stores/" + b.shop.ID
		if h := storeHosts(t, b, b.admin, b.shop.ID); h == nil || len(h) != 0 {
			t.Fatalf("a new store's redirect hosts: %#v, want []", h)
		}
		st := decodeAs[promokit.Store](t, mustDo(t, b, b.admin, "PATCH", shop,
			map[string]any{"redirect_hosts": []string{"Shop.Example.COM", "*.shop.example.com", "shop.example.com"}}, http.StatusOK))
		want := []string{"shop.example.com", "*.shop.example.com"}
		if !slices.Equal(st.RedirectHosts, want) || st.Name != b.shopName {
			t.Fatalf("after the admin's change: %+v, want hosts %v", st, want)
		}
		for _, key := range []string{b.seller, b.checkout} {
			if h := storeHosts(t, b, key, b.shop.ID); !slices.Equal(h, want) {
				t.Fatalf("redirect hosts as the store's own keys read them: %v", h)
			}
		}
		// Every other principal is refused and changes nothing.
		change := map[string]any{"redirect_hosts": []string{}}
		for name, key := range map[string]string{"seller": b.seller, "foreign seller": b.foreign, "partner": b.partner, "checkout": b.checkout, "storefront": b.storefront} {
			r := b.c.do(t, "PATCH", shop, key, change)
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("%s: PATCH redirect_hosts: status %d: %s", name, r.StatusCode, r.Body)
			}
		}
		mustDo(t, b, "", "PATCH", shop, change, http.StatusUnauthorized)
		wantProblem(t, b.c.do(t, "GET", shop, b.foreign, nil), http.StatusNotFound, promokit.ENotFound)
		wantProblem(t, b.c.do(t, "GET", shop, b.partner, nil), http.StatusForbidden, promokit.EForbidden)
		// A list that is not one of domains is refused whole.
		for _, bad := range []string{"https://shop.example.com", "*.com", "10.0.0.1", "shop.example.com:443", "bücher.example", ""} {
			r := b.c.do(t, "PATCH", shop, b.admin, map[string]any{"redirect_hosts": []string{"ok.example.com", bad}})
			wantFieldError(t, r, "redirect_hosts/1", promokit.EInvalid)
		}
		if h := storeHosts(t, b, b.admin, b.shop.ID); !slices.Equal(h, want) {
			t.Fatalf("redirect hosts after the refusals: %v, want %v", h, want)
		}
		// The other store's hosts are its own.
		if h := storeHosts(t, b, b.admin, b.other.ID); len(h) != 0 {
			t.Fatalf("the other store's redirect hosts: %v", h)
		}
	})
}

// TestRedirectHostsEnforced: once the admin restricts a store's redirect
// hosts, a page off them is refused when saved (422 naming the field and
// the rule) and when a link redirects: a link saved before, whose page is
// no longer allowed, answers a plain 403 page, redirects nowhere and
// records no click, while the store's other links go on working. A link
// saved before the rules of page URLs (with user-info) is not redirected
// to either. Lifting the restriction makes the old link work again.
func TestRedirectHostsEnforced(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		shop := "/v1/stores/" + b.shop.ID
		_, affKey := newAffiliate(t, b, "Bea Affiliate")
		const oldPage = "https://old-domain.example/mug"
		mustDo(t, b, b.seller, "PUT", shop+"/products/sku-1", map[string]any{"name": "Shop Widget", "url": oldPage}, http.StatusOK)
		joinShop(t, b)
		product, store := createLink(t, b, affKey, "sku-1"), createLink(t, b, affKey, "")
		if r := b.open(t, product.Path, "User-Agent", browserAgent); r.StatusCode != http.StatusFound || r.Header.Get("Location") != oldPage {
			t.Fatalf("before the restriction: status %d, Location %q", r.StatusCode, r.Header.Get("Location"))
		}

		mustDo(t, b, b.admin, "PATCH", shop, map[string]any{"redirect_hosts": []string{"shop.example.com", "*.shop.example.com"}}, http.StatusOK)
		// Saving: pages off the store's domains are refused.
		r := b.c.do(t, "PUT", shop+"/products/sku-2", b.seller, map[string]any{"name": "Shop Gizmo", "url": "https://evil.example/gizmo"})
		wantFieldError(t, r, "url", promokit.URLHostNotAllowed)
		r = b.c.do(t, "PUT", shop+"/products/sku-2", b.seller, map[string]any{"name": "Shop Gizmo", "url": "https://shop.example.com.evil.example/"})
		wantFieldError(t, r, "url", promokit.URLHostNotAllowed)
		mustDo(t, b, b.seller, "GET", shop+"/products/sku-2", nil, http.StatusNotFound)
		mustDo(t, b, b.seller, "PUT", shop+"/products/sku-2", map[string]any{"name": "Shop Gizmo", "url": "https://www.Shop.Example.com/gizmo"}, http.StatusOK)
		// A new link to the product whose page is off the domains: 409.
		wantProblem(t, b.c.do(t, "POST", "/v1/links", affKey, map[string]any{"store_id": b.shop.ID, "product_id": "sku-1"}),
			http.StatusConflict, promokit.EConflict)
		createLink(t, b, affKey, "sku-2")

		// Redirecting: the old link's page is off the domains. The cached
		// target of its token lives a second.
		b.clock.Add(2 * time.Second)
		flush(t, b)
		before, _ := clicksOf(t, b, product.ID)
		wantPlainPage(t, b.open(t, product.Path, "User-Agent", browserAgent), http.StatusForbidden, "does not allow")
		if resp, err := b.c.hc.Head(b.c.base + product.Path); err != nil || resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
			t.Fatalf("HEAD of the refused link: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		flush(t, b)
		if after, _ := clicksOf(t, b, product.ID); after != before {
			t.Fatalf("the refused link recorded clicks: %d, then %d", before, after)
		}
		if r := b.open(t, store.Path, "User-Agent", browserAgent); r.StatusCode != http.StatusFound || r.Header.Get("Location") != shopURL {
			t.Fatalf("the store's link on its domain: status %d, Location %q", r.StatusCode, r.Header.Get("Location"))
		}
		// The product keeps its page as saved: the restriction changes
		// what is opened, not what was written.
		if p := decodeAs[promokit.Product](t, mustDo(t, b, b.seller, "GET", shop+"/products/sku-1", nil, http.StatusOK)); p.URL != oldPage {
			t.Fatalf("product page after the restriction: %q", p.URL)
		}

		// A link saved before the rules of page URLs, with user-info, is
		// not redirected to whatever the hosts.
		mustDo(t, b, b.admin, "PATCH", shop, map[string]any{"redirect_hosts": []string{}}, http.StatusOK)
		old := &promokit.Link{ID: "lnk_old", Token: promokit.NewLinkToken(), PartnerID: product.PartnerID, StoreID: b.shop.ID,
			URL: "https://shop.example.com@evil.example/", CreatedAt: jan1()}
		if err := b.store.Write(context.Background(), func(tx storage.Tx) error { return tx.LinkCreate(context.Background(), old) }); err != nil {
			t.Fatal(err)
		}
		wantPlainPage(t, b.open(t, "/r/"+old.Token, "User-Agent", browserAgent), http.StatusForbidden, "does not allow")
		// Lifting the restriction opens the old product link again.
		b.clock.Add(2 * time.Second)
		if r := b.open(t, product.Path, "User-Agent", browserAgent); r.StatusCode != http.StatusFound || r.Header.Get("Location") != oldPage {
			t.Fatalf("after lifting the restriction: status %d, Location %q", r.StatusCode, r.Header.Get("Location"))
		}
	})
}
