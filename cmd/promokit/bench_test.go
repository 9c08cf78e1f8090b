package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// benchCommand runs this test binary as the promokit binary (TestMain).
func benchCommand(_ string, args ...string) *exec.Cmd {
	list, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROMOKIT_TEST_EXEC="+string(list))
	return cmd
}

func TestBenchRejects(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "admin.key")
	if err := os.WriteFile(keyFile, []byte("pk_x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		message string
	}{
		{"no scenario", nil, "no scenario given: name one or more of redeem-hot, redeem-many, validate, healthz, baseline"},
		{"unknown scenario", []string{"redeem"}, `unknown scenario "redeem"`},
		{"bad clients", []string{"--clients", "1,x", "healthz"}, `--clients "1,x": "x" is not a client count from 1 to 4096`},
		{"zero clients", []string{"--clients", "0", "healthz"}, `"0" is not a client count`},
		{"duration", []string{"--duration", "0s", "healthz"}, "--duration must be positive"},
		{"duration syntax", []string{"--duration", "ten", "healthz"}, `invalid value "ten" for flag -duration`},
		{"unknown flag", []string{"--nope", "healthz"}, "flag provided but not defined: -nope"},
		{"limit", []string{"--limit", "-2", "redeem-hot"}, "--limit must be between 1 and"},
		{"codes", []string{"--codes", "1", "validate"}, "--codes must be between 2 and"},
		{"database", []string{"--database", "mysql://h/db", "healthz"}, "--database: database URL \"mysql://h/db\" must start with sqlite:"},
		{"compare with a target", []string{"--target", "http://127.0.0.1:1", "--admin-key-file", keyFile, "--compare", "promokit-before", "healthz"}, "--compare starts a second server beside the first: it does not go with --target"},
		{"target without key", []string{"--target", "http://127.0.0.1:1", "healthz"}, "--target needs --admin-key-file"},
		{"key without target", []string{"--admin-key-file", keyFile, "healthz"}, "--admin-key-file goes with --target"},
		{"baseline on a target without database", []string{"--target", "http://127.0.0.1:1", "--admin-key-file", keyFile, "baseline"}, "baseline with --target needs --database"},
		{"missing key file", []string{"--target", "http://127.0.0.1:1", "--admin-key-file", keyFile + ".gone", "healthz"}, "--admin-key-file: open"},
		{"every problem at once", []string{"--clients", "x", "--duration", "0s", "nope"}, `is not a client count from 1 to 4096
unknown scenario "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: env(nil)}
			if code := m.Exec(context.Background(), append([]string{"bench"}, tt.args...)); code != 2 {
				t.Errorf("exit status %d, want 2; stderr:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.message) || !strings.Contains(stderr.String(), `Run "promokit bench -h"`) {
				t.Errorf("stderr does not say %q:\n%s", tt.message, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %s", stdout.String())
			}
		})
	}
}

// TestBenchCompare runs promokit bench --compare: two servers side by side,
// each on a database of its own, the scenarios in alternated rounds on
// both, each server's rows, and the shares of the one bench would have run
// alone against the other's.
func TestBenchCompare(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"--compare", "promokit-before", "--rounds", "2", "--clients", "2", "--duration", "1s", "--warmup", "20ms", "redeem-hot", "healthz"}
			if db.name == "postgres" {
				args = append(args, "--database", db.fresh(t))
			}
			var (
				stdout, stderr syncBuffer
				mu             sync.Mutex
				paths          []string
			)
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: env(nil)}
			err := m.runBench(context.Background(), args, func(path string, args ...string) *exec.Cmd {
				mu.Lock()
				paths = append(paths, path)
				mu.Unlock()
				return benchCommand(path, args...)
			})
			if err != nil {
				t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			if !slices.Equal(paths, []string{"", "promokit-before"}) {
				t.Errorf("servers started from %q, want this binary then promokit-before", paths)
			}
			out := stdout.String()
			for _, want := range []string{
				"promokit-before:\nredeem-hot   " + db.name, "this build:\nredeem-hot   " + db.name,
				"\nthis build against promokit-before, the same scenarios in alternated rounds:\n",
				"  redeem-hot         2 clients: ", "  healthz            2 clients: ",
				"Consistency check of promokit-before's counters against its redemptions:\n  promokit: every usage counter equals its redemptions.",
				"Consistency check of this build's counters against its redemptions:\n  promokit: every usage counter equals its redemptions.",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("stdout has no %q:\n%s", want, out)
				}
			}
			if n := strings.Count(out, "    2 rounds: "); n != 4 {
				t.Errorf("%d scenarios report their 2 rounds, want 4 (2 scenarios on 2 servers):\n%s", n, out)
			}
			if !regexp.MustCompile(`redeem-hot +2 clients: [0-9,]+ ok/s = +[0-9.]+ % of [0-9,]+ ok/s; rounds [0-9.]+ / [0-9.]+ %`).MatchString(out) {
				t.Errorf("no share of redeem-hot with its two rounds:\n%s", out)
			}
			if strings.Contains(out, "!!!") {
				t.Errorf("stdout reports a failure:\n%s", out)
			}
		})
	}
}

func TestBenchHelp(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: env(nil)}
	if code := m.Exec(context.Background(), []string{"bench", "-h"}); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	for _, want := range []string{"Usage: promokit bench [flags] SCENARIO...", "redeem-hot", "baseline", "-clients", "-target"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help has no %q:\n%s", want, stderr.String())
		}
	}
}

// TestBench runs promokit bench as the binary does: it starts the server
// as a child process on a new database, runs redeem-hot, healthz and
// baseline briefly with the flags after the scenarios, checks exactness,
// runs promokit check, and removes its PostgreSQL schema at the end.
func TestBench(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"redeem-hot", "healthz", "baseline", "--clients", "1,2", "--duration", "150ms", "--warmup", "20ms", "--markdown"}
			var base string
			if db.name == "postgres" {
				base = db.fresh(t)
				args = append(args, "--database", base)
			}
			var stdout, stderr syncBuffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: env(nil)}
			if err := m.runBench(context.Background(), args, benchCommand); err != nil {
				t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			out := stdout.String()
			for _, want := range []string{
				"\nredeem-hot   " + db.name, "\nbaseline     " + db.name, "\nhealthz      " + db.name,
				"    exact: promotion prm_", "    exact: the hot row stored",
				"redeem-hot  vs baseline    1 client:", "redeem-hot  vs baseline   2 clients:",
				"promokit: every usage counter equals its redemptions.",
				"| date | nproc | database |", "Command: `promokit bench redeem-hot healthz baseline --clients 1,2",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("stdout has no %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "!!!") {
				t.Errorf("stdout reports a failure:\n%s", out)
			}
			if db.name == "sqlite" {
				// The server ran on a file in a directory of its own, removed
				// at the end.
				sm := regexp.MustCompile(`on sqlite:(\S+)/promokit\.db`).FindStringSubmatch(stderr.String())
				if sm == nil {
					t.Fatalf("stderr names no SQLite file:\n%s", stderr.String())
				}
				if _, err := os.Stat(sm[1]); !os.IsNotExist(err) {
					t.Errorf("the directory %s of the server's database is still there: %v", sm[1], err)
				}
			}
			if db.name == "postgres" {
				// The server ran in a schema of its own, dropped at the end.
				sm := regexp.MustCompile(`search_path=(promokit_bench_[0-9a-f]+)`).FindStringSubmatch(stderr.String())
				if sm == nil {
					t.Fatalf("stderr names no schema:\n%s", stderr.String())
				}
				conn, err := pgx.Connect(context.Background(), base)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(context.Background())
				var n int
				if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", sm[1]).Scan(&n); err != nil || n != 0 {
					t.Errorf("schema %s: %d left, %v", sm[1], n, err)
				}
			}
		})
	}
}

// TestBenchTarget measures a running server with --target, runs the
// baseline and the consistency check on its database with --database.
func TestBenchTarget(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			dbURL := db.fresh(t)
			keyFile := filepath.Join(t.TempDir(), "admin.key")
			srv := MustRunMain(t, "serve", "--database-url", dbURL, "--admin-key-file", keyFile, "--log-level", "error")
			args := []string{"--target", srv.URL(), "--admin-key-file", keyFile, "--database", dbURL,
				"--clients", "2", "--duration", "150ms", "--warmup", "0s", "--many-codes", "20", "redeem-many", "baseline"}
			var stdout, stderr syncBuffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: env(nil)}
			if err := m.runBench(context.Background(), args, func(string, ...string) *exec.Cmd {
				t.Error("bench started a server despite --target")
				return exec.Command("false")
			}); err != nil {
				t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			for _, want := range []string{"\nredeem-many  " + db.name, "redeem-many vs baseline", "every usage counter equals its redemptions"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout has no %q:\n%s", want, stdout.String())
				}
			}
			// The checkout key of the run is revoked: only the admin key is left.
			admin := client{t, srv.URL(), readKeyFile(t, keyFile)}
			live := 0
			for _, k := range admin.list("/v1/keys") {
				if k["revoked_at"] == nil {
					live++
				}
			}
			if live != 1 {
				t.Errorf("%d keys are live after the run, want the admin key only", live)
			}
		})
	}
}

// TestBenchNeedsNewDatabase refuses to start its server on a SQLite file
// that exists, since the server would create no admin key there.
func TestBenchNeedsNewDatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kept.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: env(nil)}
	err := m.runBench(context.Background(), []string{"--database", "sqlite:" + path, "healthz"}, benchCommand)
	if err == nil || !strings.Contains(err.Error(), "exists: bench starts its server on a new database") {
		t.Fatalf("bench on an existing file = %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the file is gone: %v", err)
	}
}
