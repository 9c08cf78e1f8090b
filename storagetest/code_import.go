package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// importedCodes reads, through every read of codes that a caller can
// reach, which of values are visible, and fails the test unless each read
// sees the same ones. The codes belong to store sto_1 (and its promotion
// prm_1, its only one) and to partner, who has no other code, and are
// restricted to customer cus_1.
func importedCodes(t *testing.T, b *bundle, partnerID string, values []string) []string {
	t.Helper()
	type seen struct {
		what   string
		values []string
	}
	var reads []seen
	add := func(what string, cs []*promokit.Code) {
		var vs []string
		for _, c := range cs {
			if slices.Contains(values, c.Code) {
				vs = append(vs, c.Code)
			}
		}
		slices.Sort(vs)
		reads = append(reads, seen{what, vs})
	}
	store, partner := promokit.Scope{StoreID: "sto_1"}, promokit.Scope{PartnerID: partnerID}
	b.read(t, func(tx storage.Tx) error {
		var one []*promokit.Code
		for _, v := range values {
			c, err := tx.CodeGet(b.ctx, store, v)
			if err == nil {
				one = append(one, c)
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		add("GetCode", one)
		for name, scope := range map[string]promokit.Scope{"store": store, "partner": partner, "all": {}} {
			cs, err := tx.CodeGetMany(b.ctx, scope, values)
			if err != nil {
				return err
			}
			add("CodeGetMany of "+name, cs)
			cs, err = tx.CodeList(b.ctx, scope, storage.CodeFilter{PromotionID: "prm_1", Page: storage.Page{Limit: 1000}})
			if err != nil {
				return err
			}
			add("ListCodes of "+name, cs)
		}
		cs, err := tx.CodeList(b.ctx, promokit.Scope{}, storage.CodeFilter{PartnerID: partnerID, Page: storage.Page{Limit: 1000}})
		if err != nil {
			return err
		}
		add("ListCodes by partner", cs)
		cs, err = tx.CodeListForCustomer(b.ctx, storage.CustomerCodesQuery{StoreID: "sto_1", CustomerID: "cus_1", Now: b.at(time.Hour), Limit: 1000})
		if err != nil {
			return err
		}
		add("CodeListForCustomer", cs)
		d, err := checkoutRead(t, b, tx, storage.CheckoutQuery{StoreID: "sto_1", OrderIDs: []string{"o1"}, Codes: values, Now: b.now})
		if err != nil {
			return err
		}
		add("CheckoutRead", d.Codes)
		carts, err := cartReadMany(t, b, tx, &storage.CartsQuery{Carts: []storage.CartOf{{StoreID: "sto_1", Codes: values}}, Now: b.now})
		if err != nil {
			return err
		}
		add("ReadCarts", carts.Stores["sto_1"].Codes)
		existing, err := tx.CodeExistingMany(b.ctx, values)
		if err != nil {
			return err
		}
		var ex []*promokit.Code
		for _, v := range existing {
			ex = append(ex, &promokit.Code{Code: v})
		}
		add("CodeExistingMany", ex)
		// The counts agree with the list of every code of the promotion.
		all, err := tx.CodeList(b.ctx, promokit.Scope{}, storage.CodeFilter{PromotionID: "prm_1", Page: storage.Page{Limit: 1000}})
		if err != nil {
			return err
		}
		for _, f := range []storage.CodeCount{{PromotionID: "prm_1"}, {StoreID: "sto_1"}, {StoreID: "sto_1", Since: b.now}} {
			n, err := tx.CodeCount(b.ctx, f)
			if err != nil {
				return err
			}
			if n != int64(len(all)) {
				t.Errorf("CodeCount(%+v) = %d, and the promotion lists %d codes", f, n, len(all))
			}
		}
		// A partner sees a promotion through its codes only.
		_, getErr := tx.PromotionGet(b.ctx, partner, "prm_1")
		if getErr != nil && !errors.Is(getErr, storage.ErrNotFound) {
			return getErr
		}
		promos, err := tx.PromotionList(b.ctx, partner, storage.PromotionFilter{Now: b.now})
		if err != nil {
			return err
		}
		byID, err := tx.PromotionGetMany(b.ctx, partner, []string{"prm_1"})
		if err != nil {
			return err
		}
		if (getErr == nil) != (len(promos) == 1) || len(promos) != len(byID) {
			t.Errorf("partner sees prm_1: GetPromotion %v, ListPromotions %d, PromotionGetMany %d", getErr, len(promos), len(byID))
		}
		if len(promos) > 0 {
			// Then it sees its codes there.
			var mine []*promokit.Code
			for _, c := range all {
				if c.PartnerID == partnerID {
					mine = append(mine, c)
				}
			}
			add("codes through the partner's promotions", mine)
		} else {
			reads = append(reads, seen{"the partner's promotions", nil})
		}
		return nil
	})
	var exported []*promokit.Code
	err := b.store.CodeExport(b.ctx, store, storage.CodeFilter{PromotionID: "prm_1"}, func(c *promokit.Code) error {
		cc := *c
		exported = append(exported, &cc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	add("ExportCodes", exported)
	for _, r := range reads[1:] {
		if !slices.Equal(r.values, reads[0].values) {
			t.Fatalf("%s sees %v, %s sees %v", reads[0].what, reads[0].values, r.what, r.values)
		}
	}
	return reads[0].values
}

// testCodeImports checks the codes of an import written in chunks: no read
// sees them until the import commits, then every read sees them all; their
// values are taken meanwhile; a failed or abandoned import is purged chunk
// by chunk and frees its values.
func testCodeImports(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreatePartner(t, b, "par_1")
	p := newPromotion(b, "sto_1", "prm_1")
	mustCreatePromotions(t, b, p)
	settings := promokit.DefaultSettings(b.now)
	b.write(t, func(tx storage.Tx) error {
		_, err := tx.SettingsInit(b.ctx, &settings)
		return err
	})
	other := newCode(p, "OTHER", b.now)
	mustCreateCodes(t, b, other)
	values := []string{"IMP-1", "IMP-2", "IMP-3", "IMP-4", "IMP-5"}
	mustCreatePartner(t, b, "par_2")
	partner := "par_1"
	codes := func(vs ...string) []*promokit.Code {
		out := make([]*promokit.Code, len(vs))
		for i, v := range vs {
			c := newCode(p, v, b.now)
			c.PartnerID, c.CustomerID = partner, "cus_1"
			out[i] = c
		}
		return out
	}

	imp := &storage.CodeImport{PromotionID: "prm_1", StoreID: "sto_1", LeaseUntil: b.at(time.Minute), CreatedAt: b.now}
	b.write(t, func(tx storage.Tx) error { return tx.CodeImportCreate(b.ctx, imp) })
	if imp.ID == 0 {
		t.Fatal("CodeImportCreate set no id")
	}
	var n int64
	b.write(t, func(tx storage.Tx) (err error) {
		n, err = tx.CodeImportInsertMany(b.ctx, imp.ID, b.at(2*time.Minute), codes(values[:3]...))
		return err
	})
	if n != 3 {
		t.Fatalf("CodeImportInsertMany inserted %d of 3", n)
	}
	wantEqual(t, "codes visible while the import is written", []string(nil), importedCodes(t, b, "par_1", values))
	// A count of the code space counts them: they hold their values.
	b.read(t, func(tx storage.Tx) error {
		n, err := tx.CodeCount(b.ctx, storage.CodeCount{PromotionID: "prm_1", Pending: true})
		if n != 4 {
			t.Errorf("CodeCount with Pending = %d, want OTHER and the 3 codes being imported", n)
		}
		return err
	})
	// Their values are taken meanwhile, and seen as such by the import's
	// check of what an insert skipped.
	err := b.writeErr(func(tx storage.Tx) error { return tx.CodeCreate(b.ctx, newCode(p, "IMP-2", b.now)) })
	wantErr(t, "CreateCode of a value being imported", err, storage.ErrTaken)
	b.write(t, func(tx storage.Tx) (err error) {
		n, err = tx.CodeImportInsertMany(b.ctx, imp.ID, b.at(2*time.Minute), codes("IMP-3", "OTHER", "IMP-4", "IMP-5"))
		return err
	})
	if n != 2 {
		t.Fatalf("CodeImportInsertMany inserted %d of 2 new values", n)
	}
	var taken []string
	b.read(t, func(tx storage.Tx) (err error) {
		taken, err = tx.CodeImportTakenMany(b.ctx, imp.ID, []string{"IMP-4", "OTHER", "NONE", "IMP-1"})
		return err
	})
	wantEqual(t, "CodeImportTakenMany of the import", []string{"OTHER"}, taken)
	b.read(t, func(tx storage.Tx) (err error) {
		taken, err = tx.CodeImportTakenMany(b.ctx, imp.ID+1, []string{"IMP-4", "OTHER", "NONE"})
		return err
	})
	wantEqual(t, "CodeImportTakenMany of another import", []string{"IMP-4", "OTHER"}, taken)
	// An update cannot reach a code being imported either.
	err = b.writeErr(func(tx storage.Tx) error { return tx.CodeUpdate(b.ctx, codes("IMP-1")[0]) })
	wantErr(t, "UpdateCode of a code being imported", err, storage.ErrNotFound)
	// Its lease is not over: no cleaner takes it.
	var stale []*storage.CodeImport
	b.read(t, func(tx storage.Tx) (err error) {
		stale, err = tx.CodeImportListStale(b.ctx, b.at(time.Minute), 10)
		return err
	})
	wantEqual(t, "stale imports before the lease ends", 0, len(stale))

	b.write(t, func(tx storage.Tx) error { return tx.CodeImportCommit(b.ctx, imp.ID) })
	wantEqual(t, "codes visible once the import commits", values, importedCodes(t, b, "par_1", values))
	err = b.writeErr(func(tx storage.Tx) error { return tx.CodeImportCommit(b.ctx, imp.ID) })
	wantErr(t, "CodeImportCommit twice", err, storage.ErrStale)
	c := mustGetCode(t, b, promokit.Scope{}, "IMP-1")
	want := codes("IMP-1")[0]
	wantEqual(t, "an imported code", want, c)

	// An import whose process died: its lease runs out, a cleaner fails
	// it and purges its codes, a few at a time, which frees their values.
	partner = "par_2"
	dead := &storage.CodeImport{PromotionID: "prm_1", StoreID: "sto_1", LeaseUntil: b.at(time.Minute), CreatedAt: b.now}
	b.write(t, func(tx storage.Tx) error { return tx.CodeImportCreate(b.ctx, dead) })
	if dead.ID <= imp.ID {
		t.Fatalf("import ids %d then %d: an id must never come back", imp.ID, dead.ID)
	}
	lost := []string{"LOST-1", "LOST-2", "LOST-3", "LOST-4", "LOST-5"}
	b.write(t, func(tx storage.Tx) error {
		_, err := tx.CodeImportInsertMany(b.ctx, dead.ID, b.at(time.Minute), codes(lost...))
		return err
	})
	// A code created after the import started, of its promotion, is not
	// the cleaner's.
	mustCreateCodes(t, b, newCode(p, "AFTER", b.now))
	b.read(t, func(tx storage.Tx) (err error) {
		stale, err = tx.CodeImportListStale(b.ctx, b.at(time.Minute), 10)
		return err
	})
	if len(stale) != 1 || stale[0].ID != dead.ID || stale[0].Failed || stale[0].PromotionID != "prm_1" || !stale[0].LeaseUntil.Equal(b.at(time.Minute)) {
		t.Fatalf("stale imports %+v, want the dead one", stale)
	}
	var failed bool
	b.write(t, func(tx storage.Tx) (err error) {
		failed, err = tx.CodeImportFail(b.ctx, dead.ID, b.at(time.Minute-time.Microsecond))
		return err
	})
	if failed {
		t.Fatal("CodeImportFail failed an import whose lease was not over")
	}
	// The purge does nothing to an import that has not failed.
	b.write(t, func(tx storage.Tx) (err error) {
		n, err = tx.CodeImportPurge(b.ctx, dead.ID, 2)
		return err
	})
	if n != 0 {
		t.Fatalf("CodeImportPurge deleted %d codes of a live import", n)
	}
	err = b.writeErr(func(tx storage.Tx) error {
		_, err := tx.CodeImportInsertMany(b.ctx, dead.ID, b.at(2*time.Minute), nil)
		return err
	})
	if err != nil {
		t.Fatalf("CodeImportInsertMany extends a live import's lease: %v", err)
	}
	b.write(t, func(tx storage.Tx) (err error) {
		failed, err = tx.CodeImportFail(b.ctx, dead.ID, b.at(2*time.Minute))
		return err
	})
	if !failed {
		t.Fatal("CodeImportFail did not fail an import whose lease ran out")
	}
	err = b.writeErr(func(tx storage.Tx) error {
		_, err := tx.CodeImportInsertMany(b.ctx, dead.ID, b.at(3*time.Minute), codes("LOST-6"))
		return err
	})
	wantErr(t, "CodeImportInsertMany into a failed import", err, storage.ErrStale)
	err = b.writeErr(func(tx storage.Tx) error { return tx.CodeImportCommit(b.ctx, dead.ID) })
	wantErr(t, "CodeImportCommit of a failed import", err, storage.ErrStale)
	for _, want := range []int64{2, 2, 1} {
		b.write(t, func(tx storage.Tx) (err error) {
			n, err = tx.CodeImportPurge(b.ctx, dead.ID, 2)
			return err
		})
		if n != want {
			t.Fatalf("CodeImportPurge deleted %d codes, want %d", n, want)
		}
		wantEqual(t, "codes of a failed import visible", []string(nil), importedCodes(t, b, "par_2", lost))
	}
	b.read(t, func(tx storage.Tx) (err error) {
		stale, err = tx.CodeImportListStale(b.ctx, b.at(time.Hour), 10)
		return err
	})
	wantEqual(t, "stale imports once purged", 0, len(stale))
	mustCreateCodes(t, b, codes(lost...)...)
	wantEqual(t, "a purged import's values, created again", lost, importedCodes(t, b, "par_2", lost))
	for _, v := range append(values, "OTHER", "AFTER") {
		mustGetCode(t, b, promokit.Scope{}, v)
	}
}
