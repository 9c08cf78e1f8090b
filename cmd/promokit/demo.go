package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
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

	// A second store, which sells under the P4 policy: its seller creates
	// partner promo codes, and the marketplace earns its share of their
	// sales (README: "The P4 split").
	P4StoreID     string
	P4Products    []string
	P4SellerKey   string
	P4CheckoutKey string
}

// Demo contents.
const (
	demoStoreName    = "Demo Store"
	demoCouponName   = "30off2"
	demoCouponCode   = "30OFF2"
	demoPercentName  = "15% off everything"
	demoPartnerName  = "Demo Influencer"
	demoP4StoreName  = "Demo Modules"
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

// demoP4Products are the products of the demo's store under P4: id, name.
var demoP4Products = [][2]string{
	{"seo-module", "SEO module"},
	{"backup-module", "Backup module"},
}

// demoStoreLookup is how many stores, the first by id, a start on a
// database that has stores reads to find the demo's two: they are the
// first two when --demo loaded the database while it was empty, in either
// order (two ids made in one millisecond sort at random).
const demoStoreLookup = 2

// loadDemo loads the demo marketplace unless the database already has a
// store, and prints what it loaded with keys and curl commands.
// adminExport is the shell line that sets ADMIN_KEY when this start
// created the admin key, or empty. Everything goes through the engine as
// the admin, exactly as API calls would. On a database that has stores it
// loads nothing, says how to start over, and prints the ids of the demo
// it finds there (its keys cannot be shown again).
func (m *Main) loadDemo(ctx context.Context, adminExport string) error {
	admin := promokit.NewContext(ctx, promokit.Principal{KeyID: "demo", Role: promokit.RoleAdmin})
	stores, err := m.Service.ListStores(admin, storage.Page{Limit: demoStoreLookup})
	if err != nil {
		return err
	}
	if len(stores) > 0 {
		m.logger.Info("the database already has stores: the demo is not loaded again")
		found, err := findDemo(admin, m.Service, stores)
		if err != nil {
			return err
		}
		return printDemoAgain(m.Stdout, m.URL(), m.Config.DatabaseURL, found)
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
		Name:        ptr(demoCouponName),
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
		Name:        ptr(demoPercentName),
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

	partner, err := svc.CreatePartner(ctx, engine.PartnerInput{Name: demoPartnerName, Kind: promokit.PartnerInfluencer})
	if err != nil {
		return nil, fmt.Errorf("create the partner: %w", err)
	}
	d.PartnerID = partner.ID
	codes, err := svc.ListCodes(ctx, storage.CodeFilter{PromotionID: pct.ID, Page: storage.Page{Limit: 1}})
	if err != nil || len(codes) == 0 {
		return nil, fmt.Errorf("find a generated code: %v", err)
	}
	assigned, err := svc.UpdateCode(ctx, codes[0].Code, engine.CodeInput{PartnerID: &partner.ID})
	if err != nil {
		return nil, fmt.Errorf("assign a code to the partner: %w", err)
	}
	d.PartnerCode = assigned.Code

	err = createDemoKeys(ctx, svc, []demoKey{
		{&d.SellerKey, engine.KeyInput{Name: "demo seller", Role: promokit.RoleSeller, StoreID: store.ID}},
		{&d.CheckoutKey, engine.KeyInput{Name: "demo checkout", Role: promokit.RoleCheckout, StoreID: store.ID}},
		{&d.PartnerKey, engine.KeyInput{Name: "demo influencer", Role: promokit.RolePartner, PartnerID: partner.ID}},
	})
	if err != nil {
		return nil, err
	}
	if err := buildP4Store(ctx, svc, d); err != nil {
		return nil, err
	}
	return d, nil
}

// buildP4Store creates the demo's store under P4, its products and its
// seller and checkout keys. It creates no code: the README's walkthrough
// has its seller create one.
func buildP4Store(ctx context.Context, svc *engine.Service, d *Demo) error {
	store, err := svc.CreateStore(ctx, engine.StoreInput{Name: ptr(demoP4StoreName), PartnerPromoCodes: ptr(true)})
	if err != nil {
		return fmt.Errorf("create the store under P4: %w", err)
	}
	d.P4StoreID = store.ID
	for _, p := range demoP4Products {
		in := engine.ProductInput{Name: p[1], URL: "https://modules.example.com/products/" + p[0]}
		if _, err := svc.PutProduct(ctx, store.ID, p[0], in); err != nil {
			return fmt.Errorf("create product %s: %w", p[0], err)
		}
		d.P4Products = append(d.P4Products, p[0])
	}
	return createDemoKeys(ctx, svc, []demoKey{
		{&d.P4SellerKey, engine.KeyInput{Name: "demo modules seller", Role: promokit.RoleSeller, StoreID: store.ID}},
		{&d.P4CheckoutKey, engine.KeyInput{Name: "demo modules checkout", Role: promokit.RoleCheckout, StoreID: store.ID}},
	})
}

// demoKey is a key the demo creates, and where its secret goes.
type demoKey struct {
	dst *string
	in  engine.KeyInput
}

// createDemoKeys creates keys and writes each one's secret to its dst.
func createDemoKeys(ctx context.Context, svc *engine.Service, keys []demoKey) error {
	for _, k := range keys {
		_, secret, err := svc.CreateKey(ctx, k.in)
		if err != nil {
			return fmt.Errorf("create the key %q: %w", k.in.Name, err)
		}
		*k.dst = secret
	}
	return nil
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

// findDemo returns the ids of the demo marketplace in a database that
// already has stores, given its first stores by id (demoStoreLookup of
// them): when --demo loaded the database while it was empty, the demo's
// two stores come first. Its keys are left out, since only their hashes
// are stored. It returns nil when the first store is not one of the
// demo's.
func findDemo(ctx context.Context, svc *engine.Service, first []*promokit.Store) (*Demo, error) {
	if len(first) == 0 || first[0].Name != demoStoreName && first[0].Name != demoP4StoreName {
		return nil, nil
	}
	d := &Demo{}
	for _, st := range first {
		switch {
		case st.Name == demoStoreName && d.StoreID == "":
			d.StoreID = st.ID
		case st.Name == demoP4StoreName && d.P4StoreID == "":
			d.P4StoreID = st.ID
		}
	}
	if d.StoreID == "" {
		return d, nil
	}
	promos, err := svc.ListPromotions(ctx, storage.PromotionFilter{StoreID: d.StoreID, Page: storage.Page{Limit: 100}})
	if err != nil {
		return nil, fmt.Errorf("list the demo's promotions: %w", err)
	}
	for _, p := range promos {
		switch {
		case p.Name == demoCouponName && d.CouponID == "":
			d.CouponID = p.ID
		case p.Name == demoPercentName && d.PercentID == "":
			d.PercentID = p.ID
		}
	}
	partners, err := svc.ListPartners(ctx, storage.Page{Limit: 100})
	if err != nil {
		return nil, fmt.Errorf("list the partners: %w", err)
	}
	for _, p := range partners {
		if p.Name == demoPartnerName {
			d.PartnerID = p.ID
			break
		}
	}
	return d, nil
}

// export is one line of the demo's shell exports: a variable, its value
// and what it names.
type export struct{ name, value, about string }

// demoExports returns the exports of the demo's ids, those it has.
func demoExports(baseURL string, d *Demo) []export {
	out := []export{{"PROMOKIT", baseURL, ""}}
	for _, e := range []export{
		{"STORE", d.StoreID, demoStoreName},
		{"COUPON", d.CouponID, demoCouponName + ", code " + demoCouponCode},
		{"SALE", d.PercentID, demoPercentName},
		{"PARTNER", d.PartnerID, demoPartnerName},
		{"P4_STORE", d.P4StoreID, demoP4StoreName + ", under P4"},
	} {
		if e.value != "" {
			out = append(out, e)
		}
	}
	return out
}

// printExports writes export lines for a shell, their comments aligned.
// A line whose value is empty is written as name alone (a whole
// "export ADMIN_KEY=..." line).
func printExports(b *strings.Builder, exports []export) {
	lines := make([]string, len(exports))
	width := 0
	for i, e := range exports {
		lines[i] = e.name
		if e.value != "" {
			lines[i] = "export " + e.name + "=" + e.value
		}
		width = max(width, len(lines[i]))
	}
	for i, e := range exports {
		if e.about == "" {
			fmt.Fprintf(b, "  %s\n", lines[i])
			continue
		}
		fmt.Fprintf(b, "  %-*s  # %s\n", width, lines[i], e.about)
	}
}

// printDemo writes what the demo loaded, the exports of its ids and keys
// for a shell, and commands to try, the checkout first.
func printDemo(w io.Writer, baseURL, adminExport string, d *Demo) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("")
	p("promokit: loaded the demo marketplace.")
	p("")
	p("  store      %s  %q with products %s", d.StoreID, demoStoreName, strings.Join(d.Products, ", "))
	p("  coupon     %s  %s: $2 off orders over $30, collectable, code %s", d.CouponID, demoCouponName, d.CouponCode)
	p("  promotion  %s  %s: %d codes sharing %d uses, e.g. %s", d.PercentID, demoPercentName, d.Generated, demoPercentUses, d.PartnerCode)
	p("  partner    %s  %s, holds code %s", d.PartnerID, demoPartnerName, d.PartnerCode)
	p("  p4 store   %s  %q under P4 (partner promo codes) with products %s", d.P4StoreID, demoP4StoreName, strings.Join(d.P4Products, ", "))
	p("")
	p("The keys below are shown this once. Paste these lines into a shell:")
	p("")
	printExports(&b, demoExports(baseURL, d))
	var keys []export
	if adminExport != "" {
		keys = append(keys, export{adminExport, "", "the marketplace operator"})
	}
	keys = append(keys,
		export{"SELLER_KEY", d.SellerKey, "seller of " + demoStoreName},
		export{"CHECKOUT_KEY", d.CheckoutKey, "checkout of " + demoStoreName},
		export{"PARTNER_KEY", d.PartnerKey, demoPartnerName},
		export{"P4_SELLER_KEY", d.P4SellerKey, "seller of " + demoP4StoreName},
		export{"P4_CHECKOUT_KEY", d.P4CheckoutKey, "checkout of " + demoP4StoreName},
	)
	printExports(&b, keys)
	p("")
	p("Then try the checkout: price a cart with a code, hold the code for an order, use it, see the limit.")
	p("")
	p(`  CART='{"store_id":"'$STORE'","currency":"USD","lines":[{"product_id":"mug","quantity":2,"unit_price":1500}]}'`)
	p("  # Price the cart with the code, as the shop's checkout does: nothing is used yet")
	p(`  curl -s -H "Authorization: Bearer $CHECKOUT_KEY" -H "Content-Type: application/json" \`)
	p(`    -d '{"cart":'"$CART"',"codes":["%s"]}' $PROMOKIT/v1/validate`, d.PartnerCode)
	p("  # The buyer pays: hold the code for order demo-1, then use it")
	for _, call := range []string{"reserve", "redeem"} {
		p(`  curl -s -H "Authorization: Bearer $CHECKOUT_KEY" -H "Content-Type: application/json" \`)
		p(`    -d '{"order_id":"demo-1","cart":'"$CART"',"codes":["%s"]}' $PROMOKIT/v1/%s`, d.PartnerCode, call)
	}
	p("  # The promotion's limit: \"uses\":1 of \"total_uses\":%d", demoPercentUses)
	p(`  curl -s -H "Authorization: Bearer $SELLER_KEY" $PROMOKIT/v1/promotions/$SALE`)
	p("")
	p("And more:")
	p("")
	p("  # Look a code up, as the shop's checkout does")
	p(`  curl -s -H "Authorization: Bearer $CHECKOUT_KEY" $PROMOKIT/v1/codes/%s`, d.CouponCode)
	p("  # List the store's active promotions")
	p(`  curl -s -H "Authorization: Bearer $SELLER_KEY" "$PROMOKIT/v1/promotions?status=active"`)
	p("  # Export the codes of the 15%% promotion as CSV")
	p(`  curl -s -H "Authorization: Bearer $SELLER_KEY" $PROMOKIT/v1/promotions/$SALE/codes.csv`)
	p("  # Generate 100 more codes in the background; GET $PROMOKIT/v1/jobs/<its id> follows the job")
	p(`  curl -s -X POST -H "Authorization: Bearer $SELLER_KEY" -H "Content-Type: application/json" \`)
	p(`    -d '{"count":100,"length":8,"prefix":"%s"}' $PROMOKIT/v1/promotions/$SALE/code-jobs`, demoCodePrefix)
	p("  # Add a custom code to the coupon")
	p(`  curl -s -X POST -H "Authorization: Bearer $SELLER_KEY" -H "Content-Type: application/json" \`)
	p(`    -d '{"code":"WELCOME2"}' $PROMOKIT/v1/promotions/$COUPON/codes`)
	p("  # The influencer's own codes")
	p(`  curl -s -H "Authorization: Bearer $PARTNER_KEY" $PROMOKIT/v1/partners/$PARTNER/codes`)
	p("  # %s sells under P4: its seller's export of all its partner promo codes (none yet)", demoP4StoreName)
	p(`  curl -s -H "Authorization: Bearer $P4_SELLER_KEY" $PROMOKIT/v1/stores/$P4_STORE/codes.csv`)
	p("")
	p("README.md walks through the rest of the API from these exports.")
	p("")
	_, err := io.WriteString(w, b.String())
	return err
}

// printDemoAgain writes, for a database that already has stores, why
// --demo loads nothing, how to start over, and the exports of the demo's
// ids when d, the demo found there, is not nil. Keys cannot be recovered:
// only their hashes are stored.
func printDemoAgain(w io.Writer, baseURL, databaseURL string, d *Demo) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("")
	p("promokit: the database already has stores, so --demo loads nothing (it loads the demo only")
	p("into an empty database). To start over with a new demo, stop promokit and %s", startOver(databaseURL))
	p("")
	if d == nil {
		p("Its first store is not the demo's, so there are no demo ids to show.")
		p("")
		_, err := io.WriteString(w, b.String())
		return err
	}
	p("The demo's ids, for a shell. Its keys were shown once, when it was loaded, and cannot be")
	p("shown again (only their hashes are stored); with the admin key, POST /v1/keys creates new ones.")
	p("")
	printExports(&b, demoExports(baseURL, d))
	p("")
	_, err := io.WriteString(w, b.String())
	return err
}

// startOver says how to get an empty database in place of the one at
// databaseURL: delete a SQLite file with its WAL files, or use a new
// PostgreSQL database.
func startOver(databaseURL string) string {
	kind, target, err := ParseDatabaseURL(databaseURL)
	if err != nil || kind != DatabaseSQLite {
		return "start it with\n--database-url naming a new, empty database."
	}
	file, _, _ := strings.Cut(target, "?")
	return "delete the SQLite file\nand its WAL files, or start it with --database-url naming a new file:\n\n" +
		"  rm -f " + shellQuote(file) + " " + shellQuote(file+"-wal") + " " + shellQuote(file+"-shm")
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
