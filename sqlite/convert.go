package sqlite

import (
	"database/sql"
	"time"
)

// The conversions between Go values and SQLite columns: times are INTEGER
// microseconds since the Unix epoch, booleans INTEGER 0 or 1, and optional
// values NULL when absent.

// micros returns t as microseconds since the Unix epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros returns the UTC time of a microsecond count.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// nullMicros returns *t as microseconds, or nil (NULL) when t is nil.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// timePtr returns the time of a nullable microsecond column.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullInt returns *n, or nil (NULL) when n is nil.
func nullInt(n *int64) any {
	if n == nil {
		return nil
	}
	return *n
}

// intPtr returns the value of a nullable INTEGER column.
func intPtr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	n := v.Int64
	return &n
}

// boolInt returns b as 0 or 1.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// nonNil returns b, or an empty slice for nil, for NOT NULL BLOB columns.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
