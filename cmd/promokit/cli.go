package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	promohttp "github.com/promokit/promokit/http"
	"github.com/promokit/promokit/storage"
)

// Main is one run of the promokit binary. ParseFlags fills Config, Run
// starts the subcommand and returns once it is done or, for serve, once
// the API is listening; Close stops what Run started. Tests build a Main
// the same way main does, with their own output writers and environment.
type Main struct {
	// Config is the configuration, filled by ParseFlags.
	Config Config
	// DB is the open database, set by Run.
	DB storage.DB
	// Service is the engine over DB, set by Run.
	Service *engine.Service
	// HTTP is the API handler, set by Run for serve.
	HTTP *promohttp.Server

	// Stdout receives what the user asked for: the admin key, the demo
	// and the output of version and --config-dump.
	Stdout io.Writer
	// Stderr receives the logs and usage messages.
	Stderr io.Writer
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string

	logger      *slog.Logger
	ln          net.Listener
	server      *http.Server
	serveErr    chan error
	stopWorkers context.CancelFunc
	workers     sync.WaitGroup
	closing     atomic.Bool
	closeOnce   sync.Once
	closeErr    error

	// adminCreated reports whether this run created the first admin key.
	adminCreated bool
	// demo is what --demo loaded on this run, if anything.
	demo *Demo
}

// NewMain returns a Main that writes to the process's standard output and
// error and reads its environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// usageError is an error in the command line or the configuration: the
// process exits with status 2 rather than 1.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

const usage = `promokit runs the promokit promotions engine.

Usage:
  promokit serve   [flags]   start the HTTP API and the job worker (migrates first)
  promokit migrate [flags]   apply the database migrations and exit
  promokit check   [flags]   recompute the usage counters from the redemptions; exit 1 on a difference
  promokit keys create --role ROLE [flags]
                             create an API key in the database and print its secret once
                             (a lost admin key: run it where the database is reachable)
  promokit keys list [flags] list the keys of the database, without secrets
  promokit bench   [flags] SCENARIO...
                             drive checkout traffic with concurrent clients beside a baseline
  promokit version           print the version and exit

Run "promokit COMMAND -h" for the flags of a command. Every flag named below
also reads an environment variable, which the flag overrides:
  --addr            PROMOKIT_ADDR            (default 127.0.0.1:8080)
  --database-url    PROMOKIT_DATABASE_URL    (default sqlite:promokit.db)
  --admin-key-file  PROMOKIT_ADMIN_KEY_FILE
  --log-format      PROMOKIT_LOG_FORMAT      (text on a terminal, json otherwise)
  --log-level       PROMOKIT_LOG_LEVEL       (default info)
  --trust-proxy     PROMOKIT_TRUST_PROXY
  --lookup-failures PROMOKIT_LOOKUP_FAILURES (default 20 a minute; 0: no limit)
  --lookup-failures-key PROMOKIT_LOOKUP_FAILURES_KEY (default 1000 a minute; 0: no limit)
  --read-timeout    PROMOKIT_READ_TIMEOUT    (default 30s; 0: no limit)
  --write-timeout   PROMOKIT_WRITE_TIMEOUT   (default 60s; 0: no limit)
  --idle-timeout    PROMOKIT_IDLE_TIMEOUT    (default 60s; 0: no limit)
  --import-timeout  PROMOKIT_IMPORT_TIMEOUT  (default 1h; 0: no limit)
  --max-conns-per-addr PROMOKIT_MAX_CONNS_PER_ADDR (default 256; 0: no cap; off with --trust-proxy)
  --payout-proof-limit PROMOKIT_PAYOUT_PROOF_LIMIT (default 10485760 bytes: 10 MiB)
  --console         PROMOKIT_CONSOLE         (default true: the web console at /console)
  --session-idle    PROMOKIT_SESSION_IDLE    (default 30m: a console session unused this long ends)
  --session-lifetime PROMOKIT_SESSION_LIFETIME (default 12h: a console session ends this long after sign-in)
`

// ParseFlags reads the subcommand and its flags from args (without the
// program name), over defaults taken from the environment, and validates
// the result. It returns flag.ErrHelp when help was asked for, and an
// error that makes Exec exit with status 2 for anything it rejects.
func (m *Main) ParseFlags(args []string) error {
	if m.Getenv == nil {
		m.Getenv = os.Getenv
	}
	if m.Stderr == nil {
		m.Stderr = io.Discard
	}
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return usageError{errors.New("no command given")}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stderr, usage)
		return flag.ErrHelp
	}
	// Flags are declared with the built-in defaults, so that usage never
	// prints a value from the environment (a database URL may hold a
	// password); the environment fills in what no flag set.
	c := DefaultConfig()
	c.Command = args[0]
	fromEnv := DefaultConfig()
	if err := fromEnv.applyEnv(m.Getenv); err != nil {
		return usageError{err}
	}
	fs := flag.NewFlagSet("promokit "+c.Command, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	if c.Command == "keys" {
		args = keysFlags(fs, &c, args)
	}
	switch c.Command {
	case "serve":
		fs.StringVar(&c.Addr, "addr", c.Addr, "TCP address of the HTTP API; port 0 picks a free one (env "+EnvAddr+")")
		fs.StringVar(&c.AdminKeyFile, "admin-key-file", c.AdminKeyFile, "write the admin key created on the first start to this file (mode 0600) instead of standard output (env "+EnvAdminKeyFile+")")
		fs.BoolVar(&c.Demo, "demo", c.Demo, "load a demo marketplace into a database that has no stores, and print keys and curl commands")
		fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long a shutdown waits for requests in flight")
		fs.Int64Var(&c.ImportLimit, "import-limit", c.ImportLimit, "largest CSV import body accepted, in bytes")
		fs.Int64Var(&c.ProofLimit, "payout-proof-limit", c.ProofLimit, "largest proof file of a payout accepted, in bytes (env "+EnvProofLimit+")")
		fs.DurationVar(&c.ClickFlush, "click-flush", c.ClickFlush, "how long a click on an affiliate link waits in memory at most before it is written")
		fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "take client addresses from X-Forwarded-For; only behind a proxy that sets it (env "+EnvTrustProxy+")")
		fs.IntVar(&c.LookupFailures, "lookup-failures", c.LookupFailures, "failed code look-ups per minute allowed to each client address and each customer at a store before 429; 0: no limit (env "+EnvLookupFails+")")
		fs.IntVar(&c.KeyLookupFailures, "lookup-failures-key", c.KeyLookupFailures, "failed code look-ups per minute allowed to each API key before 429; 0: no limit (env "+EnvKeyLookups+")")
		fs.IntVar(&c.AuthFailures, "auth-failures", c.AuthFailures, "failed authentications per minute allowed to each client address before its requests are 429; 0: no limit (env "+EnvAuthFails+")")
		fs.IntVar(&c.GlobalAuthFailures, "auth-failures-global", c.GlobalAuthFailures, "failed authentications per minute this process checks in all before unknown keys are 429; 0: no limit (env "+EnvGlobalAuth+")")
		fs.DurationVar(&c.ReadTimeout, "read-timeout", c.ReadTimeout, "how long a request may take to arrive, headers and body, except a CSV import's body; 0: no limit (env "+EnvReadTimeout+")")
		fs.DurationVar(&c.WriteTimeout, "write-timeout", c.WriteTimeout, "how long an answer may take once its request arrived, and a streamed export between two flushes; 0: no limit (env "+EnvWriteTimeout+")")
		fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "how long a keep-alive connection may wait for its next request; 0: no limit (env "+EnvIdleTimeout+")")
		fs.DurationVar(&c.ImportTimeout, "import-timeout", c.ImportTimeout, "how long the body of an authenticated CSV import may take to arrive; 0: no limit (env "+EnvImportTime+")")
		fs.BoolVar(&c.Console, "console", c.Console, "serve the web console at /console; --console=false turns it off (env "+EnvConsole+")")
		fs.DurationVar(&c.SessionIdle, "session-idle", c.SessionIdle, "a console session unused this long ends (env "+EnvSessionIdle+")")
		fs.DurationVar(&c.SessionLifetime, "session-lifetime", c.SessionLifetime, "a console session ends this long after sign-in, however it is used (env "+EnvSessionLife+")")
		fs.IntVar(&c.MaxConnsPerAddr, "max-conns-per-addr", c.MaxConnsPerAddr, "connections one client address may hold open at once; more are closed at once; 0: no cap; does not apply with --trust-proxy (env "+EnvMaxConns+")")
		fallthrough
	case "migrate", "check", "keys":
		fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "sqlite:PATH, or a postgres:// or postgresql:// URL (env "+EnvDatabaseURL+")")
		fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json; default text on a terminal, json otherwise (env "+EnvLogFormat+")")
		fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error (env "+EnvLogLevel+")")
		fs.BoolVar(&c.ConfigDump, "config-dump", c.ConfigDump, "print the effective configuration, without secrets, and exit")
	case "version":
	default:
		fmt.Fprint(m.Stderr, usage)
		return usageError{fmt.Errorf("unknown command %q", c.Command)}
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, pair := range map[string][2]*string{
		"addr":           {&c.Addr, &fromEnv.Addr},
		"database-url":   {&c.DatabaseURL, &fromEnv.DatabaseURL},
		"admin-key-file": {&c.AdminKeyFile, &fromEnv.AdminKeyFile},
		"log-format":     {&c.LogFormat, &fromEnv.LogFormat},
		"log-level":      {&c.LogLevel, &fromEnv.LogLevel},
	} {
		if !set[name] {
			*pair[0] = *pair[1]
		}
	}
	if !set["trust-proxy"] {
		c.TrustProxy = fromEnv.TrustProxy
	}
	if !set["console"] {
		c.Console = fromEnv.Console
	}
	if !set["lookup-failures"] {
		c.LookupFailures = fromEnv.LookupFailures
	}
	if !set["lookup-failures-key"] {
		c.KeyLookupFailures = fromEnv.KeyLookupFailures
	}
	if !set["auth-failures"] {
		c.AuthFailures = fromEnv.AuthFailures
	}
	if !set["auth-failures-global"] {
		c.GlobalAuthFailures = fromEnv.GlobalAuthFailures
	}
	for name, pair := range map[string][2]*time.Duration{
		"read-timeout":     {&c.ReadTimeout, &fromEnv.ReadTimeout},
		"write-timeout":    {&c.WriteTimeout, &fromEnv.WriteTimeout},
		"idle-timeout":     {&c.IdleTimeout, &fromEnv.IdleTimeout},
		"import-timeout":   {&c.ImportTimeout, &fromEnv.ImportTimeout},
		"session-idle":     {&c.SessionIdle, &fromEnv.SessionIdle},
		"session-lifetime": {&c.SessionLifetime, &fromEnv.SessionLifetime},
	} {
		if !set[name] {
			*pair[0] = *pair[1]
		}
	}
	if !set["max-conns-per-addr"] {
		c.MaxConnsPerAddr = fromEnv.MaxConnsPerAddr
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: flags come after the command, e.g. promokit serve --addr :8080", fs.Arg(0))}
	}
	if c.LogFormat == "" {
		c.LogFormat = "json"
		if isTerminal(m.Stderr) {
			c.LogFormat = "text"
		}
	}
	if err := c.Validate(); err != nil {
		return usageError{err}
	}
	m.Config = c
	return nil
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// newLogger returns the logger the configuration asks for, writing to Stderr.
func (m *Main) newLogger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: m.Config.level()}
	if m.Config.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts))
}

// Run runs the subcommand of Config. For serve it returns once the API is
// listening and the workers run, and the caller must call Close; for the
// other commands it returns when they are done. ctx bounds the start-up
// only: stopping a server is Close's work.
func (m *Main) Run(ctx context.Context) error {
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Stderr == nil {
		m.Stderr = io.Discard
	}
	m.logger = m.newLogger()
	if m.Config.ConfigDump {
		return m.Config.Dump(m.Stdout)
	}
	switch m.Config.Command {
	case "version":
		_, err := fmt.Fprintln(m.Stdout, versionString())
		return err
	case "migrate":
		return m.runMigrate(ctx)
	case "check":
		return m.runCheck(ctx)
	case "keys":
		return m.runKeys(ctx)
	case "serve":
		return m.runServe(ctx)
	}
	return usageError{fmt.Errorf("unknown command %q", m.Config.Command)}
}

// versionString describes this build: promokit.Version, the commit from
// the linker or from Go's build information, and the Go release.
func versionString() string {
	commit := promokit.Commit
	if commit == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					commit = s.Value
				}
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	return fmt.Sprintf("promokit %s (commit %s, %s %s/%s)", promokit.Version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// Exec parses args, runs the subcommand and, for serve, waits for ctx to
// end or the server to fail before it shuts down. It returns the process's
// exit status: 0 on success, 2 for a bad command line or configuration, 1
// for any other failure.
func (m *Main) Exec(ctx context.Context, args []string) int {
	if len(args) > 0 && args[0] == "bench" {
		return m.execBench(ctx, args[1:])
	}
	if err := m.ParseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(m.Stderr, "promokit: %v\n", err)
		return 2
	}
	if err := m.Run(ctx); err != nil {
		m.logger.Error("promokit failed", "command", m.Config.Command, "err", err)
		_ = m.Close()
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	code := 0
	if m.server != nil {
		select {
		case <-ctx.Done():
			m.logger.Info("shutting down", "timeout", m.Config.ShutdownTimeout.String())
		case err := <-m.serveErr:
			m.logger.Error("HTTP server failed", "err", err)
			code = 1
		}
	}
	if err := m.Close(); err != nil {
		m.logger.Error("shutdown", "err", err)
		code = 1
	}
	if code == 0 && m.server != nil {
		m.logger.Info("stopped")
	}
	return code
}
