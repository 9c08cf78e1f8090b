package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env returns a Getenv that sees only vars, so that the environment of the
// test process cannot change what a test parses.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c Config) bool
	}{
		{"defaults", []string{"serve"}, nil, func(c Config) bool {
			return c.Addr == DefaultAddr && c.DatabaseURL == DefaultDatabaseURL && c.LogFormat == "json" &&
				c.LogLevel == "info" && c.ShutdownTimeout == DefaultShutdownTimeout && !c.Demo && c.LookupFailures == 20 &&
				c.AuthFailures == 100 && c.GlobalAuthFailures == 10_000
		}},
		{"auth failures env", []string{"serve"}, map[string]string{EnvAuthFails: "7", EnvGlobalAuth: "0"}, func(c Config) bool {
			return c.AuthFailures == 7 && c.GlobalAuthFailures == 0
		}},
		{"auth failures flags", []string{"serve", "--auth-failures", "0", "--auth-failures-global", "50"}, map[string]string{EnvAuthFails: "7", EnvGlobalAuth: "9"}, func(c Config) bool {
			return c.AuthFailures == 0 && c.GlobalAuthFailures == 50
		}},
		{"connection defaults", []string{"serve"}, nil, func(c Config) bool {
			return c.ReadTimeout == 30*time.Second && c.WriteTimeout == time.Minute && c.IdleTimeout == time.Minute &&
				c.ImportTimeout == time.Hour && c.MaxConnsPerAddr == 256
		}},
		{"connection env", []string{"serve"}, map[string]string{EnvReadTimeout: "5s", EnvWriteTimeout: "0", EnvIdleTimeout: "10s", EnvImportTime: "2h", EnvMaxConns: "0"}, func(c Config) bool {
			return c.ReadTimeout == 5*time.Second && c.WriteTimeout == 0 && c.IdleTimeout == 10*time.Second &&
				c.ImportTimeout == 2*time.Hour && c.MaxConnsPerAddr == 0
		}},
		{"connection flags win", []string{"serve", "--read-timeout", "7s", "--max-conns-per-addr", "9"}, map[string]string{EnvReadTimeout: "5s", EnvMaxConns: "0"}, func(c Config) bool {
			return c.ReadTimeout == 7*time.Second && c.MaxConnsPerAddr == 9
		}},
		{"lookup failures", []string{"serve"}, map[string]string{EnvLookupFails: "0"}, func(c Config) bool { return c.LookupFailures == 0 }},
		{"lookup failures flag", []string{"serve", "--lookup-failures", "5"}, map[string]string{EnvLookupFails: "0"}, func(c Config) bool { return c.LookupFailures == 5 }},
		{"env", []string{"serve"}, map[string]string{EnvAddr: ":9000", EnvDatabaseURL: "postgres://u@h/db", EnvLogFormat: "text", EnvTrustProxy: "true"}, func(c Config) bool {
			return c.Addr == ":9000" && c.DatabaseURL == "postgres://u@h/db" && c.LogFormat == "text" && c.TrustProxy
		}},
		{"flags win over env", []string{"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:x.db", "--demo", "--shutdown-timeout", "3s"}, map[string]string{EnvAddr: ":9000"}, func(c Config) bool {
			return c.Addr == "127.0.0.1:0" && c.DatabaseURL == "sqlite:x.db" && c.Demo && c.ShutdownTimeout == 3*time.Second
		}},
		{"migrate", []string{"migrate", "--database-url", "postgresql://h/db"}, nil, func(c Config) bool {
			return c.Command == "migrate" && c.DatabaseURL == "postgresql://h/db"
		}},
		{"version", []string{"version"}, nil, func(c Config) bool { return c.Command == "version" }},
		{"console defaults", []string{"serve"}, nil, func(c Config) bool {
			return c.Console && c.SessionIdle == 30*time.Minute && c.SessionLifetime == 12*time.Hour
		}},
		{"console env", []string{"serve"}, map[string]string{EnvConsole: "false", EnvSessionIdle: "10m", EnvSessionLife: "1h"}, func(c Config) bool {
			return !c.Console && c.SessionIdle == 10*time.Minute && c.SessionLifetime == time.Hour
		}},
		{"console flags win", []string{"serve", "--console=true", "--session-idle", "5m"}, map[string]string{EnvConsole: "false", EnvSessionIdle: "10m"}, func(c Config) bool {
			return c.Console && c.SessionIdle == 5*time.Minute
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(tt.env)}
			if err := m.ParseFlags(tt.args); err != nil {
				t.Fatalf("ParseFlags(%q): %v", tt.args, err)
			}
			if !tt.want(m.Config) {
				t.Errorf("ParseFlags(%q) = %+v", tt.args, m.Config)
			}
		})
	}
}

func TestExecRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		message string
	}{
		{"no command", nil, nil, "no command"},
		{"unknown command", []string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "--nope"}, nil, "flag provided but not defined"},
		{"stray argument", []string{"serve", "extra"}, nil, `unexpected argument "extra"`},
		{"addr without port", []string{"serve", "--addr", "localhost"}, nil, "is not HOST:PORT"},
		{"addr with bad port", []string{"serve", "--addr", "127.0.0.1:99999"}, nil, "port must be a number"},
		{"addr with bad host", []string{"serve", "--addr", "no host!:80"}, nil, "is not an IP address or host name"},
		{"bad addr from env", []string{"serve"}, map[string]string{EnvAddr: "nonsense"}, "is not HOST:PORT"},
		{"database scheme", []string{"serve", "--database-url", "mysql://h/db"}, nil, "must start with sqlite:"},
		{"empty sqlite path", []string{"migrate", "--database-url", "sqlite:"}, nil, "names no file"},
		{"sqlite memory", []string{"migrate", "--database-url", "sqlite::memory:"}, nil, "plain file path"},
		{"sqlite parameters", []string{"migrate", "--database-url", "sqlite:x.db?mode=ro"}, nil, "the only SQLite setting is ?synchronous"},
		{"bad postgres url", []string{"migrate", "--database-url", "postgres://u:s3cr3tpw@h:notaport/db"}, nil, "not a valid"},
		{"keyword/value string", []string{"migrate", "--database-url", "host=db user=u password=s3cr3tpw dbname=p"}, nil, "host=db user=u password=xxxxx dbname=p"},
		{"quoted keyword/value password", []string{"migrate", "--database-url", `host=db password='s3cr3tpw \' x' dbname=p`}, nil, "password=xxxxx dbname=p"},
		{"keyword/value string from env", []string{"serve", "--config-dump"}, map[string]string{EnvDatabaseURL: "host=db PASSWORD = s3cr3tpw sslpassword=s3cr3tpw"}, "PASSWORD = xxxxx sslpassword=xxxxx"},
		{"log format", []string{"serve", "--log-format", "xml"}, nil, "--log-format"},
		{"log level", []string{"serve", "--log-level", "loud"}, nil, "--log-level"},
		{"shutdown timeout", []string{"serve", "--shutdown-timeout", "0s"}, nil, "--shutdown-timeout"},
		{"trust proxy env", []string{"serve"}, map[string]string{EnvTrustProxy: "maybe"}, EnvTrustProxy},
		{"lookup failures env", []string{"serve"}, map[string]string{EnvLookupFails: "many"}, EnvLookupFails},
		{"negative lookup failures", []string{"serve", "--lookup-failures", "-1"}, nil, "--lookup-failures"},
		{"auth failures env", []string{"serve"}, map[string]string{EnvGlobalAuth: "lots"}, EnvGlobalAuth},
		{"negative auth failures", []string{"serve", "--auth-failures", "-1"}, nil, "--auth-failures"},
		{"negative global auth failures", []string{"serve", "--auth-failures-global", "-5"}, nil, "--auth-failures-global"},
		{"read timeout env", []string{"serve"}, map[string]string{EnvReadTimeout: "soon"}, EnvReadTimeout},
		{"negative write timeout", []string{"serve", "--write-timeout", "-1s"}, nil, "--write-timeout"},
		{"max conns env", []string{"serve"}, map[string]string{EnvMaxConns: "many"}, EnvMaxConns},
		{"negative max conns", []string{"serve", "--max-conns-per-addr", "-2"}, nil, "--max-conns-per-addr"},
		{"console env", []string{"serve"}, map[string]string{EnvConsole: "perhaps"}, EnvConsole},
		{"session idle too short", []string{"serve", "--session-idle", "10s"}, nil, "--session-idle"},
		{"session lifetime below idle", []string{"serve", "--session-idle", "2h", "--session-lifetime", "1h"}, nil, "--session-lifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: env(tt.env)}
			if code := m.Exec(context.Background(), tt.args); code != 2 {
				t.Fatalf("Exec(%q) = %d, want 2; stderr:\n%s", tt.args, code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.message) {
				t.Errorf("stderr does not mention %q:\n%s", tt.message, stderr.String())
			}
			if strings.Contains(stderr.String(), "s3cr3tpw") {
				t.Errorf("stderr shows the database password:\n%s", stderr.String())
			}
		})
	}
}

func TestExecHelpAndVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"--help"}, {"serve", "-h"}} {
		var stderr bytes.Buffer
		m := &Main{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: env(map[string]string{EnvDatabaseURL: "postgres://u:s3cr3tpw@h/db"})}
		if code := m.Exec(context.Background(), args); code != 0 {
			t.Errorf("Exec(%q) = %d, want 0", args, code)
		}
		if !strings.Contains(stderr.String(), "database-url") {
			t.Errorf("Exec(%q) printed no usage:\n%s", args, stderr.String())
		}
		if strings.Contains(stderr.String(), "s3cr3tpw") {
			t.Errorf("Exec(%q) shows the password of the environment's database URL:\n%s", args, stderr.String())
		}
	}
	var stdout bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &bytes.Buffer{}, Getenv: env(nil)}
	if code := m.Exec(context.Background(), []string{"version"}); code != 0 {
		t.Fatalf("version exited %d", code)
	}
	if !strings.HasPrefix(stdout.String(), "promokit ") {
		t.Errorf("version printed %q", stdout.String())
	}
}

func TestConfigDump(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, want string
	}{
		{"postgres://alice:hunter2@db.example.com:5432/promo?sslmode=disable", "postgres://alice:xxxxx@db.example.com:5432/promo?sslmode=disable"},
		{"postgresql://db/promo?password=hunter2", "postgresql://db/promo?password=xxxxx"},
		{"sqlite:data/promokit.db", "sqlite:data/promokit.db"},
	}
	for _, tt := range tests {
		var stdout bytes.Buffer
		m := &Main{Stdout: &stdout, Stderr: &bytes.Buffer{}, Getenv: env(map[string]string{EnvDatabaseURL: tt.url})}
		if code := m.Exec(context.Background(), []string{"serve", "--config-dump", "--addr", ":7000"}); code != 0 {
			t.Fatalf("--config-dump exited %d", code)
		}
		if strings.Contains(stdout.String(), "hunter2") {
			t.Errorf("--config-dump shows the password:\n%s", stdout.String())
		}
		var got map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("--config-dump printed no JSON: %v\n%s", err, stdout.String())
		}
		if got["database_url"] != tt.want || got["addr"] != ":7000" {
			t.Errorf("--config-dump = %v, want database_url %s and addr :7000", got, tt.want)
		}
	}
}

func TestParseDatabaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, kind, target string
	}{
		{"sqlite:promokit.db", DatabaseSQLite, "promokit.db"},
		{"sqlite:///var/lib/promokit.db", DatabaseSQLite, "/var/lib/promokit.db"},
		{"sqlite://rel/promokit.db", DatabaseSQLite, "rel/promokit.db"},
		{"postgres://u@h/db", DatabasePostgres, "postgres://u@h/db"},
		{"postgresql://u@h/db?sslmode=disable", DatabasePostgres, "postgresql://u@h/db?sslmode=disable"},
	}
	for _, tt := range tests {
		kind, target, err := ParseDatabaseURL(tt.url)
		if err != nil || kind != tt.kind || target != tt.target {
			t.Errorf("ParseDatabaseURL(%q) = %q, %q, %v; want %q, %q", tt.url, kind, target, err, tt.kind, tt.target)
		}
	}
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.db")
	for range 2 { // the second run finds nothing to do
		var stdout, stderr bytes.Buffer
		m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: env(nil)}
		if code := m.Exec(context.Background(), []string{"migrate", "--database-url", "sqlite:" + path}); code != 0 {
			t.Fatalf("migrate exited %d:\n%s", code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "migration version") {
			t.Errorf("migrate printed %q", stdout.String())
		}
	}
}

// TestMigrateUnreachable checks that a database that does not answer is a
// runtime failure (status 1) with a message that names it.
func TestMigrateUnreachable(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: env(nil)}
	args := []string{"migrate", "--log-format", "text", "--database-url", "postgres://u:s3cr3tpw@127.0.0.1:1/db?connect_timeout=5"}
	if code := m.Exec(context.Background(), args); code != 1 {
		t.Fatalf("migrate on a closed port exited %d, want 1:\n%s", code, stderr.String())
	}
	if out := stderr.String(); !strings.Contains(out, "connect to PostgreSQL at postgres://u:xxxxx@127.0.0.1:1/db") || strings.Contains(out, "s3cr3tpw") {
		t.Errorf("the error should name the database without its password:\n%s", out)
	}
}

// TestParseDatabaseURLSynchronous checks the one SQLite setting a URL may
// carry.
func TestParseDatabaseURLSynchronous(t *testing.T) {
	kind, target, err := ParseDatabaseURL("sqlite:data/promokit.db?synchronous=full")
	if err != nil || kind != DatabaseSQLite || target != "data/promokit.db?synchronous=full" {
		t.Fatalf("ParseDatabaseURL = %q, %q, %v", kind, target, err)
	}
	if _, _, err := ParseDatabaseURL("sqlite:data/promokit.db?synchronous=off"); err == nil {
		t.Fatal("synchronous=off accepted")
	}
}

// TestRedactErr checks that an error quoting a database's password, in
// any form the URL or keyword/value string carries it, is shown without.
func TestRedactErr(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, msg string }{
		{"postgres://u:s3cr3tpw@h/db", "cannot connect with s3cr3tpw"},
		{"postgres://u:s3cr3t%2Fpw@h/db", "parse postgres://u:s3cr3t%2Fpw@h/db: s3cr3t/pw"},
		{"postgres://h/db?password=s3cr3tpw", "failed: password=s3cr3tpw"},
		{"host=db password=s3cr3tpw", "failed: host=db password=s3cr3tpw"},
		{`host=db password='s3cr3t pw'`, "failed for s3cr3t pw: host=db password='s3cr3t pw'"},
	}
	for _, tt := range tests {
		got := redactErr(errors.New(tt.msg), tt.raw)
		if strings.Contains(got, "s3cr3t") || !strings.Contains(got, "xxxxx") {
			t.Errorf("redactErr(%q, %q) = %q", tt.msg, tt.raw, got)
		}
	}
}
