package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/promokit/promokit/engine"
	promohttp "github.com/promokit/promokit/http"
	"github.com/promokit/promokit/sqlite"
)

// Defaults of the configuration.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultDatabaseURL     = "sqlite:promokit.db"
	DefaultShutdownTimeout = 10 * time.Second
	DefaultImportLimit     = promohttp.DefaultImportLimit // bytes of one CSV import body
	DefaultProofLimit      = promohttp.DefaultProofLimit  // bytes of one payout's proof file
	DefaultReadTimeout     = promohttp.DefaultReadTimeout
	DefaultWriteTimeout    = promohttp.DefaultWriteTimeout
	DefaultIdleTimeout     = promohttp.DefaultIdleTimeout
	DefaultImportTimeout   = promohttp.DefaultImportTimeout
	DefaultMaxConnsPerAddr = promohttp.DefaultMaxConnsPerAddr
)

// Environment variables read as the defaults of the flags of the same
// meaning; a flag given on the command line wins over its variable.
const (
	EnvAddr         = "PROMOKIT_ADDR"
	EnvDatabaseURL  = "PROMOKIT_DATABASE_URL"
	EnvAdminKeyFile = "PROMOKIT_ADMIN_KEY_FILE"
	EnvLogFormat    = "PROMOKIT_LOG_FORMAT"
	EnvLogLevel     = "PROMOKIT_LOG_LEVEL"
	EnvTrustProxy   = "PROMOKIT_TRUST_PROXY"
	EnvLookupFails  = "PROMOKIT_LOOKUP_FAILURES"
	EnvKeyLookups   = "PROMOKIT_LOOKUP_FAILURES_KEY"
	EnvAuthFails    = "PROMOKIT_AUTH_FAILURES"
	EnvGlobalAuth   = "PROMOKIT_AUTH_FAILURES_GLOBAL"
	EnvReadTimeout  = "PROMOKIT_READ_TIMEOUT"
	EnvWriteTimeout = "PROMOKIT_WRITE_TIMEOUT"
	EnvIdleTimeout  = "PROMOKIT_IDLE_TIMEOUT"
	EnvImportTime   = "PROMOKIT_IMPORT_TIMEOUT"
	EnvMaxConns     = "PROMOKIT_MAX_CONNS_PER_ADDR"
	EnvProofLimit   = "PROMOKIT_PAYOUT_PROOF_LIMIT"
	EnvConsole      = "PROMOKIT_CONSOLE"
	EnvSessionIdle  = "PROMOKIT_SESSION_IDLE"
	EnvSessionLife  = "PROMOKIT_SESSION_LIFETIME"
)

// Config is the whole configuration of one run of the binary: the
// subcommand and its settings, taken from the environment and then from
// the flags. It holds no secret other than a password that the database
// URL may carry, which Dump hides.
type Config struct {
	// Command is the subcommand: serve, migrate, check, keys or version.
	Command string
	// Addr is the TCP address the HTTP API listens on; port 0 picks a
	// free port.
	Addr string
	// DatabaseURL is "sqlite:PATH" for an embedded SQLite file, or a
	// postgres:// or postgresql:// URL.
	DatabaseURL string
	// AdminKeyFile, when set, receives the admin key created on the first
	// start (mode 0600) instead of standard output.
	AdminKeyFile string
	// LogFormat is "text" or "json".
	LogFormat string
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string
	// Demo loads a demo marketplace into a database without stores.
	Demo bool
	// ConfigDump prints the effective configuration and exits.
	ConfigDump bool
	// ShutdownTimeout bounds how long a shutdown waits for requests in
	// flight before it closes their connections.
	ShutdownTimeout time.Duration
	// ImportLimit is the largest CSV import body the API accepts, in bytes.
	ImportLimit int64
	// ProofLimit is the largest proof file of a payout the API accepts,
	// in bytes.
	ProofLimit int64
	// TrustProxy makes the API take the client address from
	// X-Forwarded-For, for rate limits and logs. Enable it only behind a
	// proxy that sets that header.
	TrustProxy bool
	// LookupFailures is how many failed code look-ups each client address
	// and each customer at a store may make per minute before they are
	// answered 429 until the minute ends; 0 turns the limit off.
	LookupFailures int
	// KeyLookupFailures is the same limit for each API key; 0 turns it off.
	KeyLookupFailures int
	// AuthFailures is how many failed authentications each client address
	// may make per minute, counted across processes, before every request
	// from it is answered 429 until the minute ends; 0 turns the limit off.
	AuthFailures int
	// GlobalAuthFailures is how many failed authentications this process
	// checks against the database per minute in all before it refuses the
	// keys it would have to look up until the minute ends; 0 turns the
	// limit off.
	GlobalAuthFailures int
	// ClickFlush is how long a click on an affiliate link waits in memory
	// at most before it is written; a crash loses the clicks of the last
	// interval.
	ClickFlush time.Duration
	// ReadTimeout bounds how long a request may take to arrive, headers
	// and body, except a CSV import's body (ImportTimeout); 0: no limit.
	ReadTimeout time.Duration
	// WriteTimeout bounds how long an answer may take once its request
	// has arrived, and a streamed export's wait between two flushes; 0:
	// no limit.
	WriteTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request; 0: no limit.
	IdleTimeout time.Duration
	// ImportTimeout bounds how long a CSV import's body may take to
	// arrive; 0: no limit.
	ImportTimeout time.Duration
	// MaxConnsPerAddr caps the connections one client address holds open
	// at once; 0: no cap. It does not apply with TrustProxy, since every
	// connection then comes from the proxy.
	MaxConnsPerAddr int
	// Console serves the web console at /console.
	Console bool
	// SessionIdle ends a console session unused for this long.
	SessionIdle time.Duration
	// SessionLifetime ends a console session this long after sign-in,
	// however it is used.
	SessionLifetime time.Duration
	// Keys is what the keys command creates or lists.
	Keys KeysConfig
}

// DefaultConfig returns the configuration used when neither the
// environment nor a flag says otherwise.
func DefaultConfig() Config {
	return Config{
		Command:         "serve",
		Addr:            DefaultAddr,
		DatabaseURL:     DefaultDatabaseURL,
		LogLevel:        "info",
		ShutdownTimeout: DefaultShutdownTimeout,
		ImportLimit:     DefaultImportLimit,
		ProofLimit:      DefaultProofLimit,
		LookupFailures:  promohttp.DefaultLookupFailures,
		ClickFlush:      engine.DefaultClickFlush,
		ReadTimeout:     DefaultReadTimeout,
		WriteTimeout:    DefaultWriteTimeout,
		IdleTimeout:     DefaultIdleTimeout,
		ImportTimeout:   DefaultImportTimeout,
		MaxConnsPerAddr: DefaultMaxConnsPerAddr,

		KeyLookupFailures: promohttp.DefaultKeyLookupFailures,

		AuthFailures:       promohttp.DefaultAuthFailures,
		GlobalAuthFailures: promohttp.DefaultGlobalAuthFailures,

		Console:         true,
		SessionIdle:     engine.DefaultSessionIdle,
		SessionLifetime: engine.DefaultSessionLifetime,
	}
}

// applyEnv overrides c with the variables that getenv returns, and fails
// on a variable whose value cannot be read.
func (c *Config) applyEnv(getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	str(EnvAddr, &c.Addr)
	str(EnvDatabaseURL, &c.DatabaseURL)
	str(EnvAdminKeyFile, &c.AdminKeyFile)
	str(EnvLogFormat, &c.LogFormat)
	str(EnvLogLevel, &c.LogLevel)
	for name, dst := range map[string]*bool{EnvTrustProxy: &c.TrustProxy, EnvConsole: &c.Console} {
		if v := getenv(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s=%q: want true or false", name, v)
			}
			*dst = b
		}
	}
	if v := getenv(EnvLookupFails); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%s=%q: want a number of failures per minute", EnvLookupFails, v)
		}
		c.LookupFailures = n
	}
	for name, dst := range map[string]*int{
		EnvKeyLookups: &c.KeyLookupFailures,
		EnvAuthFails:  &c.AuthFailures,
		EnvGlobalAuth: &c.GlobalAuthFailures,
	} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s=%q: want a number of failures per minute", name, v)
			}
			*dst = n
		}
	}
	for name, dst := range map[string]*time.Duration{
		EnvReadTimeout: &c.ReadTimeout, EnvWriteTimeout: &c.WriteTimeout,
		EnvIdleTimeout: &c.IdleTimeout, EnvImportTime: &c.ImportTimeout,
		EnvSessionIdle: &c.SessionIdle, EnvSessionLife: &c.SessionLifetime,
	} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s=%q: want a duration such as 30s or 1h, or 0 for no limit", name, v)
			}
			*dst = d
		}
	}
	if v := getenv(EnvProofLimit); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%s=%q: want a number of bytes", EnvProofLimit, v)
		}
		c.ProofLimit = n
	}
	if v := getenv(EnvMaxConns); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%s=%q: want a number of connections, or 0 for no cap", EnvMaxConns, v)
		}
		c.MaxConnsPerAddr = n
	}
	return nil
}

// Database kinds.
const (
	DatabaseSQLite   = "sqlite"
	DatabasePostgres = "postgres"
)

// ParseDatabaseURL returns the kind of database a URL names and what its
// package opens: the file path for SQLite, the URL itself for PostgreSQL.
func ParseDatabaseURL(s string) (kind, target string, err error) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		path := strings.TrimPrefix(s, "sqlite:")
		path = strings.TrimPrefix(path, "//") // sqlite://rel.db and sqlite:///abs.db
		switch {
		case path == "":
			return "", "", fmt.Errorf("database URL %q names no file: use sqlite:PATH, e.g. sqlite:promokit.db", s)
		case strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:"):
			return "", "", fmt.Errorf("database URL %q: only a plain file path is supported after sqlite:", s)
		}
		if _, _, err := sqlite.SplitPath(path); err != nil {
			return "", "", fmt.Errorf("database URL %q: the only SQLite setting is ?synchronous=normal (the default) or ?synchronous=full", s)
		}
		return DatabaseSQLite, path, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			// A *url.Error quotes the whole URL, password included: show
			// only its cause.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return "", "", fmt.Errorf("database URL is not a valid URL: %v", err)
		}
		if _, err := pgconn.ParseConfig(s); err != nil {
			return "", "", fmt.Errorf("database URL is not a valid PostgreSQL URL: %v", redactErr(err, s))
		}
		return DatabasePostgres, s, nil
	}
	if strings.Contains(s, "=") && !strings.Contains(s, "://") {
		return "", "", fmt.Errorf("database URL %q: a keyword/value string is not accepted; write it as a URL, e.g. postgres://user:password@host:5432/dbname", redactURL(s))
	}
	return "", "", fmt.Errorf("database URL %q must start with sqlite:, postgres:// or postgresql://", redactURL(s))
}

// redactErr returns err's text with every password that raw, a database
// URL or keyword/value string, carries replaced by xxxxx.
func redactErr(err error, raw string) string {
	msg := err.Error()
	for _, pw := range passwordsIn(raw) {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return msg
}

// passwordsIn returns the passwords that a database URL or keyword/value
// string carries, in each form an error message may quote them: as
// written and decoded.
func passwordsIn(raw string) []string {
	var pws []string
	add := func(pw string) {
		if pw != "" && pw != "xxxxx" {
			pws = append(pws, pw)
		}
	}
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if pw, ok := u.User.Password(); ok {
			add(pw)
			add(url.PathEscape(pw))
			add(url.QueryEscape(pw))
		}
		for _, pw := range u.Query()["password"] {
			add(pw)
			add(url.QueryEscape(pw))
		}
	}
	for _, m := range dsnPassword.FindAllStringSubmatch(raw, -1) {
		add(m[2])
		if unq := unquoteDSN(m[2]); unq != m[2] {
			add(unq)
		}
	}
	return pws
}

// dsnPassword matches the password (or sslpassword) of a keyword/value
// connection string ("host=db password=secret" or "password='a secret'"),
// as libpq reads it: a single-quoted value with backslash escapes, or a
// value up to the next space.
var dsnPassword = regexp.MustCompile(`(?i)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s']\S*)`)

// unquoteDSN returns a quoted keyword/value string value without its
// quotes and escapes.
func unquoteDSN(v string) string {
	if !strings.HasPrefix(v, "'") {
		return v
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// redactURL returns a database URL fit to print: the password in its user
// information or in a password parameter is replaced by xxxxx, as is the
// password of a keyword/value string (host=db password=secret), which is
// not a URL at all.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		if masked := dsnPassword.ReplaceAllString(s, "${1}xxxxx"); masked != s {
			return masked
		}
		if err != nil && strings.Contains(s, "@") {
			return "(unparsable URL hidden)"
		}
		return s
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// validAddrHost reports whether host may be listened on: empty (every
// interface), an IP address, or a host name.
func validAddrHost(host string) bool {
	if host == "" || net.ParseIP(host) != nil {
		return true
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// Validate checks the configuration and returns every problem it finds in
// one error, each phrased so that the user knows what to change.
func (c *Config) Validate() error {
	var errs []error
	switch c.Command {
	case "serve", "migrate", "check", "version":
	case "keys":
		errs = append(errs, c.Keys.validate()...)
	default:
		errs = append(errs, fmt.Errorf("unknown command %q: want serve, migrate, check, keys or version", c.Command))
	}
	if c.Command == "serve" {
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("--addr %q is not HOST:PORT (e.g. 127.0.0.1:8080 or :8080)", c.Addr))
		} else {
			n, perr := strconv.Atoi(port)
			if perr != nil || n < 0 || n > 65535 {
				errs = append(errs, fmt.Errorf("--addr %q: the port must be a number from 0 to 65535", c.Addr))
			}
			if !validAddrHost(host) {
				errs = append(errs, fmt.Errorf("--addr %q: %q is not an IP address or host name", c.Addr, host))
			}
		}
		if c.ShutdownTimeout <= 0 {
			errs = append(errs, fmt.Errorf("--shutdown-timeout must be positive, e.g. 10s"))
		}
		if c.ClickFlush < time.Millisecond || c.ClickFlush > time.Minute {
			errs = append(errs, fmt.Errorf("--click-flush must be between 1ms and 1m, e.g. 100ms"))
		}
		if c.ImportLimit < 1 {
			errs = append(errs, fmt.Errorf("--import-limit must be at least 1 byte"))
		}
		if c.ProofLimit < 1 {
			errs = append(errs, fmt.Errorf("--payout-proof-limit must be at least 1 byte"))
		}
		if c.KeyLookupFailures < 0 {
			errs = append(errs, fmt.Errorf("--lookup-failures-key must be 0 (no limit) or more"))
		}
		if c.LookupFailures < 0 {
			errs = append(errs, fmt.Errorf("--lookup-failures must be 0 (no limit) or more"))
		}
		if c.AuthFailures < 0 {
			errs = append(errs, fmt.Errorf("--auth-failures must be 0 (no limit) or more"))
		}
		if c.GlobalAuthFailures < 0 {
			errs = append(errs, fmt.Errorf("--auth-failures-global must be 0 (no limit) or more"))
		}
		for name, d := range map[string]time.Duration{
			"--read-timeout": c.ReadTimeout, "--write-timeout": c.WriteTimeout,
			"--idle-timeout": c.IdleTimeout, "--import-timeout": c.ImportTimeout,
		} {
			if d < 0 {
				errs = append(errs, fmt.Errorf("%s must be 0 (no limit) or more, e.g. 30s", name))
			}
		}
		if c.MaxConnsPerAddr < 0 {
			errs = append(errs, fmt.Errorf("--max-conns-per-addr must be 0 (no cap) or more"))
		}
		if c.SessionIdle < time.Minute || c.SessionIdle > 30*24*time.Hour {
			errs = append(errs, fmt.Errorf("--session-idle must be between 1m and 720h, e.g. 30m"))
		}
		if c.SessionLifetime < c.SessionIdle || c.SessionLifetime > 90*24*time.Hour {
			errs = append(errs, fmt.Errorf("--session-lifetime must be at least --session-idle and at most 2160h, e.g. 12h"))
		}
	}
	if c.Command != "version" {
		if _, _, err := ParseDatabaseURL(c.DatabaseURL); err != nil {
			errs = append(errs, err)
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// level returns the validated log level.
func (c *Config) level() slog.Level {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	return lvl
}

// Dump writes the configuration as JSON, with the database password hidden.
func (c *Config) Dump(w io.Writer) error {
	kind, _, _ := ParseDatabaseURL(c.DatabaseURL)
	out := struct {
		Command         string      `json:"command"`
		Addr            string      `json:"addr,omitempty"`
		DatabaseURL     string      `json:"database_url"`
		Database        string      `json:"database"`
		AdminKeyFile    string      `json:"admin_key_file,omitempty"`
		LogFormat       string      `json:"log_format"`
		LogLevel        string      `json:"log_level"`
		Demo            bool        `json:"demo"`
		ShutdownTimeout string      `json:"shutdown_timeout,omitempty"`
		ImportLimit     int64       `json:"import_limit,omitempty"`
		ProofLimit      int64       `json:"payout_proof_limit,omitempty"`
		ClickFlush      string      `json:"click_flush,omitempty"`
		TrustProxy      bool        `json:"trust_proxy"`
		LookupFailures  *int        `json:"lookup_failures,omitempty"`
		KeyLookups      *int        `json:"lookup_failures_key,omitempty"`
		ReadTimeout     string      `json:"read_timeout,omitempty"`
		WriteTimeout    string      `json:"write_timeout,omitempty"`
		IdleTimeout     string      `json:"idle_timeout,omitempty"`
		ImportTimeout   string      `json:"import_timeout,omitempty"`
		MaxConnsPerAddr *int        `json:"max_conns_per_addr,omitempty"`
		AuthFailures    *int        `json:"auth_failures,omitempty"`
		GlobalAuth      *int        `json:"auth_failures_global,omitempty"`
		Console         *bool       `json:"console,omitempty"`
		SessionIdle     string      `json:"session_idle,omitempty"`
		SessionLifetime string      `json:"session_lifetime,omitempty"`
		Keys            *KeysConfig `json:"keys,omitempty"`
	}{
		Command: c.Command, DatabaseURL: redactURL(c.DatabaseURL), Database: kind,
		AdminKeyFile: c.AdminKeyFile, LogFormat: c.LogFormat, LogLevel: c.LogLevel,
		Demo: c.Demo, TrustProxy: c.TrustProxy,
	}
	if c.Command == "keys" {
		out.Keys = &c.Keys
	}
	if c.Command == "serve" {
		out.Addr = c.Addr
		out.ShutdownTimeout = c.ShutdownTimeout.String()
		out.ImportLimit = c.ImportLimit
		out.ProofLimit = c.ProofLimit
		out.ClickFlush = c.ClickFlush.String()
		out.LookupFailures = &c.LookupFailures
		out.KeyLookups = &c.KeyLookupFailures
		out.AuthFailures = &c.AuthFailures
		out.GlobalAuth = &c.GlobalAuthFailures
		out.ReadTimeout = c.ReadTimeout.String()
		out.WriteTimeout = c.WriteTimeout.String()
		out.IdleTimeout = c.IdleTimeout.String()
		out.ImportTimeout = c.ImportTimeout.String()
		out.Console = &c.Console
		out.SessionIdle = c.SessionIdle.String()
		out.SessionLifetime = c.SessionLifetime.String()
		// The cap in force: none behind a trusted proxy.
		maxConns := c.MaxConnsPerAddr
		if c.TrustProxy {
			maxConns = 0
		}
		out.MaxConnsPerAddr = &maxConns
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
