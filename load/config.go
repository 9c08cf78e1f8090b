package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scenario names, as given on the command line.
const (
	ScenarioRedeemHot  = "redeem-hot"
	ScenarioRedeemMany = "redeem-many"
	ScenarioValidate   = "validate"
	ScenarioHealthz    = "healthz"
	ScenarioBaseline   = "baseline"
	ScenarioClick      = "click"
	ScenarioOrderAttr  = "order-attributed"
	ScenarioOrderPlain = "order-plain"
	// order-attributed while payouts are recorded without a pause.
	ScenarioOrderPayouts = "order-payouts"
	ScenarioStatement    = "statement"
	ScenarioStatementSum = "statement-sum"
	// A store's statement over entries of every kind of party.
	ScenarioStoreStatement    = "store-statement"
	ScenarioStoreStatementSum = "store-statement-sum"
	// The import scenarios: redeems while a file is imported.
	ScenarioImportRejected = "import-rejected"
	ScenarioImportAccepted = "import-accepted"
	// A seller's console pages, and the same reads through the API.
	ScenarioConsole    = "console"
	ScenarioConsoleAPI = "console-api"
)

// Scenarios returns every scenario name, in the order of the help text.
func Scenarios() []string {
	return []string{ScenarioRedeemHot, ScenarioRedeemMany, ScenarioValidate, ScenarioHealthz, ScenarioBaseline, ScenarioClick, ScenarioOrderAttr, ScenarioOrderPlain, ScenarioOrderPayouts, ScenarioStatement, ScenarioStatementSum, ScenarioStoreStatement, ScenarioStoreStatementSum, ScenarioImportRejected, ScenarioImportAccepted, ScenarioConsole, ScenarioConsoleAPI}
}

// Defaults of a Config, and the fixed sizes of the scenarios.
const (
	DefaultClients   = "1,16,64"
	DefaultDuration  = 10 * time.Second
	DefaultWarmup    = 2 * time.Second
	DefaultCodes     = 1_000_000 // codes of validate's promotion
	DefaultManyCodes = 10_000    // codes of redeem-many's promotion
	// HotCodes is how many codes redeem-hot's promotion has.
	HotCodes = 50
	// HighLimit is the total-use limit of redeem-hot's promotion and of the
	// baseline's row when Config.Limit is zero: the largest a promotion
	// takes, too high to be reached.
	HighLimit = 1_000_000_000_000
	// MaxClients bounds a client count.
	MaxClients = 4096
	// MaxCodes is the most codes validate's promotion may have: one
	// generation job.
	MaxCodes = 10_000_000
	// MaxManyCodes is the most codes redeem-many's promotion may have: one
	// CSV import.
	MaxManyCodes = 1_000_000
	// MaxClicks is the most clicks the order scenarios seed.
	MaxClicks = 100_000_000
	// MaxRounds is the most rounds a run may take.
	MaxRounds = 100
	// MinRound is the shortest measured window of one round.
	MinRound = 500 * time.Millisecond
	// DefaultImportRows is how many rows the import scenarios' files have.
	DefaultImportRows = 1_000_000
	// MaxImportRows is the most rows an import scenario's file may have:
	// the most one import takes.
	MaxImportRows = 1_000_000
	// validateSample is how many of validate's codes the clients draw from.
	validateSample = 100_000
)

// Config is one run of the load command.
type Config struct {
	// Scenarios are run in this order, each at every client count.
	Scenarios []string
	// Clients lists the client counts.
	Clients []int
	// Duration is how long each step is measured, after Warmup.
	Duration, Warmup time.Duration
	// Rounds, when above 1, runs the scenarios in turn that many times at
	// each client count, each round measured for Duration/Rounds after a
	// warm-up of its own, and reports each scenario over all its rounds:
	// a machine whose speed drifts during the run then weighs on a
	// scenario and its baseline alike. Zero or 1 runs each step once.
	Rounds int
	// Limit is the total-use limit of redeem-hot's promotion and of the
	// baseline's row; zero means HighLimit.
	Limit int64
	// Codes is how many codes validate's promotion has.
	Codes int64
	// ManyCodes is how many codes redeem-many's promotion has.
	ManyCodes int
	// IdempotencyKey sends each redeem with an Idempotency-Key header, its
	// order id, as a checkout that retries safely does.
	IdempotencyKey bool
	// Clicks is how many clicks the order scenarios seed before they run;
	// zero means DefaultClicks.
	Clicks int64
	// SeedClicks writes seeded clicks straight to the server's database;
	// the order scenarios need it.
	SeedClicks func(ctx context.Context, s ClickSeed) error
	// Entries is how many ledger entries the statement scenarios seed;
	// zero means DefaultEntries.
	Entries int64
	// SeedEntries writes seeded ledger entries straight to the server's
	// database and returns their sum; the statement scenarios need it.
	SeedEntries func(ctx context.Context, s EntrySeed) (int64, error)
	// ImportRows is how many rows the files of the import scenarios have;
	// zero means DefaultImportRows.
	ImportRows int

	// BaseURL is the server's base URL, such as http://127.0.0.1:8080.
	BaseURL string
	// AdminKey is an admin key of the server, which seeds the fixtures.
	AdminKey string
	// DatabaseURL is the server's database, sqlite:PATH or postgres://...,
	// on which baseline runs. Empty when unknown; baseline then cannot run.
	DatabaseURL string
	// CheckFunc, when set, runs the server's consistency check once the
	// steps are done, if a redeem scenario ran: it writes what it finds to
	// w and returns an error when a counter differs from its rows.
	CheckFunc func(ctx context.Context, w io.Writer) error

	// Out receives the tables; Log the progress of the seeding. Nil
	// discards.
	Out, Log io.Writer
	// Markdown adds rows ready to paste into BENCHMARKS.md.
	Markdown bool
	// CommandLine is the command as typed, for the Markdown output.
	CommandLine string
}

// Database returns the kind of Config.DatabaseURL: "sqlite", "postgres",
// or "" when it is empty or of neither kind.
func (c *Config) Database() string {
	kind, _ := databaseKind(c.DatabaseURL)
	return kind
}

// databaseKind returns the kind of a database URL and what its driver
// opens: the file path for SQLite, the URL for PostgreSQL.
func databaseKind(s string) (kind, target string) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		return "sqlite", strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//")
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return "postgres", s
	}
	return "", ""
}

// ParseClients reads a comma-separated list of client counts, such as
// "1,16,64".
func ParseClients(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("--clients is empty: give client counts such as 1,16,64")
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > MaxClients {
			return nil, fmt.Errorf("--clients %q: %q is not a client count from 1 to %d", s, f, MaxClients)
		}
		out = append(out, n)
	}
	return out, nil
}

// Validate checks the configuration and returns every problem it finds in
// one error, each phrased so that the user knows what to change.
func (c *Config) Validate() error {
	errs := []error{c.ValidateSteps()}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("server URL %q is not an http:// or https:// URL", c.BaseURL))
	}
	if c.AdminKey == "" {
		errs = append(errs, errors.New("no admin key: the fixtures are created with one"))
	}
	if slices.Contains(c.Scenarios, ScenarioBaseline) && c.Database() == "" {
		errs = append(errs, errors.New("baseline runs on the server's database: give it with --database (sqlite:PATH or postgres://...)"))
	}
	for _, sum := range []string{ScenarioStatementSum, ScenarioStoreStatementSum} {
		if slices.Contains(c.Scenarios, sum) && c.Database() == "" {
			errs = append(errs, fmt.Errorf("%s runs on the server's database: give it with --database (sqlite:PATH or postgres://...)", sum))
		}
	}
	return errors.Join(errs...)
}

// ValidateSteps checks what the steps are made of: the scenarios, client
// counts, durations and sizes, but not the server, which may not be
// started yet.
func (c *Config) ValidateSteps() error {
	var errs []error
	if len(c.Scenarios) == 0 {
		errs = append(errs, fmt.Errorf("no scenario given: name one or more of %s", strings.Join(Scenarios(), ", ")))
	}
	seen := make(map[string]bool)
	for _, s := range c.Scenarios {
		switch s {
		case ScenarioRedeemHot, ScenarioRedeemMany, ScenarioValidate, ScenarioHealthz, ScenarioBaseline, ScenarioClick, ScenarioOrderAttr, ScenarioOrderPlain, ScenarioOrderPayouts, ScenarioStatement, ScenarioStatementSum,
			ScenarioStoreStatement, ScenarioStoreStatementSum, ScenarioImportRejected, ScenarioImportAccepted, ScenarioConsole, ScenarioConsoleAPI:
		default:
			errs = append(errs, fmt.Errorf("unknown scenario %q: want %s", s, strings.Join(Scenarios(), ", ")))
			continue
		}
		if seen[s] {
			errs = append(errs, fmt.Errorf("scenario %q is given twice", s))
		}
		seen[s] = true
	}
	if len(c.Clients) == 0 {
		errs = append(errs, errors.New("no client count given: use --clients such as 1,16,64"))
	}
	for _, n := range c.Clients {
		if n < 1 || n > MaxClients {
			errs = append(errs, fmt.Errorf("client count %d: want 1 to %d", n, MaxClients))
		}
	}
	if c.Duration <= 0 {
		errs = append(errs, errors.New("--duration must be positive, e.g. 10s"))
	}
	if c.Rounds < 0 || c.Rounds > MaxRounds {
		errs = append(errs, fmt.Errorf("--rounds must be between 1 and %d", MaxRounds))
	} else if c.Rounds > 1 && c.Duration > 0 && c.Duration/time.Duration(c.Rounds) < MinRound {
		errs = append(errs, fmt.Errorf("--duration %s over %d rounds leaves less than %s a round", c.Duration, c.Rounds, MinRound))
	}
	if c.Warmup < 0 {
		errs = append(errs, errors.New("--warmup must not be negative; 0 measures from the first request"))
	}
	if c.Limit < 0 || c.Limit > HighLimit {
		errs = append(errs, fmt.Errorf("--limit must be between 1 and %d, or 0 for a limit that is not reached", int64(HighLimit)))
	}
	if (seen[ScenarioValidate] || seen[ScenarioConsole] || seen[ScenarioConsoleAPI]) && (c.Codes < 2 || c.Codes > MaxCodes) {
		errs = append(errs, fmt.Errorf("--codes must be between 2 and %d", MaxCodes))
	}
	if (seen[ScenarioOrderAttr] || seen[ScenarioOrderPlain]) && c.Clicks != 0 && (c.Clicks < clicksPerVisit || c.Clicks > MaxClicks) {
		errs = append(errs, fmt.Errorf("--clicks must be between %d and %d", clicksPerVisit, int64(MaxClicks)))
	}
	if (seen[ScenarioStatement] || seen[ScenarioStatementSum] || seen[ScenarioStoreStatement] || seen[ScenarioStoreStatementSum]) && c.Entries != 0 && (c.Entries < 2 || c.Entries > MaxEntries) {
		errs = append(errs, fmt.Errorf("--entries must be between 2 and %d", int64(MaxEntries)))
	}
	if (seen[ScenarioImportRejected] || seen[ScenarioImportAccepted]) && c.ImportRows != 0 && (c.ImportRows < 2 || c.ImportRows > MaxImportRows) {
		errs = append(errs, fmt.Errorf("--import-rows must be between 2 and %d", MaxImportRows))
	}
	if seen[ScenarioRedeemMany] && (c.ManyCodes < 1 || c.ManyCodes > MaxManyCodes) {
		errs = append(errs, fmt.Errorf("--many-codes must be between 1 and %d", MaxManyCodes))
	}
	return errors.Join(errs...)
}

// importRows returns the rows of the import scenarios' files.
func (c *Config) importRows() int {
	if c.ImportRows > 0 {
		return c.ImportRows
	}
	return DefaultImportRows
}
