package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// importChunk is the chunk of the import tests: a few thousand codes span
// dozens of transactions.
const importChunk = 100

// hookSource is an engine.CodeSource over values, one per row after a
// header ("!" is a bad row), that calls onNext before it reads a row for
// the import's check and onReread before it reads one again to write it.
// Every code is assigned to partner and restricted to customer.
type hookSource struct {
	values            []string
	partner, customer string
	i                 int
	onNext, onReread  func(row int) error
}

func (s *hookSource) code(row int) *promokit.Code {
	return &promokit.Code{Code: promokit.NormalizeCode(s.values[row-2]), Active: true, PartnerID: s.partner, CustomerID: s.customer}
}

func (s *hookSource) Next() (int, *promokit.Code, error) {
	if s.i >= len(s.values) {
		return 0, nil, io.EOF
	}
	s.i++
	row := s.i + 1
	if s.onNext != nil {
		if err := s.onNext(row); err != nil {
			return row, nil, err
		}
	}
	if s.values[row-2] == "!" {
		return row, nil, rowErr{row}
	}
	return row, s.code(row), nil
}

func (s *hookSource) Reread(row int) (*promokit.Code, error) {
	if s.onReread != nil {
		if err := s.onReread(row); err != nil {
			return nil, err
		}
	}
	return s.code(row), nil
}

// importValues returns n values with prefix, in an order that is not
// theirs: the import sorts them.
func importValues(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", prefix, (i*7919)%n)
	}
	return out
}

// liveInput is a promotion of the mug, live from jan1 for a month.
func liveInput() engine.PromotionInput {
	in := percentInput()
	in.StartsAt = ptr(jan1)
	return in
}

// importBundle is what the import tests share: a store with a live
// promotion that has one code, another store with a promotion, and a
// service whose imports write importChunk codes a transaction.
type importBundle struct {
	*bundle
	promo, foreignPromo *promokit.Promotion
}

func setupImport(t *testing.T, open func(*testing.T) storage.DB) *importBundle {
	t.Helper()
	b := &importBundle{bundle: setupWith(t, open, engine.Config{ImportChunk: importChunk})}
	b.promo = mustCreatePromotion(t, b.seller, b.bundle, liveInput())
	b.foreignPromo = mustCreatePromotion(t, b.foreign, b.bundle, liveInput())
	if _, err := b.svc.CreateCode(b.seller, b.promo.ID, engine.CodeInput{Code: "BEFORE"}); err != nil {
		t.Fatal(err)
	}
	return b
}

// visible returns how many of values the readers see, and fails the test
// unless every read agrees: the checkout's look-up, the seller's list and
// export of the promotion, the partner's list, and the price of a cart.
func (b *importBundle) visible(t *testing.T, values []string) int {
	t.Helper()
	want := map[string]bool{}
	for _, v := range values {
		want[v] = true
	}
	var counts []int
	n := 0
	for _, v := range []string{values[0], values[len(values)/2], values[len(values)-1]} {
		_, err := b.svc.GetCode(b.check, v)
		switch {
		case err == nil:
			n++
		case promokit.ErrorCode(err) != promokit.ENotFound:
			t.Fatalf("GetCode(%s): %v", v, err)
		}
	}
	counts = append(counts, n*len(values)/3)
	n = 0
	for f := (storage.CodeFilter{PromotionID: b.promo.ID, Page: storage.Page{Limit: 1000}}); ; {
		list, err := b.svc.ListCodes(b.seller, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list {
			if want[c.Code] {
				n++
			}
		}
		if len(list) < f.Limit {
			break
		}
		f.After = list[len(list)-1].Code
	}
	counts = append(counts, n)
	n = 0
	err := b.svc.ExportCodes(b.seller, storage.CodeFilter{PromotionID: b.promo.ID}, func(c *promokit.Code, _ *promokit.Promotion) error {
		if want[c.Code] {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	counts = append(counts, n)
	n = 0
	err = b.svc.ExportCodes(b.partner, storage.CodeFilter{PartnerID: b.partnr.ID}, func(c *promokit.Code, _ *promokit.Promotion) error {
		if want[c.Code] {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	counts = append(counts, n)
	pc, err := b.svc.Validate(b.check, engine.ValidateInput{
		Cart:     promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{{ProductID: "mug", Quantity: 1, UnitPrice: 5000}}},
		Customer: promokit.Identity{CustomerID: "cus_1"},
		Codes:    []string{values[len(values)-1]},
	})
	if err != nil {
		t.Fatal(err)
	}
	counts = append(counts, len(pc.Applied)*len(values))
	for i, c := range counts {
		if c != counts[0] {
			t.Fatalf("reads disagree on how many of the import's %d codes they see: %v (look-ups, list, export, partner's export, validate); %d", len(values), counts, i)
		}
	}
	return counts[0]
}

// writeDuring checks that other writes complete while an import is under
// way: a code of the import's store and one of another store. A write
// that waited for the import would not end before the deadline, so the
// test fails instead of hanging.
func (b *importBundle) writeDuring(t *testing.T, value string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seller := promokit.NewContext(ctx, promokit.Principal{KeyID: "key_seller", Role: promokit.RoleSeller, StoreID: b.shop.ID})
	if _, err := b.svc.CreateCode(seller, b.promo.ID, engine.CodeInput{Code: value + "-SAME"}); err != nil {
		return fmt.Errorf("a code of the same store during the import: %w", err)
	}
	foreign := promokit.NewContext(ctx, promokit.Principal{KeyID: "key_foreign", Role: promokit.RoleSeller, StoreID: b.other.ID})
	if _, err := b.svc.CreateCode(foreign, b.foreignPromo.ID, engine.CodeInput{Code: value + "-OTHER"}); err != nil {
		return fmt.Errorf("a code of another store during the import: %w", err)
	}
	return nil
}

// TestImportRejectedOnLastRow imports a file refused on its last row:
// nothing is written, and other writers are not held up while the file is
// read, on both databases.
func TestImportRejectedOnLastRow(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupImport(t, open)
		values := append(importValues("LAST", 3000), "!")
		src := &hookSource{values: values, partner: b.partnr.ID}
		src.onNext = func(row int) error {
			if row == len(values) { // the last row, read once the others are
				return b.writeDuring(t, "DURING")
			}
			return nil
		}
		_, err := b.svc.ImportCodes(b.seller, b.promo.ID, src)
		e := wantCode(t, err, promokit.EInvalid)
		if len(e.Fields) != 1 || e.Fields[0].Field != fmt.Sprintf("row %d", len(values)+1) {
			t.Fatalf("row errors %+v, want the last row only", e.Fields)
		}
		if n := b.visible(t, values[:len(values)-1]); n != 0 {
			t.Errorf("a refused import wrote %d codes", n)
		}
		if n := countCodes(t, b.bundle, b.promo.ID); n != 2 {
			t.Errorf("the promotion has %d codes, want BEFORE and DURING-SAME", n)
		}
	})
}

// TestImportInChunks imports codes in dozens of transactions: while it is
// written, no read sees any of its codes and other writes go through;
// once it returns, every read sees them all.
func TestImportInChunks(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupImport(t, open)
		values := importValues("CHUNK", 2500)
		src := &hookSource{values: values, partner: b.partnr.ID, customer: "cus_1"}
		var checks atomic.Int32
		during := func(row int) error {
			if row != 1002 { // midway through the check, then the writes
				return nil
			}
			checks.Add(1)
			if n := b.visible(t, values); n != 0 {
				return fmt.Errorf("a read sees %d codes of an import under way", n)
			}
			return b.writeDuring(t, fmt.Sprintf("DURING-%d", checks.Load()))
		}
		src.onNext, src.onReread = during, during
		n, err := b.svc.ImportCodes(b.seller, b.promo.ID, src)
		if err != nil || n != int64(len(values)) {
			t.Fatalf("ImportCodes: %d %v", n, err)
		}
		if checks.Load() != 2 {
			t.Fatalf("checked %d times during the import, want during the check and during the writes", checks.Load())
		}
		if n := b.visible(t, values); n != len(values) {
			t.Fatalf("%d of %d codes visible after the import", n, len(values))
		}
		if n := countCodes(t, b.bundle, b.promo.ID); n != len(values)+3 {
			t.Errorf("the promotion has %d codes, want %d", n, len(values)+3)
		}
		c, err := b.svc.GetCode(b.partner, values[7])
		if err != nil || c.PartnerID != b.partnr.ID || c.CustomerID != "cus_1" || c.PromotionID != b.promo.ID || c.StoreID != b.shop.ID {
			t.Errorf("imported code %+v %v", c, err)
		}
		// The values are taken now, on both paths.
		_, err = b.svc.ImportCodes(b.seller, b.promo.ID, &hookSource{values: values[:3]})
		if e := wantCode(t, err, promokit.EInvalid); len(e.Fields) != 3 || e.Fields[0].Code != promokit.ECodeTaken {
			t.Errorf("import again: %+v", e.Fields)
		}
	})
}

// TestImportTakenMeanwhile creates, while an import is written, a code
// whose value a later chunk of the import holds: the import fails on that
// row, nothing of it is visible, and its values are free again.
func TestImportTakenMeanwhile(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupImport(t, open)
		values := importValues("RACE", 2000)
		const taken = "RACE-01500" // in the 16th chunk, in the order of values
		src := &hookSource{values: values}
		var created, pending error
		src.onReread = func(row int) error {
			if created == nil && pending == nil && values[row-2] == "RACE-00500" {
				// Chunks 1 to 5 are written: their values are taken, and
				// so is a value no chunk has reached yet.
				_, pending = b.svc.CreateCode(b.foreign, b.foreignPromo.ID, engine.CodeInput{Code: "RACE-00001"})
				_, created = b.svc.CreateCode(b.foreign, b.foreignPromo.ID, engine.CodeInput{Code: taken})
				if created == nil {
					created = errors.New("created")
				}
			}
			return nil
		}
		_, err := b.svc.ImportCodes(b.seller, b.promo.ID, src)
		if promokit.ErrorCode(pending) != promokit.ECodeTaken {
			t.Errorf("a value of an import under way: %v, want code_taken", pending)
		}
		e := wantCode(t, err, promokit.EInvalid)
		row := 0
		for i, v := range values {
			if v == taken {
				row = i + 2
			}
		}
		if len(e.Fields) != 1 || e.Fields[0].Field != fmt.Sprintf("row %d", row) || e.Fields[0].Code != promokit.ECodeTaken {
			t.Fatalf("row errors %+v, want row %d code_taken", e.Fields, row)
		}
		if n := b.visible(t, values); n != 0 {
			t.Fatalf("%d codes of a failed import visible", n)
		}
		// The failed import deleted its codes: their values are free.
		if _, err := b.svc.CreateCode(b.seller, b.promo.ID, engine.CodeInput{Code: "RACE-00001"}); err != nil {
			t.Errorf("a value of a failed import: %v", err)
		}
		if c, err := b.svc.GetCode(b.admin, taken); err != nil || c.StoreID != b.other.ID {
			t.Errorf("the code created meanwhile: %+v %v", c, err)
		}
	})
}

// failingStore fails every write once fail is set, as a database that
// went away (or a process that died) would leave an import half-written.
type failingStore struct {
	storage.DB
	fail atomic.Bool
}

var errGone = errors.New("the database went away")

func (s *failingStore) Write(ctx context.Context, fn func(storage.Tx) error) error {
	if s.fail.Load() {
		return errGone
	}
	return s.DB.Write(ctx, fn)
}

// TestImportAbandoned leaves an import half-written, as a process that
// died would, then cleans it up: its codes are never visible, hold their
// values until its lease runs out, and are deleted by CleanCodeImports,
// chunk by chunk; the import can then run again.
func TestImportAbandoned(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		fs := &failingStore{DB: open(t)}
		b := &importBundle{bundle: setupWith(t, func(*testing.T) storage.DB { return fs }, engine.Config{ImportChunk: importChunk})}
		b.promo = mustCreatePromotion(t, b.seller, b.bundle, liveInput())
		values := importValues("DEAD", 1000)
		src := &hookSource{values: values, partner: b.partnr.ID}
		src.onReread = func(row int) error {
			if values[row-2] == "DEAD-00450" {
				fs.fail.Store(true) // chunks 1 to 4 are written
			}
			return nil
		}
		_, err := b.svc.ImportCodes(b.seller, b.promo.ID, src)
		if !errors.Is(err, errGone) {
			t.Fatalf("ImportCodes: %v, want the database's error", err)
		}
		fs.fail.Store(false)
		if n := b.visible(t, values); n != 0 {
			t.Fatalf("%d codes of a dead import visible", n)
		}
		_, err = b.svc.CreateCode(b.seller, b.promo.ID, engine.CodeInput{Code: "DEAD-00001"})
		wantCode(t, err, promokit.ECodeTaken)
		// Its lease has not run out: it may be alive in another process.
		if n, err := b.svc.CleanCodeImports(context.Background()); n != 0 || err != nil {
			t.Fatalf("CleanCodeImports before the lease ends: %d %v", n, err)
		}
		b.clock.Set(jan1.Add(3 * time.Minute))
		if n, err := b.svc.CleanCodeImports(context.Background()); n != 400 || err != nil {
			t.Fatalf("CleanCodeImports: %d %v, want the 400 codes of 4 chunks", n, err)
		}
		if n, err := b.svc.CleanCodeImports(context.Background()); n != 0 || err != nil {
			t.Fatalf("CleanCodeImports again: %d %v", n, err)
		}
		src = &hookSource{values: values, partner: b.partnr.ID}
		if n, err := b.svc.ImportCodes(b.seller, b.promo.ID, src); n != int64(len(values)) || err != nil {
			t.Fatalf("the import again: %d %v", n, err)
		}
		if n := b.visible(t, values); n != len(values) {
			t.Fatalf("%d of %d codes visible", n, len(values))
		}
	})
}

// TestImportAborted fails the read of a file halfway through its writes:
// the import deletes what it wrote before it returns.
func TestImportAborted(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupImport(t, open)
		values := importValues("ABORT", 1000)
		broken := errors.New("disk error")
		src := &hookSource{values: values, onReread: func(row int) error {
			if values[row-2] == "ABORT-00750" {
				return broken
			}
			return nil
		}}
		_, err := b.svc.ImportCodes(b.seller, b.promo.ID, src)
		if !errors.Is(err, broken) {
			t.Fatalf("ImportCodes: %v", err)
		}
		if n := b.visible(t, values); n != 0 {
			t.Fatalf("%d codes of an aborted import visible", n)
		}
		if _, err := b.svc.CreateCode(b.seller, b.promo.ID, engine.CodeInput{Code: "ABORT-00001"}); err != nil {
			t.Errorf("a value of an aborted import: %v", err)
		}
		if n, err := b.svc.CleanCodeImports(context.Background()); n != 0 || err != nil {
			t.Errorf("CleanCodeImports after the import cleaned up: %d %v", n, err)
		}
	})
}

// TestImportP4 imports into a P4 store more codes than a chunk holds: they
// are written and counted against the quota in one transaction.
func TestImportP4(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupWith(t, open, engine.Config{ImportChunk: 2})
		p4 := mustCreateStore(t, b, "Module", true)
		ctx := as(promokit.Principal{KeyID: "key_p4", Role: promokit.RoleSeller, StoreID: p4.ID})
		p := mustCreatePromotion(t, ctx, b, p4Input())
		values := importValues("P4", 15)
		n, err := b.svc.ImportCodes(ctx, p.ID, &hookSource{values: values, partner: b.partnr.ID})
		if err != nil || n != 15 {
			t.Fatalf("ImportCodes: %d %v", n, err)
		}
		if c, err := b.svc.GetCode(b.partner, values[3]); err != nil || c.PartnerID != b.partnr.ID {
			t.Errorf("imported code: %+v %v", c, err)
		}
		_, err = b.svc.ImportCodes(ctx, p.ID, &hookSource{values: importValues("MORE", 6)})
		if e := wantCode(t, err, promokit.EPolicy); e.Rule != "P4" || *e.Limit != 20 || *e.Current != 15 {
			t.Errorf("over the quota: %+v", e)
		}
		if n := countCodes(t, b, p.ID); n != 15 {
			t.Errorf("%d codes, want 15", n)
		}
	})
}

// TestImportP4QuotaRefusal: an import refused by the P4 quota reports the
// codes that exist (current) and says so in its message, whether the
// quota stops it when its rows are checked or, because codes were created
// meanwhile, when it is written.
func TestImportP4QuotaRefusal(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		for _, tt := range []struct {
			name      string
			existing  int // codes before the import
			meanwhile int // codes created between the check and the write
		}{
			{"at the check", 15, 0},
			{"at the write", 10, 5},
		} {
			b := setup(t, open)
			p4 := mustCreateStore(t, b, "Module", true)
			ctx := as(promokit.Principal{KeyID: "key_p4", Role: promokit.RoleSeller, StoreID: p4.ID})
			p := mustCreatePromotion(t, ctx, b, p4Input())
			create := func(prefix string, n int) {
				for i := range n {
					if _, err := b.svc.CreateCode(ctx, p.ID, engine.CodeInput{Code: fmt.Sprintf("%s-%02d", prefix, i)}); err != nil {
						t.Fatal(err)
					}
				}
			}
			create("BEFORE", tt.existing)
			src := &hookSource{values: importValues("MORE", 6)}
			src.onReread = func(row int) error {
				create("MEANWHILE", tt.meanwhile)
				tt.meanwhile = 0
				return nil
			}
			_, err := b.svc.ImportCodes(ctx, p.ID, src)
			e := wantCode(t, err, promokit.EPolicy)
			if e.Rule != "P4" || *e.Limit != 20 || *e.Current != 15 || !strings.Contains(e.Message, "15 were created in the last 30 days") {
				t.Errorf("%s: rule %s limit %d current %d %q, want P4 20 15", tt.name, e.Rule, *e.Limit, *e.Current, e.Message)
			}
			if n := countCodes(t, b, p.ID); n != 15 {
				t.Errorf("%s: %d codes, want 15", tt.name, n)
			}
		}
	})
}

// checkpointStore counts its checkpoints, and fails the test if one runs
// inside a write.
type checkpointStore struct {
	storage.DB
	t           *testing.T
	writing     atomic.Bool
	checkpoints atomic.Int32
}

func (s *checkpointStore) Write(ctx context.Context, fn func(storage.Tx) error) error {
	return s.DB.Write(ctx, func(tx storage.Tx) error {
		s.writing.Store(true)
		defer s.writing.Store(false)
		return fn(tx)
	})
}

func (s *checkpointStore) Checkpoint(ctx context.Context) error {
	if s.writing.Load() {
		s.t.Error("a checkpoint inside a write")
	}
	s.checkpoints.Add(1)
	if cp, ok := s.DB.(storage.Checkpointer); ok {
		return cp.Checkpoint(ctx)
	}
	return nil
}

// TestImportCheckpoints checkpoints a store whose log fills (SQLite's)
// between the chunks of an import, every fourth chunk, outside any write.
func TestImportCheckpoints(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		cs := &checkpointStore{DB: open(t), t: t}
		b := &importBundle{bundle: setupWith(t, func(*testing.T) storage.DB { return cs }, engine.Config{ImportChunk: importChunk})}
		b.promo = mustCreatePromotion(t, b.seller, b.bundle, liveInput())
		values := importValues("CKPT", 2500) // 25 chunks
		if n, err := b.svc.ImportCodes(b.seller, b.promo.ID, &hookSource{values: values}); n != 2500 || err != nil {
			t.Fatalf("ImportCodes: %d %v", n, err)
		}
		if n := cs.checkpoints.Load(); n != 6 {
			t.Errorf("%d checkpoints during 25 chunks, want 6", n)
		}
	})
}
