package load

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ServerConfig says how StartServer starts a server.
type ServerConfig struct {
	// CommandFunc returns the command that runs the promokit binary with
	// args, such as exec.Command(executable, args...). Required.
	CommandFunc func(args ...string) *exec.Cmd
	// DatabaseURL is where the server runs: empty for a new SQLite file in
	// a temporary directory; sqlite:PATH for a SQLite file that does not
	// exist yet; or a postgres:// URL, in whose database a new schema is
	// created for the run and dropped by Stop.
	DatabaseURL string
	// ReadyTimeout bounds the wait for the server to answer; zero means
	// one minute.
	ReadyTimeout time.Duration
}

// Server is a promokit serve process started by StartServer.
type Server struct {
	// URL is the server's base URL.
	URL string
	// AdminKey is the admin key the server created on its new database.
	AdminKey string
	// DatabaseURL is the database the server runs on: the SQLite file, or
	// the PostgreSQL URL with its schema in search_path.
	DatabaseURL string

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	dir     string
	logPath string
	logFile *os.File
	// dropSchema drops the run's PostgreSQL schema; nil on SQLite.
	dropSchema func(context.Context) error
}

// StartServer starts "promokit serve" as a child process on a free local
// port and a new database, waits until it answers /readyz and reads the
// admin key it created. The caller must call Stop. The server logs at
// level warn to a file in a temporary directory; LogTail shows its end.
func StartServer(ctx context.Context, cfg ServerConfig) (_ *Server, err error) {
	if cfg.CommandFunc == nil {
		return nil, errors.New("start the server: no command")
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = time.Minute
	}
	dir, err := os.MkdirTemp("", "promokit-bench-")
	if err != nil {
		return nil, fmt.Errorf("start the server: %w", err)
	}
	s := &Server{dir: dir, logPath: filepath.Join(dir, "server.log")}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if err := s.prepareDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("start the server: find a free port: %w", err)
	}
	s.URL = "http://" + addr
	keyFile := filepath.Join(dir, "admin.key")
	if s.logFile, err = os.Create(s.logPath); err != nil {
		return nil, fmt.Errorf("start the server: %w", err)
	}
	s.cmd = cfg.CommandFunc("serve", "--addr", addr, "--database-url", s.DatabaseURL,
		"--admin-key-file", keyFile, "--log-level", "warn", "--log-format", "text")
	s.cmd.Stdout, s.cmd.Stderr = s.logFile, s.logFile
	detach(s.cmd)
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return nil, fmt.Errorf("start the server: %w", err)
	}
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, cfg.ReadyTimeout); err != nil {
		return nil, err
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("the server created no admin key, so its database was not new: bench needs an empty database (%w)", err)
	}
	s.AdminKey = strings.TrimSpace(string(key))
	return s, nil
}

// prepareDatabase sets s.DatabaseURL to a new database of the kind that
// databaseURL names.
func (s *Server) prepareDatabase(ctx context.Context, databaseURL string) error {
	kind, target := databaseKind(databaseURL)
	switch {
	case databaseURL == "":
		s.DatabaseURL = "sqlite:" + filepath.Join(s.dir, "promokit.db")
	case kind == "sqlite":
		if _, err := os.Stat(target); err == nil {
			return fmt.Errorf("the SQLite file %s exists: bench starts its server on a new database; remove it or name another", target)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("the SQLite file %s: %w", target, err)
		}
		s.DatabaseURL = databaseURL
	case kind == "postgres":
		u, drop, err := newSchema(ctx, target)
		if err != nil {
			return err
		}
		s.DatabaseURL, s.dropSchema = u, drop
	default:
		return fmt.Errorf("database URL must start with sqlite: or postgres://")
	}
	return nil
}

// newSchema creates a schema with a new name in the PostgreSQL database
// at base and returns base with search_path set to it, and a function that
// drops it.
func newSchema(ctx context.Context, base string) (string, func(context.Context) error, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, errors.New("the PostgreSQL URL does not parse")
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("draw a schema name: %w", err)
	}
	schema := "promokit_bench_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls /readyz until it answers 200, the process exits or the
// timeout passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", s.URL+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("the server exited before it was ready (%v); its log ends with:\n%s", s.waitErr, s.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("wait for the server: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server did not answer %s/readyz within %s; its log ends with:\n%s", s.URL, timeout, s.LogTail())
		}
	}
}

// killedBy reports whether err is the exit of a process that a signal sig
// ended without it handling the signal. promokit serve handles SIGTERM and
// exits 0, but a binary that stands in for it in tests may not.
func killedBy(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// LogTail returns the last lines the server logged.
func (s *Server) LogTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// Stop stops the server with SIGTERM, or SIGKILL when it has not stopped
// 15 seconds later, then drops the run's PostgreSQL schema and removes the
// temporary directory with the SQLite file. It returns an error when the
// server had exited on its own or did not exit cleanly.
func (s *Server) Stop() error {
	var errs []error
	if s.cmd != nil {
		select {
		case <-s.exited:
			errs = append(errs, fmt.Errorf("the server exited during the run (%v); its log ends with:\n%s", s.waitErr, s.LogTail()))
		default:
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.exited:
				if s.waitErr != nil && !killedBy(s.waitErr, syscall.SIGTERM) {
					errs = append(errs, fmt.Errorf("the server stopped with %v; its log ends with:\n%s", s.waitErr, s.LogTail()))
				}
			case <-time.After(15 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.exited
				errs = append(errs, errors.New("the server did not stop within 15 s of SIGTERM and was killed"))
			}
		}
		s.cmd = nil
	}
	if s.logFile != nil {
		s.logFile.Close()
		s.logFile = nil
	}
	if s.dropSchema != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.dropSchema(ctx); err != nil {
			errs = append(errs, err)
		}
		cancel()
		s.dropSchema = nil
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", s.dir, err))
		}
		s.dir = ""
	}
	return errors.Join(errs...)
}
