package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// marker marks the values a faultStore refuses.
const marker = "POISON"

var (
	// errRefused is the error of a statement a faultStore refuses, as
	// PostgreSQL refuses a text holding a NUL: its DataError reports it.
	errRefused = errors.New("the database refuses a value of this statement")
	// errDown is the error of a database that fails whatever the values.
	errDown = errors.New("the database does not answer")
)

// faultStore is a store whose batch statements fail as a database fails on
// one bad value: every statement of the batched paths that carries a value
// holding marker fails with errRefused, which its DataError reports as a
// refused value. It records the members of each statement it refuses, and
// can hold the first reads or writes at a gate so that the calls behind
// them gather into one batch (gather). With down set to a method
// (setDown), the calls of that method fail with errDown instead, as a
// database that does not answer.
type faultStore struct {
	storage.DB

	mu       sync.Mutex
	down     string
	downFrom int              // the calls of down before this one pass
	refused  map[string][]int // by method, the members of each statement refused
	calls    map[string]int   // by method, the statements made

	holdMu sync.Mutex
	hold   int  // reads or writes still to hold at the gate
	writes bool // whether hold holds writes (or reads)
	gate   chan struct{}
	held   chan struct{} // each held call sends once it waits
}

func newFaultStore(st storage.DB) *faultStore {
	return &faultStore{DB: st, refused: map[string][]int{}, calls: map[string]int{}, held: make(chan struct{})}
}

// faultOpen returns an open function for setupWith that wraps the store
// it opens in fs.
func faultOpen(fs **faultStore, open func(*testing.T) storage.DB) func(*testing.T) storage.DB {
	return func(t *testing.T) storage.DB {
		*fs = newFaultStore(open(t))
		return *fs
	}
}

func (s *faultStore) DataError(err error) bool {
	return errors.Is(err, errRefused) || s.DB.DataError(err)
}

func (s *faultStore) Read(ctx context.Context, fn func(storage.Tx) error) error {
	s.wait(false)
	return s.DB.Read(ctx, func(tx storage.Tx) error { return fn(faultTx{tx, s}) })
}

func (s *faultStore) Write(ctx context.Context, fn func(storage.Tx) error) error {
	s.wait(true)
	return s.DB.Write(ctx, func(tx storage.Tx) error { return fn(faultTx{tx, s}) })
}

// wait holds a read or a write at the gate while the gate holds them.
func (s *faultStore) wait(write bool) {
	s.holdMu.Lock()
	hold := s.hold > 0 && s.writes == write
	if hold {
		s.hold--
	}
	gate := s.gate
	s.holdMu.Unlock()
	if hold {
		s.held <- struct{}{}
		<-gate
	}
}

// check counts a statement of method with n members and returns the error
// it fails with: errDown when method is down, errRefused when one of
// values holds marker, nil otherwise.
func (s *faultStore) check(method string, n int, values ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	if s.down == method && s.calls[method] > s.downFrom {
		return fmt.Errorf("%s: %w", method, errDown)
	}
	for _, v := range values {
		if strings.Contains(v, marker) {
			s.refused[method] = append(s.refused[method], n)
			return fmt.Errorf("%s: %w", method, errRefused)
		}
	}
	return nil
}

// setDown makes every call of method after the next skip fail with
// errDown ("" for none).
func (s *faultStore) setDown(method string, skip int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down, s.downFrom = method, s.calls[method]+skip
}

// refusedSizes returns the members of each statement of method refused.
func (s *faultStore) refusedSizes(method string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.refused[method]...)
}

// callCount returns the statements of method made so far.
func (s *faultStore) callCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// wantShared fails unless the first statement of method that was refused
// held the marked member and at least one neighbour: the members really
// shared a batch.
func (s *faultStore) wantShared(t *testing.T, method string, members int) {
	t.Helper()
	sizes := s.refusedSizes(method)
	if len(sizes) == 0 || sizes[0] < members {
		t.Fatalf("%s: refused statements of %v members, want a first one of at least %d", method, sizes, members)
	}
}

// gather makes calls share one batch of the queue path of svc, in order:
// it holds the first slots reads (or writes, with writes) at fs's gate with
// blocker calls, starts each call once the one before waits in the queue,
// then opens the gate and waits for every call. A queue that writes slots
// batches at once needs slots blockers.
func gather(t *testing.T, fs *faultStore, svc *engine.Service, path string, writes bool, slots int, blocker func(i int), calls ...func()) {
	t.Helper()
	gate := make(chan struct{})
	fs.holdMu.Lock()
	fs.hold, fs.writes, fs.gate = slots, writes, gate
	fs.holdMu.Unlock()
	var wg sync.WaitGroup
	opened := false
	defer func() {
		if !opened {
			close(gate)
		}
		wg.Wait()
	}()
	for i := range slots {
		wg.Go(func() { blocker(i) })
		<-fs.held
	}
	for i, call := range calls {
		wg.Go(call)
		waitFor(t, fmt.Sprintf("call %d to wait in the queue %s", i, path), func() bool { return svc.Pending(path) == i+1 })
	}
	opened = true
	close(gate)
}

// waitFor waits until cond holds, and fails the test if it does not
// within a minute, the bound of a machine that is very busy.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// wantRefusedValue fails unless err is the error of a member whose value
// the database refused alone: EInvalid, never an internal error.
func wantRefusedValue(t *testing.T, what string, err error) {
	t.Helper()
	if code := promokit.ErrorCode(err); code != promokit.EInvalid {
		t.Fatalf("%s: %v (code %q), want %q", what, err, code, promokit.EInvalid)
	}
}

// faultTx checks the batch statements of its store's transaction.
type faultTx struct {
	storage.Tx
	s *faultStore
}

func (tx faultTx) CartReadMany(ctx context.Context, q *storage.CartsQuery) (*storage.CartsData, error) {
	var vs []string
	for _, c := range q.Carts {
		vs = append(append(vs, c.StoreID, c.CustomerKey), c.Codes...)
	}
	for _, names := range q.Failures {
		vs = append(vs, names...)
	}
	if err := tx.s.check("CartReadMany", len(q.Carts), vs...); err != nil {
		return nil, err
	}
	return storage.CartReadMany(ctx, tx.Tx, q)
}

func (tx faultTx) CodeGetMany(ctx context.Context, scope promokit.Scope, values []string) ([]*promokit.Code, error) {
	if err := tx.s.check("CodeGetMany", len(values), values...); err != nil {
		return nil, err
	}
	return tx.Tx.CodeGetMany(ctx, scope, values)
}

func (tx faultTx) CheckoutRead(ctx context.Context, q storage.CheckoutQuery) (*storage.CheckoutData, error) {
	if err := tx.s.check("CheckoutRead", len(q.OrderIDs), append(append([]string{q.StoreID}, q.OrderIDs...), q.Codes...)...); err != nil {
		return nil, err
	}
	return storage.CheckoutRead(ctx, tx.Tx, q)
}

func (tx faultTx) RedemptionListByOrder(ctx context.Context, storeID, orderID string) ([]*promokit.Redemption, error) {
	if err := tx.s.check("RedemptionListByOrder", 1, storeID, orderID); err != nil {
		return nil, err
	}
	return tx.Tx.RedemptionListByOrder(ctx, storeID, orderID)
}

// redemptionValues returns the texts of rs.
func redemptionValues(rs []*promokit.Redemption) []string {
	var vs []string
	for _, r := range rs {
		vs = append(vs, r.StoreID, r.OrderID, r.Code, r.CustomerKey)
	}
	return vs
}

func (tx faultTx) UsageTakeMany(ctx context.Context, u storage.Uses) (bool, error) {
	if err := tx.s.check("UsageTakeMany", len(u.Redemptions), redemptionValues(u.Redemptions)...); err != nil {
		return false, err
	}
	return storage.UsageTakeMany(ctx, tx.Tx, u)
}

func (tx faultTx) RedemptionCreateMany(ctx context.Context, rs []*promokit.Redemption) error {
	if err := tx.s.check("RedemptionCreateMany", len(rs), redemptionValues(rs)...); err != nil {
		return err
	}
	return tx.Tx.RedemptionCreateMany(ctx, rs)
}

func (tx faultTx) LookupFailureGetMany(ctx context.Context, window time.Time, subjects []string) (map[string]int64, error) {
	if err := tx.s.check("LookupFailureGetMany", len(subjects), subjects...); err != nil {
		return nil, err
	}
	return tx.Tx.LookupFailureGetMany(ctx, window, subjects)
}

func (tx faultTx) LookupFailureAddMany(ctx context.Context, window time.Time, subjects []string, counts []int64) error {
	if err := tx.s.check("LookupFailureAddMany", len(subjects), subjects...); err != nil {
		return err
	}
	return tx.Tx.LookupFailureAddMany(ctx, window, subjects, counts)
}

// recordValues returns the key and body of each record of rs.
func recordValues(rs ...*storage.IdempotencyRecord) []string {
	var vs []string
	for _, r := range rs {
		vs = append(vs, r.Key, string(r.Body))
	}
	return vs
}

func (tx faultTx) IdempotencyCreateMany(ctx context.Context, rs []*storage.IdempotencyRecord) ([]bool, error) {
	if err := tx.s.check("IdempotencyCreateMany", len(rs), recordValues(rs...)...); err != nil {
		return nil, err
	}
	return tx.Tx.IdempotencyCreateMany(ctx, rs)
}

func (tx faultTx) IdempotencyCompleteMany(ctx context.Context, rs []*storage.IdempotencyRecord) ([]bool, error) {
	if err := tx.s.check("IdempotencyCompleteMany", len(rs), recordValues(rs...)...); err != nil {
		return nil, err
	}
	return tx.Tx.IdempotencyCompleteMany(ctx, rs)
}

func (tx faultTx) IdempotencyCreate(ctx context.Context, r *storage.IdempotencyRecord) error {
	if err := tx.s.check("IdempotencyCreate", 1, recordValues(r)...); err != nil {
		return err
	}
	return tx.Tx.IdempotencyCreate(ctx, r)
}

func (tx faultTx) IdempotencyGet(ctx context.Context, keyID, key string) (*storage.IdempotencyRecord, error) {
	if err := tx.s.check("IdempotencyGet", 1, key); err != nil {
		return nil, err
	}
	return tx.Tx.IdempotencyGet(ctx, keyID, key)
}

func (tx faultTx) PlaceReadMany(ctx context.Context, qs []storage.PlaceQuery) ([]*storage.PlaceData, error) {
	var vs []string
	for _, q := range qs {
		vs = append(append(vs, q.StoreID, q.VisitorID, q.CustomerID), q.ProductIDs...)
	}
	if err := tx.s.check("PlaceReadMany", len(qs), vs...); err != nil {
		return nil, err
	}
	return storage.PlaceReadMany(ctx, tx.Tx, qs)
}

// orderValues returns the texts of os.
func orderValues(os ...*promokit.Order) []string {
	var vs []string
	for _, o := range os {
		vs = append(append(append(vs, o.StoreID, o.ID, o.CustomerID, o.VisitorID), o.Codes...), o.Payment.FirstPaymentCodes...)
	}
	return vs
}

func (tx faultTx) OrderPlaceMany(ctx context.Context, p storage.PlacedOrders) error {
	if err := tx.s.check("OrderPlaceMany", len(p.Orders), orderValues(p.Orders...)...); err != nil {
		return err
	}
	return storage.OrderPlaceMany(ctx, tx.Tx, p)
}

func (tx faultTx) OrderCreate(ctx context.Context, o *promokit.Order) error {
	if err := tx.s.check("OrderCreate", 1, orderValues(o)...); err != nil {
		return err
	}
	return tx.Tx.OrderCreate(ctx, o)
}

func (tx faultTx) ClickInsertMany(ctx context.Context, clicks []*promokit.Click) error {
	var vs []string
	for _, c := range clicks {
		vs = append(vs, c.VisitorID, c.Referrer, c.UserAgent)
	}
	if err := tx.s.check("ClickInsertMany", len(clicks), vs...); err != nil {
		return err
	}
	return tx.Tx.ClickInsertMany(ctx, clicks)
}

func (tx faultTx) PayoutProofAdd(ctx context.Context, id string, proof *promokit.PayoutProof, data []byte) error {
	if err := tx.s.check("PayoutProofAdd", 1, id); err != nil {
		return err
	}
	return tx.Tx.PayoutProofAdd(ctx, id, proof, data)
}
