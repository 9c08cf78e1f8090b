package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// newCode returns an active code of promotion p, created at created.
func newCode(p *promokit.Promotion, value string, created time.Time) *promokit.Code {
	return &promokit.Code{Code: value, PromotionID: p.ID, StoreID: p.StoreID, Active: true, CreatedAt: created, UpdatedAt: created}
}

// mustCreateCodes creates codes in one transaction with CreateCode.
func mustCreateCodes(t *testing.T, b *bundle, cs ...*promokit.Code) {
	t.Helper()
	b.write(t, func(tx storage.Tx) error {
		for _, c := range cs {
			if err := tx.CodeCreate(b.ctx, c); err != nil {
				return fmt.Errorf("create code %s: %w", c.Code, err)
			}
		}
		return nil
	})
}

func mustGetCode(t *testing.T, b *bundle, scope promokit.Scope, code string) *promokit.Code {
	t.Helper()
	var got *promokit.Code
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.CodeGet(b.ctx, scope, code)
		return err
	})
	return got
}

// testCodes checks the round trip of every field of a code, uniqueness,
// UpdateCode and CodeExistingMany.
func testCodes(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreatePartner(t, b, "par_1")
	p := newPromotion(b, "sto_1", "prm_1")
	mustCreatePromotions(t, b, p)
	full := &promokit.Code{
		Code: "SPRING-2026", PromotionID: "prm_1", StoreID: "sto_1", Active: false,
		UsageLimit: ptr(int64(10)), PerCustomerLimit: ptr(int64(1)), CustomerID: "cus_42", PartnerID: "par_1",
		ExpiresAt: ptr(b.at(72 * time.Hour)), JobID: "job_1", Uses: 4, CreatedAt: b.now, UpdatedAt: b.at(time.Minute),
	}
	minimal := newCode(p, "ABC", b.at(time.Second))
	mustCreateCodes(t, b, full, minimal)
	wantEqual(t, "full code", full, mustGetCode(t, b, promokit.Scope{}, full.Code))
	wantEqual(t, "minimal code", minimal, mustGetCode(t, b, promokit.Scope{}, minimal.Code))

	taken := newCode(p, "ABC", b.now)
	err := b.writeErr(func(tx storage.Tx) error { return tx.CodeCreate(b.ctx, taken) })
	wantErr(t, "CreateCode of a taken value", err, storage.ErrTaken)
	err = b.readErr(func(tx storage.Tx) error {
		_, err := tx.CodeGet(b.ctx, promokit.Scope{}, "NOPE")
		return err
	})
	wantErr(t, "GetCode of a missing code", err, storage.ErrNotFound)

	// UpdateCode writes the active flag, the assignment and updated_at only.
	upd := *minimal
	upd.Active, upd.PartnerID, upd.CustomerID, upd.UpdatedAt = false, "par_1", "cus_7", b.at(time.Hour)
	upd.Uses, upd.JobID = 50, "job_other"
	b.write(t, func(tx storage.Tx) error { return tx.CodeUpdate(b.ctx, &upd) })
	want := *minimal
	want.Active, want.PartnerID, want.CustomerID, want.UpdatedAt = false, "par_1", "cus_7", b.at(time.Hour)
	wantEqual(t, "updated code", &want, mustGetCode(t, b, promokit.Scope{}, minimal.Code))
	err = b.writeErr(func(tx storage.Tx) error { return tx.CodeUpdate(b.ctx, newCode(p, "NOPE", b.now)) })
	wantErr(t, "UpdateCode of a missing code", err, storage.ErrNotFound)

	var existing []string
	b.read(t, func(tx storage.Tx) (err error) {
		existing, err = tx.CodeExistingMany(b.ctx, []string{"NOPE", "SPRING-2026", "ABC", "ABD"})
		return err
	})
	slices.Sort(existing)
	wantEqual(t, "CodeExistingMany", []string{"ABC", "SPRING-2026"}, existing)
	b.read(t, func(tx storage.Tx) (err error) {
		existing, err = tx.CodeExistingMany(b.ctx, nil)
		return err
	})
	wantEqual(t, "CodeExistingMany of none", []string(nil), existing)
}

// testCodesScope checks that a store sees its codes, a partner those
// assigned to it, and that anything else is not found.
func testCodesScope(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	p1, p2 := newPromotion(b, "sto_1", "prm_1"), newPromotion(b, "sto_2", "prm_2")
	mustCreatePromotions(t, b, p1, p2)
	a, bb, c, d := newCode(p1, "A-1", b.now), newCode(p1, "B-1", b.now), newCode(p2, "C-2", b.now), newCode(p2, "D-2", b.now)
	a.PartnerID, c.PartnerID, d.PartnerID = "par_1", "par_1", "par_2"
	mustCreateCodes(t, b, a, bb, c, d)

	store1, store2 := promokit.Scope{StoreID: "sto_1"}, promokit.Scope{StoreID: "sto_2"}
	par1, par2 := promokit.Scope{PartnerID: "par_1"}, promokit.Scope{PartnerID: "par_2"}
	tests := []struct {
		scope promokit.Scope
		code  string
		found bool
	}{
		{store1, "A-1", true},
		{store1, "C-2", false},
		{store2, "C-2", true},
		{store2, "B-1", false},
		{par1, "A-1", true},
		{par1, "C-2", true},
		{par1, "B-1", false},
		{par1, "D-2", false},
		{par2, "D-2", true},
		{promokit.Scope{PartnerID: "par_3"}, "B-1", false},
		{promokit.Scope{}, "D-2", true},
	}
	for _, tc := range tests {
		err := b.readErr(func(tx storage.Tx) error {
			_, err := tx.CodeGet(b.ctx, tc.scope, tc.code)
			return err
		})
		if tc.found && err != nil {
			t.Errorf("GetCode(%+v, %s) = %v, want found", tc.scope, tc.code, err)
		}
		if !tc.found && !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetCode(%+v, %s) = %v, want not_found", tc.scope, tc.code, err)
		}
		// CodeGetMany, the batched look-up, applies the same scope.
		var got []*promokit.Code
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.CodeGetMany(b.ctx, tc.scope, []string{tc.code, "NOT-A-CODE"})
			return err
		})
		if tc.found != (len(got) == 1) || (tc.found && got[0].Code != tc.code) {
			t.Errorf("CodeGetMany(%+v, %s) = %v, want found %v", tc.scope, tc.code, got, tc.found)
		}
	}
	var all []*promokit.Code
	b.read(t, func(tx storage.Tx) (err error) {
		all, err = tx.CodeGetMany(b.ctx, par1, []string{"A-1", "B-1", "C-2", "D-2", "A-1"})
		return err
	})
	if len(all) != 2 {
		t.Errorf("CodeGetMany for par_1 found %d codes, want A-1 and C-2", len(all))
	}

	values := func(scope promokit.Scope, f storage.CodeFilter) []string {
		var out []string
		b.read(t, func(tx storage.Tx) error {
			cs, err := tx.CodeList(b.ctx, scope, f)
			for _, c := range cs {
				out = append(out, c.Code)
			}
			return err
		})
		return out
	}
	wantEqual(t, "codes of sto_1", []string{"A-1", "B-1"}, values(store1, storage.CodeFilter{}))
	wantEqual(t, "codes of par_1", []string{"A-1", "C-2"}, values(par1, storage.CodeFilter{}))
	wantEqual(t, "sto_2 asking for prm_1", []string(nil), values(store2, storage.CodeFilter{PromotionID: "prm_1"}))
	wantEqual(t, "par_2 asking for par_1", []string(nil), values(par2, storage.CodeFilter{PartnerID: "par_1"}))
	wantEqual(t, "par_1's codes of prm_2", []string{"C-2"}, values(par1, storage.CodeFilter{PromotionID: "prm_2"}))
}

// testCodesInsert checks that CodeInsertMany skips existing values, in the
// database and earlier in its input, and counts what it inserted.
func testCodesInsert(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	p := newPromotion(b, "sto_1", "prm_1")
	mustCreatePromotions(t, b, p)
	mustCreateCodes(t, b, newCode(p, "TAKEN-1", b.now), newCode(p, "TAKEN-2", b.now))

	insert := func(cs []*promokit.Code) int64 {
		var n int64
		b.write(t, func(tx storage.Tx) (err error) {
			n, err = tx.CodeInsertMany(b.ctx, cs)
			return err
		})
		return n
	}
	if n := insert(nil); n != 0 {
		t.Fatalf("CodeInsertMany of none = %d, want 0", n)
	}
	// More codes than any single statement of a sane implementation holds,
	// with duplicates spread through the batch.
	var batch, want []*promokit.Code
	for i := range 2345 {
		c := newCode(p, fmt.Sprintf("GEN-%05d", i), b.now)
		c.JobID = "job_1"
		if i%7 == 3 {
			c.UsageLimit, c.ExpiresAt = ptr(int64(i)), ptr(b.at(time.Duration(i)*time.Second))
		}
		batch = append(batch, c)
		want = append(want, c)
		if i == 10 || i == 2000 {
			batch = append(batch, newCode(p, "TAKEN-1", b.now))
		}
		if i%500 == 499 {
			dup := *c
			dup.JobID = "job_dup"
			batch = append(batch, &dup)
		}
	}
	batch = append(batch, newCode(p, "TAKEN-2", b.now))
	if n := insert(batch); n != int64(len(want)) {
		t.Fatalf("CodeInsertMany = %d, want %d", n, len(want))
	}
	if n := insert(batch[:100]); n != 0 {
		t.Fatalf("CodeInsertMany of existing codes = %d, want 0", n)
	}
	// The codes of one call may be created in any order among themselves.
	var got []*promokit.Code
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.CodeList(b.ctx, promokit.Scope{}, storage.CodeFilter{PromotionID: "prm_1", Page: storage.Page{After: "TAKEN-2", Limit: 10_000}})
		return err
	})
	byValue := func(a, b *promokit.Code) int { return strings.Compare(a.Code, b.Code) }
	slices.SortFunc(got, byValue)
	slices.SortFunc(want, byValue)
	wantEqual(t, "inserted codes", want, got)
}

// testCodesList checks that codes list in creation order, not by value,
// and the filters and pagination of ListCodes.
func testCodesList(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	p1, p2 := newPromotion(b, "sto_1", "prm_1"), newPromotion(b, "sto_1", "prm_2")
	mustCreatePromotions(t, b, p1, p2)
	var all []*promokit.Code
	for i := range 120 {
		// Values fall from one call to the next, and from one CreateCode
		// to the next; they rise within an CodeInsertMany call, whose codes
		// may be created in any order among themselves.
		var value string
		switch {
		case i < 50:
			value = fmt.Sprintf("Z%03d", i)
		case i < 60:
			value = fmt.Sprintf("Y%03d", 200-i)
		default:
			value = fmt.Sprintf("X%03d", i)
		}
		c := newCode(p1, value, b.now)
		if i%4 == 0 {
			c.PromotionID = "prm_2"
		}
		if i%6 == 0 {
			c.PartnerID = "par_1"
		}
		all = append(all, c)
	}
	b.write(t, func(tx storage.Tx) error {
		_, err := tx.CodeInsertMany(b.ctx, all[:50])
		return err
	})
	mustCreateCodes(t, b, all[50:60]...)
	b.write(t, func(tx storage.Tx) error {
		_, err := tx.CodeInsertMany(b.ctx, all[60:])
		return err
	})
	list := func(f storage.CodeFilter) []*promokit.Code {
		var got []*promokit.Code
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.CodeList(b.ctx, promokit.Scope{}, f)
			return err
		})
		return got
	}
	wantEqual(t, "first page of the default size", all[:100], list(storage.CodeFilter{}))
	wantEqual(t, "last page", all[100:], list(storage.CodeFilter{Page: storage.Page{After: all[99].Code}}))
	wantEqual(t, "a page across the inserts", all[45:65], list(storage.CodeFilter{Page: storage.Page{After: all[44].Code, Limit: 20}}))

	pick := func(keep func(c *promokit.Code) bool) []*promokit.Code {
		var out []*promokit.Code
		for _, c := range all {
			if keep(c) {
				out = append(out, c)
			}
		}
		return out
	}
	ofP2 := pick(func(c *promokit.Code) bool { return c.PromotionID == "prm_2" })
	wantEqual(t, "codes of prm_2", ofP2, list(storage.CodeFilter{PromotionID: "prm_2"}))
	wantEqual(t, "codes of prm_2, page 2", ofP2[5:10], list(storage.CodeFilter{PromotionID: "prm_2", Page: storage.Page{After: ofP2[4].Code, Limit: 5}}))
	ofPar1 := pick(func(c *promokit.Code) bool { return c.PartnerID == "par_1" })
	wantEqual(t, "codes of par_1", ofPar1, list(storage.CodeFilter{PartnerID: "par_1"}))
	both := pick(func(c *promokit.Code) bool { return c.PartnerID == "par_1" && c.PromotionID == "prm_1" })
	wantEqual(t, "par_1's codes of prm_1", both, list(storage.CodeFilter{PromotionID: "prm_1", PartnerID: "par_1"}))
}

// testCodesCount checks CodeCount and CodeTally by store, promotion and
// creation time, and CodeListByStore.
func testCodesCount(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	p1, p2, p3 := newPromotion(b, "sto_1", "prm_1"), newPromotion(b, "sto_1", "prm_2"), newPromotion(b, "sto_2", "prm_3")
	mustCreatePromotions(t, b, p1, p2, p3)
	var cs []*promokit.Code
	for i := range 30 {
		p := []*promokit.Promotion{p1, p2, p3}[i%3]
		cs = append(cs, newCode(p, fmt.Sprintf("C%03d", i), b.at(time.Duration(i)*time.Hour)))
	}
	b.write(t, func(tx storage.Tx) error {
		_, err := tx.CodeInsertMany(b.ctx, cs)
		return err
	})
	tests := []struct {
		count  storage.CodeCount
		want   int64
		oldest time.Duration // after b.now; -1 for none
	}{
		{storage.CodeCount{StoreID: "sto_1"}, 20, 0},
		{storage.CodeCount{StoreID: "sto_2"}, 10, 2 * time.Hour},
		{storage.CodeCount{PromotionID: "prm_2"}, 10, time.Hour},
		{storage.CodeCount{StoreID: "sto_1", PromotionID: "prm_3"}, 0, -1},
		{storage.CodeCount{StoreID: "sto_1", Since: b.at(12 * time.Hour)}, 12, 12 * time.Hour}, // hours 12..29, two of every three
		{storage.CodeCount{StoreID: "sto_1", Since: b.at(12*time.Hour + time.Microsecond)}, 11, 13 * time.Hour},
		{storage.CodeCount{PromotionID: "prm_1", Since: b.at(27 * time.Hour)}, 1, 27 * time.Hour},
		{storage.CodeCount{StoreID: "sto_3"}, 0, -1},
	}
	for _, tc := range tests {
		var n int64
		var tally storage.CodeTally
		b.read(t, func(tx storage.Tx) (err error) {
			if n, err = tx.CodeCount(b.ctx, tc.count); err != nil {
				return err
			}
			tally, err = tx.CodeTally(b.ctx, tc.count)
			return err
		})
		if n != tc.want {
			t.Errorf("CodeCount(%+v) = %d, want %d", tc.count, n, tc.want)
		}
		want := storage.CodeTally{Count: tc.want}
		if tc.oldest >= 0 {
			want.Oldest = b.at(tc.oldest)
		}
		wantEqual(t, fmt.Sprintf("CodeTally(%+v)", tc.count), want, tally)
	}

	// A store's codes newest first, a page at a time, through its
	// promotions: never another store's.
	var ofSto1 []*promokit.Code
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].StoreID == "sto_1" {
			ofSto1 = append(ofSto1, cs[i])
		}
	}
	byStore := func(f storage.StoreCodeFilter) []*promokit.Code {
		var got []*promokit.Code
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.CodeListByStore(b.ctx, f)
			return err
		})
		return got
	}
	wantEqual(t, "sto_1's codes, newest first", ofSto1, byStore(storage.StoreCodeFilter{StoreID: "sto_1"}))
	wantEqual(t, "sto_1's codes, page 1", ofSto1[:7], byStore(storage.StoreCodeFilter{StoreID: "sto_1", Page: storage.Page{Limit: 7}}))
	wantEqual(t, "sto_1's codes, page 2", ofSto1[7:14],
		byStore(storage.StoreCodeFilter{StoreID: "sto_1", Page: storage.Page{After: ofSto1[6].Code, Limit: 7}}))
	wantEqual(t, "sto_1's codes, last page", ofSto1[14:],
		byStore(storage.StoreCodeFilter{StoreID: "sto_1", Page: storage.Page{After: ofSto1[13].Code, Limit: 7}}))
	if got := byStore(storage.StoreCodeFilter{StoreID: "sto_3"}); len(got) != 0 {
		t.Errorf("a store without codes lists %d", len(got))
	}
}

// testCodesExport checks that ExportCodes streams in creation order what
// the scope and filter select, and stops at the callback's first error.
func testCodesExport(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	p1, p2 := newPromotion(b, "sto_1", "prm_1"), newPromotion(b, "sto_2", "prm_2")
	mustCreatePromotions(t, b, p1, p2)
	var all []*promokit.Code
	for i := range 300 {
		c := newCode(p1, fmt.Sprintf("X%04d", i), b.at(time.Duration(i)*time.Second))
		if i%3 == 0 {
			c.PromotionID, c.StoreID = "prm_2", "sto_2"
		}
		if i%5 == 0 {
			c.PartnerID = "par_1"
			c.ExpiresAt, c.UsageLimit = ptr(b.at(time.Hour)), ptr(int64(i+1))
		}
		all = append(all, c)
	}
	b.write(t, func(tx storage.Tx) error {
		_, err := tx.CodeInsertMany(b.ctx, all)
		return err
	})
	export := func(scope promokit.Scope, f storage.CodeFilter) []*promokit.Code {
		var got []*promokit.Code
		err := b.store.CodeExport(b.ctx, scope, f, func(c *promokit.Code) error {
			cp := *c // fn may not keep c
			cp.UsageLimit, cp.PerCustomerLimit, cp.ExpiresAt = copyPtr(c.UsageLimit), copyPtr(c.PerCustomerLimit), copyPtr(c.ExpiresAt)
			got = append(got, &cp)
			return nil
		})
		if err != nil {
			t.Fatalf("ExportCodes(%+v, %+v): %v", scope, f, err)
		}
		return got
	}
	pick := func(keep func(c *promokit.Code) bool) []*promokit.Code {
		var out []*promokit.Code
		for _, c := range all {
			if keep(c) {
				out = append(out, c)
			}
		}
		return out
	}
	wantEqual(t, "everything", all, export(promokit.Scope{}, storage.CodeFilter{}))
	wantEqual(t, "sto_2's", pick(func(c *promokit.Code) bool { return c.StoreID == "sto_2" }), export(promokit.Scope{StoreID: "sto_2"}, storage.CodeFilter{}))
	wantEqual(t, "par_1's", pick(func(c *promokit.Code) bool { return c.PartnerID == "par_1" }), export(promokit.Scope{PartnerID: "par_1"}, storage.CodeFilter{}))
	wantEqual(t, "par_1's of prm_1", pick(func(c *promokit.Code) bool { return c.PartnerID == "par_1" && c.PromotionID == "prm_1" }),
		export(promokit.Scope{PartnerID: "par_1"}, storage.CodeFilter{PromotionID: "prm_1"}))
	wantEqual(t, "sto_1 asking for prm_2", []*promokit.Code(nil), export(promokit.Scope{StoreID: "sto_1"}, storage.CodeFilter{PromotionID: "prm_2"}))

	errStop := errors.New("stop")
	calls := 0
	err := b.store.CodeExport(b.ctx, promokit.Scope{}, storage.CodeFilter{}, func(c *promokit.Code) error {
		calls++
		if calls == 10 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 10 {
		t.Fatalf("ExportCodes with a failing callback = %v after %d calls, want the callback's error after 10", err, calls)
	}
}

// copyPtr returns a pointer to a copy of *p, or nil.
func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// testCodesGenerated checks CodeInsertValuesMany: the template's fields on
// every row, taken values skipped, the count of inserted rows.
func testCodesGenerated(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	p := newPromotion(b, "sto_1", "prm_1")
	mustCreatePromotions(t, b, p)
	mustCreateCodes(t, b, newCode(p, "TAKEN-1", b.now))
	tmpl := &promokit.Code{PromotionID: p.ID, StoreID: "sto_1", Active: true, JobID: "job_1", CreatedAt: b.at(time.Minute)}
	var n int64
	b.write(t, func(tx storage.Tx) (err error) {
		n, err = tx.CodeInsertValuesMany(b.ctx, tmpl, []string{"GEN-1", "TAKEN-1", "GEN-2"})
		return err
	})
	if n != 2 {
		t.Fatalf("inserted %d, want 2 (TAKEN-1 exists)", n)
	}
	got := mustGetCode(t, b, promokit.Scope{}, "GEN-2")
	want := &promokit.Code{Code: "GEN-2", PromotionID: p.ID, StoreID: "sto_1", Active: true, JobID: "job_1",
		CreatedAt: b.at(time.Minute), UpdatedAt: b.at(time.Minute)}
	wantEqual(t, "generated code", want, got)
	if taken := mustGetCode(t, b, promokit.Scope{}, "TAKEN-1"); taken.JobID != "" {
		t.Errorf("an existing code was overwritten: %+v", taken)
	}
}

// testCustomerCodes checks that CodeListForCustomer returns the codes of a store
// restricted to a customer that are active, unexpired and of a live
// promotion, in creation order, and nothing of another customer or store.
func testCustomerCodes(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	now := b.at(time.Hour)
	live, ended, scheduled, inactive := newPromotion(b, "sto_1", "prm_1"), newPromotion(b, "sto_1", "prm_2"), newPromotion(b, "sto_1", "prm_3"), newPromotion(b, "sto_1", "prm_4")
	ended.EndsAt = ptr(now)
	scheduled.StartsAt = now.Add(time.Microsecond)
	inactive.Active = false
	foreign := newPromotion(b, "sto_2", "prm_5")
	mustCreatePromotions(t, b, live, ended, scheduled, inactive, foreign)

	mk := func(p *promokit.Promotion, value, customer string, mod func(c *promokit.Code)) *promokit.Code {
		c := newCode(p, value, b.now)
		c.CustomerID = customer
		mod(c)
		return c
	}
	none := func(*promokit.Code) {}
	limited := mk(live, "ANN-1", "cus_ann", func(c *promokit.Code) {
		c.UsageLimit, c.PerCustomerLimit, c.PartnerID, c.Uses = ptr(int64(5)), ptr(int64(1)), "par_1", 2
	})
	cs := []*promokit.Code{
		limited,
		mk(live, "BOB-1", "cus_bob", none),
		mk(live, "PUBLIC-1", "", none),
		mk(live, "ANN-OFF", "cus_ann", func(c *promokit.Code) { c.Active = false }),
		mk(live, "ANN-EXPIRED", "cus_ann", func(c *promokit.Code) { c.ExpiresAt = ptr(now) }),
		mk(live, "ANN-2", "cus_ann", func(c *promokit.Code) { c.ExpiresAt = ptr(now.Add(time.Microsecond)) }),
		mk(ended, "ANN-ENDED", "cus_ann", none),
		mk(scheduled, "ANN-SOON", "cus_ann", none),
		mk(inactive, "ANN-INACTIVE", "cus_ann", none),
		mk(foreign, "ANN-FOREIGN", "cus_ann", none),
	}
	mustCreateCodes(t, b, cs...)

	list := func(store, customer string, limit int) []*promokit.Code {
		t.Helper()
		var out []*promokit.Code
		b.read(t, func(tx storage.Tx) (err error) {
			out, err = tx.CodeListForCustomer(b.ctx, storage.CustomerCodesQuery{StoreID: store, CustomerID: customer, Now: now, Limit: limit})
			return err
		})
		return out
	}
	values := func(cs []*promokit.Code) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.Code
		}
		return out
	}
	got := list("sto_1", "cus_ann", 100)
	wantEqual(t, "codes of cus_ann at sto_1", []string{"ANN-1", "ANN-2"}, values(got))
	wantEqual(t, "ANN-1, every field", limited, got[0])
	wantEqual(t, "the first one", []string{"ANN-1"}, values(list("sto_1", "cus_ann", 1)))
	wantEqual(t, "codes of cus_bob", []string{"BOB-1"}, values(list("sto_1", "cus_bob", 100)))
	wantEqual(t, "codes of cus_ann at sto_2", []string{"ANN-FOREIGN"}, values(list("sto_2", "cus_ann", 100)))
	wantEqual(t, "no customer", []string(nil), values(list("sto_1", "", 100)))
	wantEqual(t, "an unknown customer", []string(nil), values(list("sto_1", "cus_zed", 100)))

	// Assigning a code to a customer later brings it in; taking the
	// assignment away takes it out.
	public := *cs[2]
	public.CustomerID = "cus_ann"
	b.write(t, func(tx storage.Tx) error { return tx.CodeUpdate(b.ctx, &public) })
	wantEqual(t, "after assigning PUBLIC-1", []string{"ANN-1", "PUBLIC-1", "ANN-2"}, values(list("sto_1", "cus_ann", 100)))
	public.CustomerID = ""
	b.write(t, func(tx storage.Tx) error { return tx.CodeUpdate(b.ctx, &public) })
	wantEqual(t, "after unassigning PUBLIC-1", []string{"ANN-1", "ANN-2"}, values(list("sto_1", "cus_ann", 100)))
}
