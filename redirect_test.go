package promokit

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPageURLProblem checks the form of page URLs, one row per way a
// hostile seller could make a marketplace link open another site, and the
// matching of a store's redirect hosts.
func TestPageURLProblem(t *testing.T) {
	t.Parallel()
	shop := []string{"shop.example.com", "*.shop.example.com"}
	for _, tc := range []struct {
		url   string
		hosts []string
		want  string
	}{
		// Valid pages.
		{"https://shop.example.com/mug", nil, ""},
		{"http://shop.example.com/", nil, ""},
		{"HTTPS://Shop.Example.COM/Mug?c=1#top", nil, ""},
		{"https://shop.example.com:8443/mug", nil, ""},
		{"https://xn--bcher-kva.example/", nil, ""},
		{"https://shop.example.com/caf%C3%A9%20noir", nil, ""},
		{"https://shop.example.com//evil.example", nil, ""}, // a path of shop.example.com
		{"https://shop.example.com/#@evil.example", nil, ""},
		{"https://a-b.c0.example/", nil, ""},
		{"https://" + strings.Repeat("a", 63) + ".example/", nil, ""},

		// User-info: browsers open the host after the @.
		{"https://shop.example@evil.example/", nil, URLUserInfo},
		{"https://shop.example.com:pass@evil.example/", nil, URLUserInfo},
		{"https://@evil.example/", nil, URLUserInfo},
		{"https://shop.example.com%40@evil.example/", nil, URLUserInfo},
		{"https://user@shop.example.com/", shop, URLUserInfo},

		// Not an absolute http or https URL.
		{"javascript:alert(1)", nil, EInvalid},
		{"data:text/html,hi", nil, EInvalid},
		{"ftp://shop.example.com/", nil, EInvalid},
		{"file:///etc/passwd", nil, EInvalid},
		{"//evil.example/", nil, EInvalid},
		{"/mug", nil, EInvalid},
		{"https:shop.example.com/mug", nil, EInvalid},
		{"https:///mug", nil, EInvalid},
		{"https://", nil, EInvalid},
		{"", nil, EInvalid},
		{"https://shop.example.com/" + strings.Repeat("a", MaxPageURL), nil, EInvalid},

		// Characters browsers read otherwise than Go does.
		{`https://evil.example\.shop.example.com/`, nil, EInvalid},
		{`https://shop.example.com\@evil.example/`, nil, EInvalid},
		{`https://shop.example.com/\evil.example`, nil, EInvalid},
		{"https://shop.example.com/a b", nil, EInvalid},
		{" https://shop.example.com/", nil, EInvalid},
		{"https://shop.example.com/\t", nil, EInvalid},
		{"https://shop.exa\nmple.com/", nil, EInvalid},
		{"https://shop.example.com/\x00", nil, EInvalid},
		{"https://shop.example.com/\x7f", nil, EInvalid},
		{"https://bücher.example/", nil, EInvalid},
		{"https://shop.example.com/café", nil, EInvalid},
		{"https://shop.example.com/\u00a0", nil, EInvalid},
		{"https://shop.example.com/\u202e", nil, EInvalid},
		{"https://shop%2eexample.com/", nil, EInvalid},
		{"https://evil.example%23.shop.example.com/", nil, EInvalid},

		// Hosts that are no domain name.
		{"https://127.0.0.1/", nil, URLInvalidHost},
		{"https://127.1/", nil, URLInvalidHost},
		{"https://2130706433/", nil, URLInvalidHost},
		{"https://0x7f.0x1/", nil, URLInvalidHost},
		{"https://0x7f000001/", nil, URLInvalidHost},
		{"https://[::1]/", nil, URLInvalidHost},
		{"https://[::ffff:127.0.0.1]:8080/", nil, URLInvalidHost},
		{"http://localhost/", nil, URLInvalidHost},
		{"http://localhost:8080/", nil, URLInvalidHost},
		{"https://shop.example.com./", nil, URLInvalidHost},
		{"https://.shop.example.com/", nil, URLInvalidHost},
		{"https://shop..example.com/", nil, URLInvalidHost},
		{"https://-shop.example.com/", nil, URLInvalidHost},
		{"https://shop-.example.com/", nil, URLInvalidHost},
		{"https://shop_1.example.com/", nil, URLInvalidHost},
		{"https://shop.example.com$/", nil, URLInvalidHost},
		{"https://" + strings.Repeat("a", 64) + ".example/", nil, URLInvalidHost},
		{"https://" + strings.Repeat("a.", 127) + "example/", nil, URLInvalidHost},
		{"https://shop.example.com:/", nil, URLInvalidHost},
		{"https://shop.example.com:0/", nil, URLInvalidHost},
		{"https://shop.example.com:080/", nil, URLInvalidHost},
		{"https://shop.example.com:65536/", nil, URLInvalidHost},

		// The store's redirect hosts.
		{"https://shop.example.com/mug", shop, ""},
		{"https://SHOP.example.COM/mug", shop, ""},
		{"https://www.shop.example.com/mug", shop, ""},
		{"https://a.b.shop.example.com/mug", shop, ""},
		{"https://shop.example.com:8443/mug", shop, ""},
		{"https://evil.example/", shop, URLHostNotAllowed},
		{"https://evilshop.example.com/", shop, URLHostNotAllowed},
		{"https://shop.example.com.evil.example/", shop, URLHostNotAllowed},
		{"https://example.com/", shop, URLHostNotAllowed},
		{"https://shop.example.org/", shop, URLHostNotAllowed},
		{"https://example.com/", []string{"*.example.com"}, URLHostNotAllowed},
		{"https://www.example.com/", []string{"www.example.com"}, ""},
		{"https://cdn.www.example.com/", []string{"www.example.com"}, URLHostNotAllowed},
		{"https://xn--bcher-kva.example/", []string{"xn--bcher-kva.example"}, ""},
	} {
		code, msg := PageURLProblem("url", tc.url, tc.hosts)
		if code != tc.want {
			t.Errorf("PageURLProblem(%q, %v) = %q (%s), want %q", tc.url, tc.hosts, code, msg, tc.want)
		}
		if code != "" && !strings.HasPrefix(msg, "url ") {
			t.Errorf("PageURLProblem(%q): message %q does not name the field", tc.url, msg)
		}
	}
}

// TestNormalizeRedirectHosts checks the entries a store's redirect hosts
// accept and the form they are kept in.
func TestNormalizeRedirectHosts(t *testing.T) {
	t.Parallel()
	got, err := NormalizeRedirectHosts([]string{"Shop.Example.COM", "*.shop.example.com", "shop.example.com", "XN--bcher-kva.example"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"shop.example.com", "*.shop.example.com", "xn--bcher-kva.example"}, got); diff != "" {
		t.Fatalf("normalised hosts (-want +got):\n%s", diff)
	}
	if got, err := NormalizeRedirectHosts(nil); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no hosts: %#v, %v", got, err)
	}
	for _, bad := range []string{
		"", "*", "*.", "*.com", "com", "localhost", "https://shop.example.com", "shop.example.com/", "shop.example.com:443",
		"user@shop.example.com", "*.*.example.com", "a.*.example.com", "*example.com", "shop.example.com.", " shop.example.com",
		"bücher.example", "127.0.0.1", "[::1]", "shop_1.example.com", strings.Repeat("a", 64) + ".example",
	} {
		_, err := NormalizeRedirectHosts([]string{"ok.example.com", bad})
		var e *Error
		if !errors.As(err, &e) || e.Code != EInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "redirect_hosts/1" {
			t.Errorf("NormalizeRedirectHosts(%q) = %v, want one invalid field redirect_hosts/1", bad, err)
		}
	}
	many := make([]string, MaxRedirectHosts+1)
	for i := range many {
		many[i] = "shop.example.com"
	}
	if _, err := NormalizeRedirectHosts(many); ErrorCode(err) != EInvalid {
		t.Errorf("%d hosts: %v, want invalid", len(many), err)
	}
	if _, err := NormalizeRedirectHosts(many[:MaxRedirectHosts]); err != nil {
		t.Errorf("%d hosts: %v", MaxRedirectHosts, err)
	}
}
