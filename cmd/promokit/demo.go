package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// Demo is the demo marketplace that serve --demo loads: the objects and
// keys its printed curl commands use.
type Demo struct {
	StoreID     string
	Products    []string
	CouponID    string // the collectable coupon 30off2
	CouponCode  string // its custom code
	PercentID   string // the 15% promotion with generated codes
	PercentJob  string // the job that generated them
	Generated   int64  // how many codes the job made
	PartnerID   string
	PartnerCode string // a generated code assigned to the partner
	SellerKey   string
	CheckoutKey string
	PartnerKey  string
}

// Demo contents.
const (
	demoStoreName    = "Demo Store"
	demoCouponCode   = "30OFF2"
	demoCodeCount    = 50
	demoCodePrefix   = "SAVE15-"
	demoPercentUses  = 100
	demoJobWait      = 30 * time.Second
	demoJobPollEvery = 20 * time.Millisecond
)

// demoProducts are the demo store's products: id, name.
var demoProducts = [][2]string{
	{"tshirt", "Organic cotton T-shirt"},
	{"mug", "Stoneware mug"},
	{"hoodie", "Zip hoodie"},
}

// loadDemo loads the demo marketplace unless the database already has a
// store, and prints what it loaded with keys and curl commands.
// adminExport is the shell line that sets ADMIN_KEY when this start
// created the admin key, or empty. Everything goes through the engine as
// the admin, exactly as API calls would.
func (m *Main) loadDemo(ctx context.Context, adminExport string) error {
	admin := promokit.NewContext(ctx, promokit.Principal{KeyID: "demo", Role: promokit.RoleAdmin})
	stores, err := m.Service.ListStores(admin, engine.Page{Limit: 1})
	if err != nil {
		return err
	}
	if len(stores) > 0 {
		m.logger.Info("the database already has stores: the demo is not loaded again")
		fmt.Fprintln(m.Stdout, "promokit: the database already has stores, so --demo loads nothing.")
		return nil
	}
	d, err := buildDemo(admin, m.Service)
	if err != nil {
		return err
	}
	m.demo = d
	return printDemo(m.Stdout, m.URL(), adminExport, d)
}

// buildDemo creates the demo marketplace as the principal of ctx.
func buildDemo(ctx context.Context, svc *engine.Service) (*Demo, error) {
	now := svc.Clock().Now()
	d := &Demo{}
	store, err := svc.CreateStore(ctx, engine.StoreInput{Name: ptr(demoStoreName)})
	if err != nil {
		return nil, fmt.Errorf("create the store: %w", err)
	}
	d.StoreID = store.ID
	for _, p := range demoProducts {
		in := engine.ProductInput{Name: p[1], URL: "https://shop.example.com/products/" + p[0]}
		if _, err := svc.PutProduct(ctx, store.ID, p[0], in); err != nil {
			return nil, fmt.Errorf("create product %s: %w", p[0], err)
		}
		d.Products = append(d.Products, p[0])
	}

	// 30off2: a collectable coupon, $2 off orders of $30 or more, for ten days.
	amount := promokit.AmountOff
	coupon, err := svc.CreatePromotion(ctx, engine.PromotionInput{
		StoreID:     store.ID,
		Name:        ptr("30off2"),
		Description: ptr("$2 off orders over $30"),
		Type:        &amount,
		AmountOff:   ptr[int64](200),
		MinOrder:    ptr[int64](3000),
		StartsAt:    &now,
		EndsAt:      engine.Nullable[time.Time]{Set: true, Value: now.Add(10 * 24 * time.Hour)},
		Coupon:      engine.Nullable[promokit.CouponSettings]{Set: true, Value: promokit.CouponSettings{PerPerson: 1, Quantity: 200, ValidDays: 7}},
	})
	if err != nil {
		return nil, fmt.Errorf("create promotion 30off2: %w", err)
	}
	d.CouponID = coupon.ID
	code, err := svc.CreateCode(ctx, coupon.ID, engine.CodeInput{Code: demoCouponCode})
	if err != nil {
		return nil, fmt.Errorf("create code %s: %w", demoCouponCode, err)
	}
	d.CouponCode = code.Code

	// 15% off for thirty days, 100 uses shared by 50 generated codes.
	percent := promokit.PercentOff
	pct, err := svc.CreatePromotion(ctx, engine.PromotionInput{
		StoreID:     store.ID,
		Name:        ptr("15% off everything"),
		Description: ptr("15% off the whole store, 100 uses shared by all its codes"),
		Type:        &percent,
		PercentOff:  ptr[promokit.BasisPoints](1500),
		StartsAt:    &now,
		EndsAt:      engine.Nullable[time.Time]{Set: true, Value: now.Add(30 * 24 * time.Hour)},
		TotalUses:   engine.Nullable[int64]{Set: true, Value: demoPercentUses},
	})
	if err != nil {
		return nil, fmt.Errorf("create the percentage promotion: %w", err)
	}
	d.PercentID = pct.ID
	job, err := svc.CreateCodeJob(ctx, pct.ID, promokit.CodeSpec{Count: demoCodeCount, Length: 8, Prefix: demoCodePrefix})
	if err != nil {
		return nil, fmt.Errorf("start code generation: %w", err)
	}
	d.PercentJob = job.ID
	if d.Generated, err = waitForJob(ctx, svc, job.ID); err != nil {
		return nil, err
	}

	partner, err := svc.CreatePartner(ctx, engine.PartnerInput{Name: "Demo Influencer", Kind: promokit.PartnerInfluencer})
	if err != nil {
		return nil, fmt.Errorf("create the partner: %w", err)
	}
	d.PartnerID = partner.ID
	codes, err := svc.ListCodes(ctx, engine.CodeFilter{PromotionID: pct.ID, Page: engine.Page{Limit: 1}})
	if err != nil || len(codes) == 0 {
		return nil, fmt.Errorf("find a generated code: %v", err)
	}
	assigned, err := svc.UpdateCode(ctx, codes[0].Code, engine.CodeInput{PartnerID: &partner.ID})
	if err != nil {
		return nil, fmt.Errorf("assign a code to the partner: %w", err)
	}
	d.PartnerCode = assigned.Code

	keys := []struct {
		dst *string
		in  engine.KeyInput
	}{
		{&d.SellerKey, engine.KeyInput{Name: "demo seller", Role: promokit.RoleSeller, StoreID: store.ID}},
		{&d.CheckoutKey, engine.KeyInput{Name: "demo checkout", Role: promokit.RoleCheckout, StoreID: store.ID}},
		{&d.PartnerKey, engine.KeyInput{Name: "demo influencer", Role: promokit.RolePartner, PartnerID: partner.ID}},
	}
	for _, k := range keys {
		_, secret, err := svc.CreateKey(ctx, k.in)
		if err != nil {
			return nil, fmt.Errorf("create the %s key: %w", k.in.Role, err)
		}
		*k.dst = secret
	}
	return d, nil
}

// waitForJob waits until the job worker has finished a job, so that the
// codes exist before the printed commands use them, and returns how many
// codes it made.
func waitForJob(ctx context.Context, svc *engine.Service, id string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, demoJobWait)
	defer cancel()
	t := time.NewTicker(demoJobPollEvery)
	defer t.Stop()
	for {
		j, err := svc.GetJob(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("follow job %s: %w", id, err)
		}
		switch j.State {
		case promokit.JobSucceeded:
			return j.Done, nil
		case promokit.JobFailed:
			return 0, fmt.Errorf("job %s failed: %s", id, j.Error)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("job %s did not finish in %s (state %s, %d of %d codes)", id, demoJobWait, j.State, j.Done, j.Total)
		case <-t.C:
		}
	}
}

// printDemo writes what the demo loaded, its keys and commands to try.
func printDemo(w io.Writer, baseURL, adminExport string, d *Demo) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("")
	p("promokit: loaded the demo marketplace.")
	p("")
	p("  store      %s  %q with products %s", d.StoreID, demoStoreName, strings.Join(d.Products, ", "))
	p("  coupon     %s  30off2: $2 off orders over $30, collectable, code %s", d.CouponID, d.CouponCode)
	p("  promotion  %s  15%% off everything: %d codes sharing %d uses, e.g. %s", d.PercentID, d.Generated, demoPercentUses, d.PartnerCode)
	p("  partner    %s  Demo Influencer, holds code %s", d.PartnerID, d.PartnerCode)
	p("")
	p("The keys below are shown this once. Paste these lines into a shell:")
	p("")
	p("  export PROMOKIT=%s", baseURL)
	if adminExport != "" {
		p("  %s  # the marketplace operator", adminExport)
	}
	p("  export SELLER_KEY=%s    # seller of %s", d.SellerKey, demoStoreName)
	p("  export CHECKOUT_KEY=%s  # checkout of %s", d.CheckoutKey, demoStoreName)
	p("  export PARTNER_KEY=%s   # Demo Influencer", d.PartnerKey)
	p("")
	p("Then try:")
	p("")
	p("  # Look a code up, as the shop's checkout does")
	p(`  curl -s -H "Authorization: Bearer $CHECKOUT_KEY" $PROMOKIT/v1/codes/%s`, d.CouponCode)
	p("  # List the store's active promotions")
	p(`  curl -s -H "Authorization: Bearer $SELLER_KEY" "$PROMOKIT/v1/promotions?status=active"`)
	p("  # Export the codes of the 15%% promotion as CSV")
	p(`  curl -s -H "Authorization: Bearer $SELLER_KEY" $PROMOKIT/v1/promotions/%s/codes.csv`, d.PercentID)
	p("  # Generate 100 more codes in the background; GET $PROMOKIT/v1/jobs/<its id> follows the job")
	p(`  curl -s -X POST -H "Authorization: Bearer $SELLER_KEY" -H "Content-Type: application/json" \`)
	p(`    -d '{"count":100,"length":8,"prefix":"%s"}' $PROMOKIT/v1/promotions/%s/code-jobs`, demoCodePrefix, d.PercentID)
	p("  # Add a custom code to the coupon")
	p(`  curl -s -X POST -H "Authorization: Bearer $SELLER_KEY" -H "Content-Type: application/json" \`)
	p(`    -d '{"code":"WELCOME2"}' $PROMOKIT/v1/promotions/%s/codes`, d.CouponID)
	p("  # The influencer's own codes")
	p(`  curl -s -H "Authorization: Bearer $PARTNER_KEY" $PROMOKIT/v1/partners/%s/codes`, d.PartnerID)
	p("")
	_, err := io.WriteString(w, b.String())
	return err
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
