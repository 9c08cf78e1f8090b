package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	promohttp "github.com/promokit/promokit/http"
	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/sqlite"
	"github.com/promokit/promokit/storage"
)

// testDatabases returns the databases the end-to-end tests run on: SQLite
// always, and PostgreSQL when PROMOKIT_TEST_DATABASE_URL is set (the test
// then fails if it does not answer).
func testDatabases() []string {
	if os.Getenv(dbtest.DatabaseURLEnv) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// onEachDatabase runs fn in a parallel subtest for each test database,
// with a new test server on it.
func onEachDatabase(t *testing.T, fn func(t *testing.T, db string, s *testServer)) {
	for _, db := range testDatabases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			fn(t, db, newTestServer(t, db, nil))
		})
	}
}

// testServer is a promokit API served in this process by the real http,
// engine and store packages, with a job worker.
type testServer struct {
	url, adminKey, databaseURL string
	store                      storage.DB
}

// newTestServer opens a new database of kind db, serves the API on it
// through wrap (when not nil) and returns it; everything stops when the
// test ends.
func newTestServer(t *testing.T, db string, wrap func(http.Handler) http.Handler) *testServer {
	t.Helper()
	ctx := context.Background()
	s := &testServer{}
	switch db {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "promokit.db")
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		s.store, s.databaseURL = st, "sqlite:"+path
	default:
		s.databaseURL = dbtest.PostgresURL(t)
		st, err := postgres.Open(ctx, s.databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		s.store = st
	}
	t.Cleanup(func() { s.store.Close() })
	if err := s.store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := engine.New(engine.Config{DB: s.store})
	key, created, err := svc.Bootstrap(ctx)
	if err != nil || !created {
		t.Fatalf("Bootstrap: %v %v", created, err)
	}
	s.adminKey = key
	jobs, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		svc.RunJobs(jobs, 10*time.Millisecond)
		close(done)
	}()
	t.Cleanup(func() { stop(); <-done })
	var h http.Handler = promohttp.NewServer(promohttp.Config{Service: svc})
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

// config returns a short run of scenarios against s, with its
// consistency check.
func (s *testServer) config(out io.Writer, scenarios ...string) Config {
	return Config{
		Scenarios: scenarios, Clients: []int{1, 2}, Duration: 120 * time.Millisecond, Warmup: 30 * time.Millisecond,
		Codes: 40, ManyCodes: 30, BaseURL: s.url, AdminKey: s.adminKey, DatabaseURL: s.databaseURL,
		CheckFunc: s.check, Out: out, CommandLine: "promokit bench test", Clicks: 200,
		SeedClicks: func(ctx context.Context, c ClickSeed) error { return SeedClicksInto(ctx, s.store, c) },
		Entries:    100, ImportRows: 50,
		SeedEntries: func(ctx context.Context, e EntrySeed) (int64, error) { return SeedEntriesInto(ctx, s.store, e) },
	}
}

// check is a consistency check of every counter, as promokit check does it.
func (s *testServer) check(ctx context.Context, w io.Writer) error {
	diffs, err := s.store.UsageCheck(ctx)
	if err != nil {
		return err
	}
	for _, d := range diffs {
		fmt.Fprintln(w, d.String())
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%d counters differ", len(diffs))
	}
	fmt.Fprintln(w, "every usage counter equals its redemptions")
	return nil
}

// promotions returns the id and stored uses of every promotion, read
// through the API.
func (s *testServer) promotions(t *testing.T) map[string]int64 {
	t.Helper()
	out := make(map[string]int64)
	for after := ""; ; {
		var list struct {
			Data []struct {
				ID   string `json:"id"`
				Uses int64  `json:"uses"`
			} `json:"data"`
			Next string `json:"next_cursor"`
		}
		if err := newAPI(s.url, s.adminKey).call(context.Background(), "GET", "/v1/promotions?limit=1000&after="+after, nil, http.StatusOK, &list); err != nil {
			t.Fatal(err)
		}
		for _, p := range list.Data {
			out[p.ID] = p.Uses
		}
		if list.Next == "" {
			return out
		}
		after = list.Next
	}
}

// storedRedeems returns the uses of every promotion added up.
func (s *testServer) storedRedeems(t *testing.T) (uses int64) {
	t.Helper()
	for _, n := range s.promotions(t) {
		uses += n
	}
	return uses
}

// TestRun runs every scenario briefly at 1 and 2 clients against a real
// server: no request fails, every exactness check passes, the redeems the
// run counted are those the database holds, and each scenario is compared
// with its baseline.
func TestRun(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db string, s *testServer) {
		var out bytes.Buffer
		cfg := s.config(&out, Scenarios()...)
		cfg.Markdown = true
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, out.String())
		}
		if len(rep.Results) != 2*len(Scenarios()) {
			t.Fatalf("%d results, want %d scenarios at 2 client counts", len(rep.Results), len(Scenarios()))
		}
		var redeemed int64
		for _, r := range rep.Results {
			// On a loaded machine one request may outlast the whole
			// window: the step then measured nothing, but it sent one.
			if r.Database != db || r.Counts.OK+r.Warmup.OK == 0 || r.Counts.Errors()+r.Warmup.Errors() != 0 || r.Counts.Refused+r.Warmup.Refused != 0 {
				t.Errorf("%s at %d: database %q, %+v, warm-up %+v: want ok requests only", r.Scenario, r.Clients, r.Database, r.Counts, r.Warmup)
			}
			if (r.Counts.OK > 0) != (r.Rate() > 0 && r.Latency.P50 > 0) || r.Latency.Max < r.Latency.P99 {
				t.Errorf("%s at %d: %d ok, rate %v, latency %+v", r.Scenario, r.Clients, r.Counts.OK, r.Rate(), r.Latency)
			}
			if (countsOK(r.Scenario) || r.Scenario == ScenarioClick) != strings.HasPrefix(r.Note, "exact: ") {
				t.Errorf("%s at %d: note %q", r.Scenario, r.Clients, r.Note)
			}
			switch r.Scenario {
			case ScenarioRedeemHot, ScenarioRedeemMany, ScenarioImportRejected, ScenarioImportAccepted:
				redeemed += r.Counts.OK + r.Warmup.OK
			}
			if (r.Scenario == ScenarioConsole || r.Scenario == ScenarioConsoleAPI) && !regexp.MustCompile(`^per page: [a-z ,]+ p99 [0-9.]+[µm]?s \([0-9,]+ reads, largest [0-9,]+ KB\)`).MatchString(r.Note) {
				// A short window reads a few pages of the rotation only.
				t.Errorf("%s at %d: note %q, want the pages' p99", r.Scenario, r.Clients, r.Note)
			}
			if (r.Scenario == ScenarioImportRejected || r.Scenario == ScenarioImportAccepted) && !strings.HasPrefix(r.Note, "the import of 50 rows was answered") {
				t.Errorf("%s at %d: note %q", r.Scenario, r.Clients, r.Note)
			}
		}
		if got := s.storedRedeems(t); got != redeemed {
			t.Errorf("the promotions hold %d uses, the run counted %d successful redeems", got, redeemed)
		}
		if ratios := rep.Ratios(); len(ratios) != 18 {
			t.Errorf("%d ratios, want redeem-hot, redeem-many, validate, click, order-attributed, order-payouts, statement, store-statement and console at 2 client counts: %+v", len(ratios), ratios)
		}
		if rep.CheckErr != nil || !strings.Contains(rep.Check, "equals") {
			t.Errorf("consistency check: %v: %q", rep.CheckErr, rep.Check)
		}
		for _, want := range []string{"redeem-hot  vs baseline", "validate    vs healthz", "| date | nproc |", "Command: `promokit bench test`"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the output has no %q:\n%s", want, out.String())
			}
		}
		if strings.Contains(out.String(), "!!!") {
			t.Errorf("the output reports a failure:\n%s", out.String())
		}
		// The baseline's tables are gone.
		h, err := OpenHotRow(context.Background(), s.databaseURL, 4)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if _, _, err := h.Used(context.Background()); err == nil {
			t.Error("the hot row's tables are still there after the run")
		}
	})
}

// TestRunLimit runs redeem-hot and the baseline against a limit that the
// run reaches: exactly the limit succeeds, the rest is refused, and the
// checks pass.
func TestRunLimit(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db string, s *testServer) {
		var out bytes.Buffer
		cfg := s.config(&out, ScenarioRedeemHot, ScenarioBaseline)
		// Long enough to reach the limit even when each redeem takes
		// 100 ms on a loaded machine.
		cfg.Limit, cfg.Clients, cfg.Warmup, cfg.Duration = 7, []int{2}, 0, time.Second
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, out.String())
		}
		for _, r := range rep.Results {
			if ok := r.Counts.OK + r.Warmup.OK; ok != 7 || r.Counts.Refused == 0 || r.Counts.Errors() != 0 {
				t.Errorf("%s: %d succeeded (want 7), %+v", r.Scenario, ok, r.Counts)
			}
			if !strings.Contains(r.Note, "limit 7 reached") {
				t.Errorf("%s: note %q", r.Scenario, r.Note)
			}
		}
		if s.storedRedeems(t) != 7 {
			t.Errorf("the promotion holds %d uses, want 7", s.storedRedeems(t))
		}
	})
}

// TestRunRounds runs a redeem scenario, validate and their baselines in
// turn, two rounds each: each scenario is reported once, over both of its
// rounds, each round's exactness check passes, and the run counted every
// redeem the database holds.
func TestRunRounds(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db string, s *testServer) {
		var out bytes.Buffer
		cfg := s.config(&out, ScenarioRedeemHot, ScenarioBaseline, ScenarioValidate, ScenarioHealthz)
		cfg.Clients, cfg.Rounds, cfg.Warmup, cfg.Duration = []int{2}, 2, 50*time.Millisecond, 2*MinRound
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, out.String())
		}
		if len(rep.Results) != 4 {
			t.Fatalf("%d results, want one per scenario", len(rep.Results))
		}
		var redeemed int64
		for i, r := range rep.Results {
			if r.Scenario != cfg.Scenarios[i] || len(r.RoundRates) != 2 || r.Failed() {
				t.Errorf("result %d: %s, round rates %v, failed %v", i, r.Scenario, r.RoundRates, r.Failed())
			}
			if r.Elapsed < 2*MinRound || r.Counts.OK == 0 {
				t.Errorf("%s: %v measured, %d ok: want both rounds' windows", r.Scenario, r.Elapsed, r.Counts.OK)
			}
			if countsOK(r.Scenario) && strings.Count(r.Note, "exact: ") != 2 {
				t.Errorf("%s: note %q: want each round's check", r.Scenario, r.Note)
			}
			if r.Scenario == ScenarioRedeemHot {
				redeemed = r.Counts.OK + r.Warmup.OK
			}
		}
		if got := s.storedRedeems(t); got != redeemed {
			t.Errorf("the promotions hold %d uses, the run counted %d successful redeems", got, redeemed)
		}
		if len(rep.Ratios()) != 2 || !strings.Contains(out.String(), "    2 rounds: ") {
			t.Errorf("ratios %+v; output:\n%s", rep.Ratios(), out.String())
		}
	})
}

// TestRunIdempotencyKey runs the redeem scenarios with IdempotencyKey:
// every redeem carries its order id as Idempotency-Key, each runs once,
// and the output says so.
func TestRunIdempotencyKey(t *testing.T) {
	t.Parallel()
	for _, db := range testDatabases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			var with, without atomic.Int64
			s := newTestServer(t, db, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/v1/redeem" {
						var in struct {
							OrderID string `json:"order_id"`
						}
						body, _ := io.ReadAll(r.Body)
						r.Body = io.NopCloser(bytes.NewReader(body))
						if json.Unmarshal(body, &in) == nil && in.OrderID != "" && r.Header.Get("Idempotency-Key") == in.OrderID {
							with.Add(1)
						} else {
							without.Add(1)
						}
					}
					h.ServeHTTP(w, r)
				})
			})
			var out bytes.Buffer
			cfg := s.config(&out, ScenarioRedeemHot, ScenarioRedeemMany)
			cfg.IdempotencyKey = true
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, out.String())
			}
			var redeemed int64
			for _, r := range rep.Results {
				if r.Counts.Errors()+r.Warmup.Errors() != 0 {
					t.Errorf("%s at %d: %+v, warm-up %+v", r.Scenario, r.Clients, r.Counts, r.Warmup)
				}
				redeemed += r.Counts.OK + r.Warmup.OK
			}
			if with.Load() == 0 || without.Load() != 0 {
				t.Errorf("%d redeems carried their order id as Idempotency-Key, %d did not", with.Load(), without.Load())
			}
			if got := s.storedRedeems(t); got != redeemed {
				t.Errorf("the promotions hold %d uses, the run counted %d successful redeems", got, redeemed)
			}
			if !strings.Contains(out.String(), "Each redeem is sent with an Idempotency-Key") {
				t.Errorf("the output does not say the redeems carried an Idempotency-Key:\n%s", out.String())
			}
		})
	}
}

// TestRunDetectsLostAnswer makes the server store a redeem and answer 503
// to it, as a proxy that drops the answer would: the run reports the 5xx
// and the mismatch between the stored uses and the successful redeems,
// and fails.
func TestRunDetectsLostAnswer(t *testing.T) {
	t.Parallel()
	var lost atomic.Bool
	s := newTestServer(t, "sqlite", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/redeem" || lost.Load() {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code == http.StatusCreated && lost.CompareAndSwap(false, true) {
				http.Error(w, "upstream went away", http.StatusServiceUnavailable)
				return
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
		})
	})
	var out bytes.Buffer
	cfg := s.config(&out, ScenarioRedeemHot)
	cfg.Clients = []int{1}
	rep, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Run = %v, want ErrFailed\n%s", err, out.String())
	}
	r := rep.Results[0]
	if r.Counts.ServerErrors+r.Warmup.ServerErrors != 1 || len(r.Problems) != 1 {
		t.Fatalf("%+v, warm-up %+v, problems %q: want one 5xx and one mismatch", r.Counts, r.Warmup, r.Problems)
	}
	want := fmt.Sprintf("stored %s uses, but %s redeems succeeded", group(r.Counts.OK+r.Warmup.OK+1), group(r.Counts.OK+r.Warmup.OK))
	if !strings.Contains(r.Problems[0], want) {
		t.Errorf("problem %q, want %q", r.Problems[0], want)
	}
	for _, line := range []string{"!!! redeem-hot, 1 client: 1 requests ended with a 5xx", "upstream went away", "MISMATCH"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("the output has no %q:\n%s", line, out.String())
		}
	}
}

// TestRunReportsCheck fails a run whose consistency check finds a counter
// that differs from its rows: here a use added to a promotion without a
// redemption behind it, after the steps.
func TestRunReportsCheck(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "sqlite", nil)
	var out bytes.Buffer
	cfg := s.config(&out, ScenarioRedeemMany)
	cfg.Clients = []int{1}
	cfg.CheckFunc = func(ctx context.Context, w io.Writer) error {
		var id string
		for p := range s.promotions(t) {
			id = p
		}
		err := s.store.Write(ctx, func(tx storage.Tx) error {
			_, err := tx.UsagePromotionAdd(ctx, id, 1, 0)
			return err
		})
		if err != nil {
			return err
		}
		return s.check(ctx, w)
	}
	rep, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrFailed) || rep.CheckErr == nil {
		t.Fatalf("Run = %v, check %v: want ErrFailed from the check\n%s", err, rep.CheckErr, out.String())
	}
	if !strings.Contains(out.String(), "!!! MISMATCH: the consistency check failed") || !strings.Contains(out.String(), "from the redemptions") {
		t.Errorf("the output does not report the check:\n%s", out.String())
	}
}

// TestStoredUsesCheck covers each mismatch the exactness check looks for.
func TestStoredUsesCheck(t *testing.T) {
	t.Parallel()
	m := measurement{Counts: Counts{OK: 90, Refused: 5}, Warmup: Counts{OK: 10}}
	tests := []struct {
		name    string
		s       storedUses
		m       measurement
		problem string
	}{
		{"exact at the limit", storedUses{"p", 100, 100, 100}, m, ""},
		{"exact without refusals", storedUses{"p", 100, -1, HighLimit}, measurement{Counts: Counts{OK: 100}}, ""},
		{"fewer uses than redeems", storedUses{"p", 99, -1, 100}, m, "p: stored 99 uses, but 100 redeems succeeded"},
		{"more uses than redeems", storedUses{"p", 101, -1, 200}, measurement{Counts: Counts{OK: 100, TransportErrors: 1}}, "1 requests got no answer"},
		{"rows differ", storedUses{"p", 100, 98, 100}, m, "stored 100 uses but 98 rows"},
		{"over the limit", storedUses{"p", 100, -1, 90}, measurement{Counts: Counts{OK: 100}}, "over its limit of 90"},
		{"refused below the limit", storedUses{"p", 100, -1, 1000}, m, "5 redeems were refused, but 100 succeeded where the limit is 1,000"},
		{"refused without a limit", storedUses{"p", 100, -1, HighLimit + 1}, m, "where the limit is none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			note, problems := tt.s.check(tt.m)
			if tt.problem == "" {
				if len(problems) != 0 || !strings.HasPrefix(note, "exact: ") {
					t.Errorf("check = %q, %q; want it to pass", note, problems)
				}
				return
			}
			if note != "" || !strings.Contains(strings.Join(problems, "\n"), tt.problem) {
				t.Errorf("check = %q, %q; want a problem with %q", note, problems, tt.problem)
			}
		})
	}
}

// TestValidateBodies checks that the bodies built from encoded parts are
// the validate calls they stand for.
func TestValidateBodies(t *testing.T) {
	cart := validateCart("sto_1", "EUR")
	codes := []string{"SAVE-1", `Q"UOTE\`, "été"}
	v, err := newValidateBodies(cart, 3, codes)
	if err != nil {
		t.Fatal(err)
	}
	for client := range 3 {
		for i := range codes {
			j := (i + client) % len(codes)
			var got engine.ValidateInput
			if err := json.Unmarshal(v.body(client, i, j), &got); err != nil {
				t.Fatalf("client %d, codes %d and %d: %v", client, i, j, err)
			}
			want := engine.ValidateInput{Cart: cart, Customer: promokit.Identity{Email: fmt.Sprintf("buyer-%d@bench.example", client)},
				Codes: []string{codes[i], codes[j]}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("client %d, codes %d and %d (-want +got):\n%s", client, i, j, diff)
			}
		}
	}
}
