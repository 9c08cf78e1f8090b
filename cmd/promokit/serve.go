package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/docs"
	"github.com/promokit/promokit/engine"
	promohttp "github.com/promokit/promokit/http"
	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/sqlite"
	"github.com/promokit/promokit/storage"
)

// Intervals of the background workers.
const (
	jobPoll       = time.Second
	purgeInterval = time.Hour
)

// openDB opens the database of the configuration, without migrating it.
func (m *Main) openDB(ctx context.Context) (storage.DB, error) {
	kind, target, err := ParseDatabaseURL(m.Config.DatabaseURL)
	if err != nil {
		return nil, usageError{err}
	}
	switch kind {
	case DatabaseSQLite:
		s, err := sqlite.Open(ctx, target)
		if err != nil {
			return nil, fmt.Errorf("open SQLite database %s: %w", target, err)
		}
		return s, nil
	default:
		s, err := postgres.Open(ctx, target)
		if err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL at %s: %v", redactURL(target), redactErr(err, target))
		}
		return s, nil
	}
}

// openAndMigrate opens the database into m.DB and applies its migrations.
// Migrate is safe when several processes start at once.
func (m *Main) openAndMigrate(ctx context.Context) error {
	db, err := m.openDB(ctx)
	if err != nil {
		return err
	}
	m.DB = db
	started := time.Now()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	versions := db.MigrationVersions()
	var latest int64
	if len(versions) > 0 {
		latest = versions[len(versions)-1]
	}
	m.logger.Debug("migrations applied", "version", latest, "took", time.Since(started).String())
	return nil
}

// runServe starts the API: it listens, opens and migrates the database,
// bootstraps an empty one, starts the workers, loads the demo when asked,
// and serves. It returns once requests are being served.
func (m *Main) runServe(ctx context.Context) error {
	started := time.Now()
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.ln = ln
	if err := m.openAndMigrate(ctx); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.Service = engine.New(engine.Config{
		DB:         m.DB,
		Logger:     m.logger,
		Metrics:    engine.NewMetrics(reg),
		ClickFlush: m.Config.ClickFlush,

		SessionIdle:     m.Config.SessionIdle,
		SessionLifetime: m.Config.SessionLifetime,
	})

	secret, created, err := m.Service.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap the database: %w", err)
	}
	// adminExport is the demo's line that puts the admin key into a shell
	// variable: from the key file when the key went there.
	var adminExport string
	if created {
		m.adminCreated = true
		if m.announceAdminKey(secret) {
			adminExport = "export ADMIN_KEY=$(cat " + shellQuote(m.Config.AdminKeyFile) + ")"
		} else {
			adminExport = "export ADMIN_KEY=" + secret
		}
	}

	workerCtx, stop := context.WithCancel(context.Background())
	m.stopWorkers = stop
	m.workers.Go(func() { m.Service.RunJobs(workerCtx, jobPoll) })
	m.workers.Go(func() { m.purgeLoop(workerCtx) })

	m.HTTP = promohttp.NewServer(promohttp.Config{
		Service:     m.Service,
		Logger:      m.logger,
		Registry:    reg,
		Ready:       m.ready,
		OpenAPI:     docs.OpenAPI,
		ImportLimit: m.Config.ImportLimit,
		ProofLimit:  m.Config.ProofLimit,
		TrustProxy:  m.Config.TrustProxy,
		// The server reads 0 as its default and a negative value as off.
		LookupFailures:     cmp.Or(m.Config.LookupFailures, -1),
		KeyLookupFailures:  cmp.Or(m.Config.KeyLookupFailures, -1),
		AuthFailures:       cmp.Or(m.Config.AuthFailures, -1),
		GlobalAuthFailures: cmp.Or(m.Config.GlobalAuthFailures, -1),
		// Here 0 is no limit; the server reads a negative value so.
		Limits: promohttp.ConnLimits{
			ReadTimeout:     cmp.Or(m.Config.ReadTimeout, -1),
			WriteTimeout:    cmp.Or(m.Config.WriteTimeout, -1),
			IdleTimeout:     cmp.Or(m.Config.IdleTimeout, -1),
			ImportTimeout:   cmp.Or(m.Config.ImportTimeout, -1),
			MaxConnsPerAddr: cmp.Or(m.Config.MaxConnsPerAddr, -1),
		},
		DisableConsole: !m.Config.Console,
	})
	m.server = m.HTTP.HTTPServer()
	m.server.ErrorLog = slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn)
	m.serveErr = make(chan error, 1)
	go func() {
		if err := m.server.Serve(m.HTTP.Listener(ln)); !errors.Is(err, http.ErrServerClosed) {
			m.serveErr <- err
		}
	}()

	if m.Config.Demo {
		if err := m.loadDemo(ctx, adminExport); err != nil {
			return fmt.Errorf("load the demo: %w", err)
		}
	}
	kind, _, _ := ParseDatabaseURL(m.Config.DatabaseURL)
	m.logger.Info("promokit is serving", "url", m.URL(), "database", kind,
		"version", promokit.Version, "startup", time.Since(started).Round(time.Millisecond).String())
	return nil
}

// URL returns the base URL of the API once serve listens, with an
// unspecified listening address replaced by the loopback one so that the
// URL can be pasted into curl.
func (m *Main) URL() string {
	if m.ln == nil {
		return ""
	}
	addr, ok := m.ln.Addr().(*net.TCPAddr)
	if !ok {
		return "http://" + m.ln.Addr().String()
	}
	ip := addr.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(addr.Port))
}

// ready is the API's readiness check: not ready while shutting down or when
// the database does not answer.
func (m *Main) ready(ctx context.Context) error {
	if m.closing.Load() {
		return promokit.Errorf(promokit.EUnavailable, "the server is shutting down")
	}
	return m.DB.Ping(ctx)
}

// announceAdminKey shows the admin key created on the first start: in the
// admin key file when one is configured, and on standard output otherwise
// or when the file cannot be written, since the key can never be shown
// again. It reports whether the key went to the file.
func (m *Main) announceAdminKey(secret string) (inFile bool) {
	if path := m.Config.AdminKeyFile; path != "" {
		err := writeSecretFile(path, secret)
		if err == nil {
			fmt.Fprintf(m.Stdout, "promokit: created the first admin key and wrote it to %s (mode 0600).\n", path)
			return true
		}
		m.logger.Error("could not write the admin key file; printing the key instead", "path", path, "err", err)
	}
	fmt.Fprintf(m.Stdout, `
========================================================================
promokit: this is a new database, so an admin key was created:

    %s

It is shown this once and only its hash is stored: keep it somewhere
safe. Use it as:

    curl -H "Authorization: Bearer %s" %s/v1/settings
========================================================================

`, secret, secret, m.URL())
	return false
}

// shellQuote returns s quoted for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeSecretFile writes secret and a newline to path, readable by its
// owner only. An existing file is replaced.
func writeSecretFile(path, secret string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".promokit-key-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// purgeLoop deletes expired idempotency records, the failed look-up
// counts of ended windows and the console sessions that time ended, now
// and then every hour until ctx ends.
func (m *Main) purgeLoop(ctx context.Context) {
	t := time.NewTicker(purgeInterval)
	defer t.Stop()
	for {
		n, err := m.Service.PurgeIdempotency(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			m.logger.Error("purge idempotency records", "err", err)
		case n > 0:
			m.logger.Info("purged idempotency records", "count", n)
		}
		n, err = m.Service.PurgeLookupFailures(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			m.logger.Error("purge failed look-up counts", "err", err)
		case n > 0:
			m.logger.Debug("purged failed look-up counts", "count", n)
		}
		n, err = m.Service.PurgeSessions(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			m.logger.Error("purge ended console sessions", "err", err)
		case n > 0:
			m.logger.Debug("purged ended console sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops what Run started, in order: it stops accepting connections
// and waits up to the shutdown timeout for requests in flight, closing
// those still open after it; then it stops the workers and closes the
// database. It is safe to call more than once and after a failed Run.
func (m *Main) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Main) close() error {
	m.closing.Store(true)
	var errs []error
	if m.server != nil {
		timeout := m.Config.ShutdownTimeout
		if timeout <= 0 {
			timeout = DefaultShutdownTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drain requests: %w", err))
			_ = m.server.Close()
		}
		cancel()
	} else if m.ln != nil {
		_ = m.ln.Close()
	}
	if m.Service != nil {
		// Requests are drained: write the clicks they queued.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := m.Service.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("write queued clicks: %w", err))
		}
		cancel()
	}
	if m.stopWorkers != nil {
		m.stopWorkers()
		m.workers.Wait()
	}
	if m.DB != nil {
		if err := m.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close the database: %w", err))
		}
	}
	return errors.Join(errs...)
}
