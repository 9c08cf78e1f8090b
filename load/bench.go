package load

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

// ErrFailed is returned by Run when a step had a failing request or an
// exactness problem, or the consistency check failed; the report says
// which.
var ErrFailed = errors.New("the run failed: see the lines marked !!!")

// bench is one run in progress.
type bench struct {
	cfg  Config
	api  *api
	log  io.Writer
	run  string // random, upper-case hex: names this run's codes and orders
	seed uint64

	currency    string
	storeID     string
	keyID       string
	checkoutKey string

	steps          int // steps prepared so far
	validate       *validateFixture
	click          *clickFixture
	orders         *orderFixture
	payouts        *payoutFixture
	statement      *statementFixture
	storeStatement *statementFixture
	imports        *importFixture
	console        *consoleFixture
	hot            *HotRow
}

// limit returns the total-use limit of redeem-hot and the baseline.
func (b *bench) limit() int64 {
	if b.cfg.Limit > 0 {
		return b.cfg.Limit
	}
	return HighLimit
}

// Run seeds the fixtures through the server's API, runs every scenario at
// every client count and writes the tables to cfg.Out as it goes. It
// returns the report, with ErrFailed when a step or the consistency check
// failed, or another error when the run could not go on (the report then
// holds the steps done).
//
// The fixtures are a store, a checkout key of it (revoked at the end),
// and per redeem step a new promotion with its codes. They stay on the
// server: run against a server and database kept for measurements.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	b, rep, err := newBench(cfg)
	if err != nil {
		return nil, err
	}
	defer b.close(ctx)
	if err := b.seed0(ctx); err != nil {
		return rep, err
	}
	writeHeader(cfg.Out, rep)
	if cfg.Rounds > 1 {
		for _, n := range cfg.Clients {
			if err := b.runRounds(ctx, rep, n); err != nil {
				return rep, err
			}
		}
	} else {
		for _, sc := range cfg.Scenarios {
			for _, n := range cfg.Clients {
				r, err := b.runStep(ctx, sc, n, cfg.Duration)
				if r != nil {
					r.latencies = nil // summarised already
					rep.Results = append(rep.Results, r)
					writeRow(cfg.Out, r)
				}
				if err != nil {
					return rep, fmt.Errorf("%s, %s: %w", sc, clientsText(n), err)
				}
			}
		}
	}
	writeRatios(cfg.Out, rep)
	switch {
	case !redeemedIn(cfg.Scenarios):
	case cfg.CheckFunc == nil:
		fmt.Fprintf(cfg.Out, "\nConsistency check: not run; give the server's database (--database) to run it.\n")
	default:
		b.check(ctx, rep, "")
	}
	if cfg.Markdown {
		writeMarkdown(cfg.Out, rep, cfg.CommandLine)
	}
	if rep.Failed() {
		return rep, ErrFailed
	}
	return rep, nil
}

// newBench returns a run against the server cfg reaches, with a random
// id that names its fixtures, and its empty report.
func newBench(cfg Config) (*bench, *Report, error) {
	var rb [8]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return nil, nil, fmt.Errorf("draw the run's id: %w", err)
	}
	b := &bench{cfg: cfg, api: newAPI(cfg.BaseURL, cfg.AdminKey), log: cfg.Log,
		run: strings.ToUpper(hex.EncodeToString(rb[:3])), seed: binary.LittleEndian.Uint64(rb[:])}
	rep := &Report{Date: time.Now(), CPUs: runtime.NumCPU(), Database: cfg.Database(), IdempotencyKey: cfg.IdempotencyKey}
	return b, rep, nil
}

// redeemedIn reports whether scenarios redeem, after which the
// consistency check runs.
func redeemedIn(scenarios []string) bool {
	return slices.ContainsFunc(scenarios, func(s string) bool {
		return s == ScenarioRedeemHot || s == ScenarioRedeemMany
	})
}

// check runs the consistency check of the server's database into rep and
// writes it to cfg.Out; of names the server when a comparison ran two.
func (b *bench) check(ctx context.Context, rep *Report, of string) {
	w := b.cfg.Out
	var out bytes.Buffer
	rep.CheckErr = b.cfg.CheckFunc(ctx, &out)
	rep.Check = strings.TrimSpace(out.String())
	if of == "" {
		fmt.Fprintf(w, "\nConsistency check of every usage counter against its redemptions:\n")
	} else {
		fmt.Fprintf(w, "\nConsistency check of %s's counters against its redemptions:\n", of)
	}
	for line := range strings.Lines(rep.Check) {
		fmt.Fprintf(w, "  %s", line)
	}
	if rep.Check != "" {
		fmt.Fprintln(w)
	}
	switch {
	case rep.CheckErr == nil:
	case of == "":
		fmt.Fprintf(w, "!!! MISMATCH: the consistency check failed: %v\n", rep.CheckErr)
	default:
		fmt.Fprintf(w, "!!! MISMATCH: the consistency check of %s failed: %v\n", of, rep.CheckErr)
	}
}

// seed0 reads the currency and creates the run's store and checkout key.
func (b *bench) seed0(ctx context.Context) error {
	var err error
	if b.currency, err = b.api.currency(ctx); err != nil {
		return fmt.Errorf("read the settings: %w", err)
	}
	if b.storeID, err = b.api.createStore(ctx, "promokit bench "+b.run); err != nil {
		return fmt.Errorf("create the store: %w", err)
	}
	if b.keyID, b.checkoutKey, err = b.api.createCheckoutKey(ctx, b.storeID, "promokit bench "+b.run); err != nil {
		return fmt.Errorf("create the checkout key: %w", err)
	}
	return nil
}

// close revokes the checkout key and drops the hot row's tables, even when
// ctx has ended.
func (b *bench) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, id := range []string{b.keyID, b.plainKeyID()} {
		if id == "" {
			continue
		}
		if err := b.api.revokeKey(ctx, id); err != nil {
			fmt.Fprintf(b.log, "could not revoke the checkout key %s: %v\n", id, err)
		}
	}
	b.closeConsole(ctx)
	if b.hot != nil {
		if err := b.hot.Drop(ctx); err != nil {
			fmt.Fprintf(b.log, "%v\n", err)
		}
		b.hot.Close()
	}
}

// runRounds runs the scenarios in turn, cfg.Rounds times, at clients
// clients, each round of a scenario a step of its own measured for
// cfg.Duration/cfg.Rounds, and reports each scenario's rounds together.
func (b *bench) runRounds(ctx context.Context, rep *Report, clients int) error {
	d := b.cfg.Duration / time.Duration(b.cfg.Rounds)
	rounds := make([][]*Result, len(b.cfg.Scenarios))
	report := func() {
		for _, rs := range rounds {
			if len(rs) > 0 {
				r := mergeRounds(rs)
				rep.Results = append(rep.Results, r)
				writeRow(b.cfg.Out, r)
			}
		}
	}
	for round := 1; round <= b.cfg.Rounds; round++ {
		for i, sc := range b.cfg.Scenarios {
			r, err := b.runStep(ctx, sc, clients, d)
			if r != nil {
				rounds[i] = append(rounds[i], r)
			}
			if err != nil {
				report()
				return fmt.Errorf("%s, %s, round %d: %w", sc, clientsText(clients), round, err)
			}
		}
	}
	report()
	return nil
}

// runStep seeds and runs one scenario at one client count, measured for
// duration, then checks what the server stored.
func (b *bench) runStep(ctx context.Context, scenario string, clients int, duration time.Duration) (*Result, error) {
	b.steps++
	var (
		st  *step
		err error
	)
	switch scenario {
	case ScenarioRedeemHot, ScenarioRedeemMany:
		st, err = b.redeemStep(ctx, scenario, clients)
	case ScenarioValidate:
		st, err = b.validateStep(ctx, clients)
	case ScenarioHealthz:
		st = b.healthzStep(clients)
	case ScenarioClick:
		st, err = b.clickStep(ctx, clients)
	case ScenarioOrderAttr, ScenarioOrderPlain:
		st, err = b.orderStep(ctx, scenario, clients)
	case ScenarioOrderPayouts:
		st, err = b.payoutStep(ctx, clients, duration)
	case ScenarioStatement, ScenarioStatementSum, ScenarioStoreStatement, ScenarioStoreStatementSum:
		st, err = b.statementStep(ctx, scenario, clients)
	case ScenarioBaseline:
		st, err = b.baselineStep(ctx)
	case ScenarioImportRejected, ScenarioImportAccepted:
		st, err = b.importStep(ctx, scenario, clients)
	case ScenarioConsole, ScenarioConsoleAPI:
		st, err = b.consoleStep(ctx, scenario, clients)
	default:
		err = fmt.Errorf("unknown scenario %q", scenario)
	}
	if err != nil {
		return nil, err
	}
	defer st.close()
	var m measurement
	if st.window != nil {
		m = driveWhile(ctx, clients, b.cfg.Warmup, st.do, st.window)
	} else {
		m = drive(ctx, clients, b.cfg.Warmup, duration, st.do)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	r := &Result{Scenario: scenario, Database: b.cfg.Database(), Clients: clients,
		Counts: m.Counts, Warmup: m.Warmup, Elapsed: m.Elapsed, Latency: summarize(m.latencies), Failures: m.Failures,
		latencies: m.latencies}
	if st.check != nil {
		note, problems, err := st.check(ctx, m)
		if err != nil {
			return r, fmt.Errorf("check what the server stored: %w", err)
		}
		r.Note, r.Problems = note, problems
	}
	return r, nil
}

// plainKeyID is the second checkout key of the order scenarios, if any.
func (b *bench) plainKeyID() string {
	if b.orders == nil {
		return ""
	}
	return b.orders.plainKeyID
}

// openHotRow opens the baseline's connection to the server's database on
// first use.
func (b *bench) openHotRow(ctx context.Context) error {
	if b.hot != nil {
		return nil
	}
	h, err := OpenHotRow(ctx, b.cfg.DatabaseURL, slices.Max(b.cfg.Clients))
	if err != nil {
		return err
	}
	b.hot = h
	return nil
}
