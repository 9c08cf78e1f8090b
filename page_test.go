package promokit_test

import (
	"testing"

	"github.com/promokit/promokit"
)

func TestPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit, size, bound int
	}{
		{0, 100, 100}, {-1, 100, 100}, {1, 1, 1}, {1000, 1000, 1000}, {1001, 1001, 100}, {10_000, 10_000, 100},
	} {
		p := promokit.Page{Limit: tc.limit}
		if got := p.Size(); got != tc.size {
			t.Errorf("Size of limit %d = %d, want %d", tc.limit, got, tc.size)
		}
		if p.Bound(); p.Limit != tc.bound {
			t.Errorf("Bound of limit %d = %d, want %d", tc.limit, p.Limit, tc.bound)
		}
	}
	for _, tc := range []struct {
		after string
		want  int64
		code  string
	}{
		{"", 0, ""}, {"0", 0, ""}, {"42", 42, ""}, {"9223372036854775807", 1<<63 - 1, ""},
		{"-1", 0, promokit.EInvalid}, {"1x", 0, promokit.EInvalid}, {"9223372036854775808", 0, promokit.EInvalid},
	} {
		got, err := promokit.Page{After: tc.after}.IDAfter()
		if got != tc.want || tc.code == "" && err != nil || tc.code != "" && promokit.ErrorCode(err) != tc.code {
			t.Errorf("IDAfter(%q) = %d, %v; want %d, code %q", tc.after, got, err, tc.want, tc.code)
		}
	}
}
