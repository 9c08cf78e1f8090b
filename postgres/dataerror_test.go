package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// TestDataError checks which errors of the server are a value it refuses,
// for which the engine runs a batch again in halves to find the member
// that holds the value, and which fail whatever the values, answered to
// every member at once. The errors come from the server itself, but for
// the conflicts between transactions, which are made up.
func TestDataError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpenStore(t)
	conn, err := pgx.Connect(ctx, MustOpenSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	exec := func(sql string, args ...any) error {
		_, err := conn.Exec(ctx, sql, args...)
		return err
	}
	if err := exec(`CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL CHECK (v <> 'no'))`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`CREATE INDEX ON t (v)`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`INSERT INTO t VALUES (1, 'one')`); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, canceledErr := conn.Exec(canceled, `SELECT 1`)
	_, refused := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5")
	timeout := func() error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 1`); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_sleep(1)`)
		return err
	}
	nulName := s.Write(ctx, func(tx storage.Tx) error {
		return tx.StoreCreate(ctx, &promokit.Store{ID: "sto_1", Name: "A\x00B", CreatedAt: time.Now()})
	})
	tests := []struct {
		name  string
		err   error
		state string // the SQLSTATE of an error of the server
		want  bool
	}{
		{"a NUL in a text", exec(`SELECT $1::text`, "A\x00B"), "22021", true},
		{"invalid UTF-8", exec(`SELECT $1::text[]`, []string{"A\xffB"}), "22021", true},
		{"a NUL in JSON", exec(`SELECT $1::jsonb`, `"\u0000"`), "22P05", true},
		{"a number out of range", exec(`SELECT 2147483647 + $1::int`, 1), "22003", true},
		{"a store's name holding a NUL, through the store", nulName, "22021", true},
		{"wrapped", fmt.Errorf("postgres: list codes: %w", exec(`SELECT $1::text`, "\x00")), "22021", true},
		{"unique", exec(`INSERT INTO t VALUES (1, 'again')`), "23505", true},
		{"not null", exec(`INSERT INTO t VALUES (2, NULL)`), "23502", true},
		{"check", exec(`INSERT INTO t VALUES (3, 'no')`), "23514", true},
		{"an index row too large", exec(`INSERT INTO t SELECT 4, string_agg(md5(i::text), '') FROM generate_series(1, 1000) i`), "54000", true},
		{"syntax", exec(`SELEC 1`), "42601", false},
		{"no such table", exec(`SELECT * FROM nowhere`), "42P01", false},
		{"statement timeout", timeout(), "57014", false},
		{"canceled", canceledErr, "", false},
		{"connection refused", refused, "", false},
		{"deadlock", &pgconn.PgError{Code: "40P01"}, "40P01", false},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, "40001", false},
		{"too many connections", &pgconn.PgError{Code: "53300"}, "53300", false},
		{"a code too short", &pgconn.PgError{Code: "2"}, "2", false},
		{"other error", errors.New("connection reset"), "", false},
	}
	for _, tc := range tests {
		var pe *pgconn.PgError
		if tc.err == nil || (tc.state != "") != errors.As(tc.err, &pe) || pe != nil && pe.Code != tc.state {
			t.Errorf("%s: error %v, want SQLSTATE %q", tc.name, tc.err, tc.state)
		}
		if got := s.DataError(tc.err); got != tc.want {
			t.Errorf("%s: DataError(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if s.DataError(nil) {
		t.Error("DataError(nil) = true")
	}
}
