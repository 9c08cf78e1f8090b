package engine_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

func TestCodes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p := mustCreatePromotion(t, b.seller, b, percentInput())
		c, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: " summer-10 ", UsageLimit: set(int64(5)), PartnerID: &b.partnr.ID})
		if err != nil || c.Code != "SUMMER-10" || *c.UsageLimit != 5 || c.StoreID != b.shop.ID || !c.Active {
			t.Fatalf("CreateCode: %+v %v", c, err)
		}
		// Unique in the marketplace regardless of case, even in another store.
		q := mustCreatePromotion(t, b.foreign, b, percentInput())
		_, err = b.svc.CreateCode(b.foreign, q.ID, engine.CodeInput{Code: "Summer-10"})
		wantCode(t, err, promokit.ECodeTaken)
		_, err = b.svc.CreateCode(b.foreign, p.ID, engine.CodeInput{Code: "MINE"})
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: "a b"})
		wantCode(t, err, promokit.EInvalid)
		_, err = b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: "NEG", UsageLimit: set(int64(-1))})
		wantCode(t, err, promokit.EInvalid)
		_, err = b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: "NOBODY", PartnerID: ptr("par_nobody")})
		wantCode(t, err, promokit.EInvalid)

		// Look-up by value in any case, scoped.
		for name, ctx := range map[string]context.Context{"admin": b.admin, "seller": b.seller, "partner": b.partner, "checkout": b.check} {
			got, err := b.svc.GetCode(ctx, "summer-10")
			if err != nil || got.Code != "SUMMER-10" {
				t.Errorf("%s GetCode: %v", name, err)
			}
		}
		_, err = b.svc.GetCode(b.foreign, "SUMMER-10")
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.GetCode(b.seller, "NOPE-NOPE")
		wantCode(t, err, promokit.ENotFound)
		// The partner sees the promotion of its code, and no other.
		if _, err := b.svc.GetPromotion(b.partner, p.ID); err != nil {
			t.Errorf("partner must see the promotion of its code: %v", err)
		}
		_, err = b.svc.GetPromotion(b.partner, q.ID)
		wantCode(t, err, promokit.ENotFound)

		// Assignment and deactivation.
		u, err := b.svc.UpdateCode(b.seller, "summer-10", engine.CodeInput{Active: ptr(false), CustomerID: ptr("cus_42"), PartnerID: ptr("")})
		if err != nil || u.Active || u.CustomerID != "cus_42" || u.PartnerID != "" {
			t.Fatalf("UpdateCode: %+v %v", u, err)
		}
		_, err = b.svc.GetCode(b.partner, "SUMMER-10")
		wantCode(t, err, promokit.ENotFound) // no longer assigned to the partner
		_, err = b.svc.UpdateCode(b.seller, "summer-10", engine.CodeInput{UsageLimit: set(int64(9))})
		wantCode(t, err, promokit.EInvalid)
		_, err = b.svc.UpdateCode(b.foreign, "summer-10", engine.CodeInput{Active: ptr(true)})
		wantCode(t, err, promokit.ENotFound)
		// Once the promotion is over the code can no longer change.
		b.clock.Set(jan1.Add(31 * 24 * time.Hour))
		_, err = b.svc.UpdateCode(b.seller, "summer-10", engine.CodeInput{Active: ptr(true)})
		wantCode(t, err, promokit.EConflict)
		_, err = b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: "LATE"})
		wantCode(t, err, promokit.EConflict)
	})
}

// p4Input is a partner promo code promotion at every P4 limit.
func p4Input() engine.PromotionInput {
	return engine.PromotionInput{
		Name: ptr("Module promo"), Type: ptr(promokit.PercentOff), PercentOff: ptr(promokit.BasisPoints(3000)),
		ProductIDs: &[]string{"mug"}, StartsAt: ptr(jan1), EndsAt: set(jan1.AddDate(0, 1, 0)),
		TotalUses: set(int64(20)), PerCustomer: set(int64(2)),
	}
}

func TestPartnerPromoCodePolicy(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p4 := mustCreateStore(t, b, "Module maker", true)
		ctx := as(promokit.Principal{KeyID: "key_p4", Role: promokit.RoleSeller, StoreID: p4.ID})
		for name, tt := range map[string]struct {
			change         func(in *engine.PromotionInput)
			limit, current int64
		}{
			"percentage over 30%":   {func(in *engine.PromotionInput) { in.PercentOff = ptr(promokit.BasisPoints(3001)) }, 3000, 3001},
			"21 total uses":         {func(in *engine.PromotionInput) { in.TotalUses = set(int64(21)) }, 20, 21},
			"3 uses per customer":   {func(in *engine.PromotionInput) { in.PerCustomer = set(int64(3)) }, 2, 3},
			"whole catalogue":       {func(in *engine.PromotionInput) { in.ProductIDs = &[]string{} }, 1, 0},
			"window over one month": {func(in *engine.PromotionInput) { in.EndsAt = set(jan1.AddDate(0, 1, 0).Add(time.Second)) }, 31, 32},
			// The month follows the creation (January 1), not the start.
			"a month from a later start": {func(in *engine.PromotionInput) {
				in.StartsAt, in.EndsAt = ptr(jan1.AddDate(0, 0, 19)), set(jan1.AddDate(0, 1, 19))
			}, 31, 50},
		} {
			in := p4Input()
			tt.change(&in)
			_, err := b.svc.CreatePromotion(ctx, in)
			e := wantCode(t, err, promokit.EPolicy)
			if e.Rule != "P4" || *e.Limit != tt.limit || *e.Current != tt.current {
				t.Errorf("%s: rule %s limit %d current %d, want P4 %d %d", name, e.Rule, *e.Limit, *e.Current, tt.limit, tt.current)
			}
		}
		if list, _ := b.svc.ListPromotions(ctx, storage.PromotionFilter{}); len(list) != 0 {
			t.Fatalf("refused promotions were written: %d", len(list))
		}
		p := mustCreatePromotion(t, ctx, b, p4Input())
		// Immutable once created, except activate/deactivate (C5, P4).
		in := p4Input()
		in.StartsAt = ptr(jan1.Add(time.Hour))
		future := mustCreatePromotion(t, ctx, b, in)
		_, err := b.svc.EditPromotion(ctx, future.ID, 1, engine.PromotionInput{Name: ptr("changed")})
		if e := wantCode(t, err, promokit.EImmutable); e.Rule != "P4" {
			t.Errorf("rule %q", e.Rule)
		}
		if _, err := b.svc.SetPromotionActive(ctx, p.ID, false); err != nil {
			t.Fatalf("deactivate must stay possible: %v", err)
		}
		if _, err := b.svc.SetPromotionActive(ctx, p.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err = b.svc.CreateCode(ctx, p.ID, engine.CodeInput{Code: "TOOMANY", UsageLimit: set(int64(21))})
		if e := wantCode(t, err, promokit.EPolicy); *e.Limit != 20 || *e.Current != 21 {
			t.Errorf("usage limit breach: %+v", e)
		}
		// 20 codes in any rolling 30 days: 10 on January 1, 10 on January 20.
		for i := 0; i < 10; i++ {
			if _, err := b.svc.CreateCode(ctx, p.ID, engine.CodeInput{Code: fmt.Sprintf("JAN1-%02d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		b.clock.Set(jan1.AddDate(0, 0, 19))
		_, err = b.svc.CreateCodeJob(ctx, p.ID, promokit.CodeSpec{Count: 11})
		if e := wantCode(t, err, promokit.EPolicy); *e.Limit != 20 || *e.Current != 10 {
			t.Errorf("job over quota: %+v", e)
		}
		for i := 0; i < 10; i++ {
			if _, err := b.svc.CreateCode(ctx, p.ID, engine.CodeInput{Code: fmt.Sprintf("JAN20-%02d", i), CustomerID: ptr("cus_1")}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = b.svc.CreateCode(ctx, p.ID, engine.CodeInput{Code: "NUMBER-21"})
		if e := wantCode(t, err, promokit.EPolicy); e.Rule != "P4" || *e.Limit != 20 || *e.Current != 20 || !strings.Contains(e.Message, "20 were created") {
			t.Errorf("21st code: %+v", e)
		}
		_, err = b.svc.ImportCodes(ctx, p.ID, &sliceSource{codes: []string{"IMPORTED"}})
		wantCode(t, err, promokit.EPolicy)
		// On January 31 at 9:00 the first ten are more than 30 days old.
		b.clock.Set(jan1.AddDate(0, 0, 30).Add(time.Second))
		in = p4Input()
		in.StartsAt = ptr(b.clock.Now())
		in.EndsAt = set(b.clock.Now().AddDate(0, 0, 10))
		later := mustCreatePromotion(t, ctx, b, in)
		for i := 0; i < 10; i++ {
			if _, err := b.svc.CreateCode(ctx, later.ID, engine.CodeInput{Code: fmt.Sprintf("FEB-%02d", i)}); err != nil {
				t.Fatalf("code %d after the window rolled: %v", i, err)
			}
		}
		_, err = b.svc.CreateCode(ctx, later.ID, engine.CodeInput{Code: "FEB-10"})
		wantCode(t, err, promokit.EPolicy)
		// Assignment is a modification, refused; deactivation is not.
		_, err = b.svc.UpdateCode(ctx, "FEB-01", engine.CodeInput{CustomerID: ptr("cus_2")})
		wantCode(t, err, promokit.EImmutable)
		if _, err := b.svc.UpdateCode(ctx, "FEB-01", engine.CodeInput{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
	})
}

// sliceSource is an engine.CodeSource over values; a value "!" is a bad row.
type sliceSource struct {
	codes []string
	i     int
}

type rowErr struct{ row int }

func (e rowErr) Error() string  { return fmt.Sprintf("row %d is bad", e.row) }
func (e rowErr) RowNumber() int { return e.row }

func (s *sliceSource) Reread(row int) (*promokit.Code, error) {
	return &promokit.Code{Code: promokit.NormalizeCode(s.codes[row-2]), Active: true}, nil
}

func (s *sliceSource) Next() (int, *promokit.Code, error) {
	if s.i >= len(s.codes) {
		return 0, nil, io.EOF
	}
	s.i++
	row := s.i + 1 // after a header
	if s.codes[s.i-1] == "!" {
		return row, nil, rowErr{row}
	}
	return row, &promokit.Code{Code: promokit.NormalizeCode(s.codes[s.i-1]), Active: true}, nil
}

func TestImportCodes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p := mustCreatePromotion(t, b.seller, b, percentInput())
		if _, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: "TAKEN"}); err != nil {
			t.Fatal(err)
		}
		codes := make([]string, 2500)
		for i := range codes {
			codes[i] = fmt.Sprintf("IMP-%05d", i)
		}
		bad := append(append([]string{}, codes...), "taken", "!")
		_, err := b.svc.ImportCodes(b.seller, p.ID, &sliceSource{codes: bad})
		e := wantCode(t, err, promokit.EInvalid)
		if len(e.Fields) != 2 || e.Fields[0].Field != "row 2502" || e.Fields[0].Code != promokit.ECodeTaken || e.Fields[1].Field != "row 2503" {
			t.Fatalf("row errors %+v", e.Fields)
		}
		if n := countCodes(t, b, p.ID); n != 1 {
			t.Fatalf("a refused import wrote %d codes", n-1)
		}
		_, err = b.svc.ImportCodes(b.foreign, p.ID, &sliceSource{codes: codes})
		wantCode(t, err, promokit.ENotFound)
		n, err := b.svc.ImportCodes(b.seller, p.ID, &sliceSource{codes: codes})
		if err != nil || n != 2500 {
			t.Fatalf("import: %d %v", n, err)
		}
		if n := countCodes(t, b, p.ID); n != 2501 {
			t.Fatalf("%d codes after import", n)
		}
		_, err = b.svc.ImportCodes(b.seller, p.ID, &sliceSource{})
		wantCode(t, err, promokit.EInvalid)
	})
}

func countCodes(t *testing.T, b *bundle, promotionID string) int {
	t.Helper()
	n := 0
	err := b.svc.ExportCodes(b.admin, storage.CodeFilter{PromotionID: promotionID}, func(c *promokit.Code, p *promokit.Promotion) error {
		if c.PromotionID != p.ID {
			return fmt.Errorf("code %s exported with promotion %s", c.Code, p.ID)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestExportScope(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p := mustCreatePromotion(t, b.seller, b, percentInput())
		q := mustCreatePromotion(t, b.foreign, b, percentInput())
		for i, pr := range []*promokit.Promotion{p, q} {
			ctx := []context.Context{b.seller, b.foreign}[i]
			for j := 0; j < 3; j++ {
				in := engine.CodeInput{Code: fmt.Sprintf("S%d-%d", i, j)}
				if j == 0 {
					in.PartnerID = &b.partnr.ID
				}
				if _, err := b.svc.CreateCode(ctx, pr.ID, in); err != nil {
					t.Fatal(err)
				}
			}
		}
		export := func(ctx context.Context, f storage.CodeFilter) ([]string, error) {
			var got []string
			err := b.svc.ExportCodes(ctx, f, func(c *promokit.Code, _ *promokit.Promotion) error {
				got = append(got, c.Code)
				return nil
			})
			return got, err
		}
		got, err := export(b.seller, storage.CodeFilter{PromotionID: p.ID})
		if err != nil || fmt.Sprint(got) != "[S0-0 S0-1 S0-2]" {
			t.Errorf("seller export %v %v", got, err)
		}
		_, err = export(b.seller, storage.CodeFilter{PromotionID: q.ID})
		wantCode(t, err, promokit.ENotFound)
		got, err = export(b.partner, storage.CodeFilter{PartnerID: b.partnr.ID})
		if err != nil || fmt.Sprint(got) != "[S0-0 S1-0]" {
			t.Errorf("partner export %v %v", got, err)
		}
		got, err = export(b.seller, storage.CodeFilter{PartnerID: b.partnr.ID})
		if err != nil || fmt.Sprint(got) != "[S0-0]" {
			t.Errorf("seller export of a partner's codes %v %v", got, err)
		}
		list, err := b.svc.ListCodes(b.partner, storage.CodeFilter{})
		if err != nil || len(list) != 2 {
			t.Errorf("partner list %d %v", len(list), err)
		}
	})
}

// TestConcurrentLookups runs many look-ups at once, in several scopes, so
// that they share batches: each must get its own answer, scoped.
func TestConcurrentLookups(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p := mustCreatePromotion(t, b.seller, b, percentInput())
		q := mustCreatePromotion(t, b.foreign, b, percentInput())
		for i := 0; i < 20; i++ {
			if _, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: fmt.Sprintf("OURS-%02d", i)}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.svc.CreateCode(b.foreign, q.ID, engine.CodeInput{Code: fmt.Sprintf("THEIRS-%02d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for i := 0; i < 400; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := []context.Context{b.seller, b.foreign, b.admin, b.partner}[i%4]
				value := []string{"ours-%02d", "THEIRS-%02d", "MISSING-%02d"}[i%3]
				value = fmt.Sprintf(value, i%20)
				c, err := b.svc.GetCode(ctx, value)
				visible := (i%3 == 0 && (i%4 == 0 || i%4 == 2)) || (i%3 == 1 && (i%4 == 1 || i%4 == 2))
				switch {
				case visible && (err != nil || c.Code != promokit.NormalizeCode(value)):
					t.Errorf("look-up %d of %s: %v %v", i, value, c, err)
				case !visible && promokit.ErrorCode(err) != promokit.ENotFound:
					t.Errorf("look-up %d of %s must not be found: %v %v", i, value, c, err)
				}
			}()
		}
		wg.Wait()
	})
}

// TestPartnerCodeQuotaConcurrent races 40 code creations, through two
// services as two server processes would be, against P4's quota of 20
// codes in 30 days: exactly 20 must succeed, whatever the interleaving.
func TestPartnerCodeQuotaConcurrent(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p4 := mustCreateStore(t, b, "Module maker", true)
		ctx := as(promokit.Principal{KeyID: "key_p4", Role: promokit.RoleSeller, StoreID: p4.ID})
		p := mustCreatePromotion(t, ctx, b, p4Input())
		second := engine.New(engine.Config{DB: b.store, Clock: b.clock})
		var (
			wg               sync.WaitGroup
			mu               sync.Mutex
			created, refused int
		)
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				svc := []*engine.Service{b.svc, second}[i%2]
				_, err := svc.CreateCode(ctx, p.ID, engine.CodeInput{Code: fmt.Sprintf("RACE-%02d", i)})
				mu.Lock()
				defer mu.Unlock()
				switch promokit.ErrorCode(err) {
				case "":
					created++
				case promokit.EPolicy:
					refused++
				default:
					t.Errorf("code %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if created != 20 || refused != 20 {
			t.Fatalf("%d created and %d refused, want exactly 20 and 20", created, refused)
		}
		if n := countCodes(t, b, p.ID); n != 20 {
			t.Fatalf("%d codes stored, want 20", n)
		}
	})
}

// TestPartnerCodeJob: under P4 a generation job is drawn at once, inside
// the transaction that checks the quota, so the quota counts its codes.
func TestPartnerCodeJob(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p4 := mustCreateStore(t, b, "Module maker", true)
		ctx := as(promokit.Principal{KeyID: "key_p4", Role: promokit.RoleSeller, StoreID: p4.ID})
		p := mustCreatePromotion(t, ctx, b, p4Input())
		j, err := b.svc.CreateCodeJob(ctx, p.ID, promokit.CodeSpec{Count: 15})
		if err != nil || j.State != promokit.JobSucceeded || j.Done != 15 {
			t.Fatalf("P4 job %+v %v", j, err)
		}
		if n := countCodes(t, b, p.ID); n != 15 {
			t.Fatalf("%d codes, want 15 at once", n)
		}
		_, err = b.svc.CreateCodeJob(ctx, p.ID, promokit.CodeSpec{Count: 6})
		if e := wantCode(t, err, promokit.EPolicy); *e.Limit != 20 || *e.Current != 15 {
			t.Errorf("quota after a job: %+v", e)
		}
		if ran, _ := b.svc.RunOneJob(context.Background()); ran {
			t.Error("a P4 job was left for the worker")
		}
	})
}
