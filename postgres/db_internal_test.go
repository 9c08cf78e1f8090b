package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/promokit/promokit/storage"
)

// TestConstraintViolation checks the one function that reads driver
// errors, and the storage errors that createErr makes of them.
func TestConstraintViolation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want violation
		is   error // of createErr(err, "store", "sto_1", "promotion", "prm_1"); nil: none of storage's
	}{
		{"code value", &pgconn.PgError{Code: "23505", ConstraintName: "codes_code_key"}, codeTaken, storage.ErrTaken},
		{"wrapped code value", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505", ConstraintName: "codes_code_key"}), codeTaken, storage.ErrTaken},
		{"primary key", &pgconn.PgError{Code: "23505", ConstraintName: "stores_pkey"}, uniqueViolation, storage.ErrExists},
		{"foreign key", &pgconn.PgError{Code: "23503", ConstraintName: "codes_promotion_id_fkey"}, foreignKeyViolation, storage.ErrNotFound},
		{"not null", &pgconn.PgError{Code: "23502"}, noViolation, nil},
		{"other error", errors.New("connection reset"), noViolation, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := constraintViolation(tc.err); got != tc.want {
				t.Errorf("constraintViolation = %v, want %v", got, tc.want)
			}
			err := createErr(tc.err, "store", "sto_1", "promotion", "prm_1")
			var se *storage.Error
			if tc.is != nil && !errors.Is(err, tc.is) || tc.is == nil && errors.As(err, &se) {
				t.Errorf("createErr = %v, want %v", err, tc.is)
			}
			if tc.is == nil && !errors.Is(err, tc.err) {
				t.Errorf("createErr = %v, does not wrap %v", err, tc.err)
			}
		})
	}
}

// TestWhere checks the placeholders of the list query builder.
func TestWhere(t *testing.T) {
	t.Parallel()
	var w where
	if got := w.sql(); got != "" {
		t.Errorf("empty where = %q", got)
	}
	w.add("a = ?", 1)
	now := w.arg(2)
	w.add("b > ? AND c <= "+now+" AND d = ?", 3, 4)
	w.add("e")
	want := " WHERE a = $1 AND b > $3 AND c <= $2 AND d = $4 AND e"
	if got := w.sql(); got != want {
		t.Errorf("where = %q, want %q", got, want)
	}
	if len(w.args) != 4 || w.args[0] != 1 || w.args[1] != 2 || w.args[2] != 3 || w.args[3] != 4 {
		t.Errorf("args = %v", w.args)
	}
}
