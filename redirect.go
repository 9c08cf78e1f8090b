package promokit

import (
	"net/url"
	"strconv"
	"strings"
)

// Pages that affiliate links open. GET /r/{token} sends a buyer's browser
// to a URL that a seller wrote (a product's page, the store's page given
// on joining), so a hostile seller could make the marketplace's own links
// redirect anywhere. A page URL is therefore held to a strict form, which
// leaves no room for a browser to read it otherwise than Go does, and the
// marketplace may restrict each store's pages to the store's own domains
// (Store.RedirectHosts).
//
// The form: at most MaxPageURL bytes of printable ASCII without spaces or
// backslashes (an RFC 3986 URI: other characters are percent-encoded and an
// internationalised domain name is written in its xn-- form); scheme http
// or https; no user-info ("https://shop.example@evil.example/" opens
// evil.example); a host that is a domain name of at least two labels of
// letters, digits and hyphens whose last label starts with a letter (so
// no IP address in any of the forms browsers accept, such as 127.1 or
// 2130706433, no single-label name such as localhost, no trailing dot);
// an optional port from 1 to 65535.

// Limits of page URLs and redirect hosts.
const (
	MaxPageURL       = 2000 // bytes of a page URL
	MaxRedirectHosts = 50   // entries of a store's redirect_hosts
	maxHostName      = 253  // bytes of a DNS name
	maxHostLabel     = 63   // bytes of one of its labels
)

// Field error codes of page URLs and redirect hosts.
const (
	// URLUserInfo: the URL names a user (and password) before its host.
	URLUserInfo = "user_info"
	// URLInvalidHost: the host is not a domain name (an IP address, one
	// label, a bad port).
	URLInvalidHost = "invalid_host"
	// URLHostNotAllowed: the host is not among the store's redirect_hosts.
	URLHostNotAllowed = "host_not_allowed"
)

// PageURLProblem returns why raw cannot be a page that affiliate links
// redirect to, for a store whose redirect hosts are hosts (any domain when
// empty): a field error code ("invalid", URLUserInfo, URLInvalidHost or
// URLHostNotAllowed) and a message naming field. Both are "" when raw is
// a valid page URL.
func PageURLProblem(field, raw string, hosts []string) (code, message string) {
	if len(raw) > MaxPageURL {
		return EInvalid, field + " must have at most " + strconv.Itoa(MaxPageURL) + " bytes"
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c <= ' ' || c >= 0x7f:
			return EInvalid, field + " must be printable ASCII without spaces: percent-encode other characters " +
				"(%20 for a space) and write an internationalised domain name in its xn-- form"
		case c == '\\':
			return EInvalid, field + " must not contain a backslash, which browsers read as /"
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Opaque != "" || u.Host == "" {
		return EInvalid, field + " must be an absolute http or https URL such as https://shop.example.com/mug"
	}
	if u.User != nil {
		return URLUserInfo, field + " must not name a user before its host (user@ or user:password@): browsers open the host after the @"
	}
	host, port, hasPort := strings.Cut(u.Host, ":")
	if !ValidHostName(host) {
		return URLInvalidHost, field + " must have a domain name for host, such as shop.example.com: not an IP address, " +
			"not a single label such as localhost, no trailing dot"
	}
	if hasPort {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return URLInvalidHost, field + " must have a port from 1 to 65535 when it has one"
		}
	}
	if len(hosts) > 0 && !HostAllowed(host, hosts) {
		return URLHostNotAllowed, field + " must be a page of the store's domains (its redirect_hosts): " +
			strings.ToLower(host) + " is not one of them"
	}
	return "", ""
}

// CheckPageURL adds to v the problem of a page URL, if any (see
// PageURLProblem).
func CheckPageURL(v *Validation, field, raw string, hosts []string) {
	if code, msg := PageURLProblem(field, raw, hosts); code != "" {
		v.Add(field, code, "%s", msg)
	}
}

// ValidHostName reports whether h is a domain name a page may have: at
// least two labels of 1 to 63 ASCII letters, digits and hyphens, neither
// starting nor ending with a hyphen, at most 253 bytes in all, the last
// label starting with a letter. The last rule keeps out every form of IP
// address browsers accept, whose last part is a number (127.0.0.1, 127.1,
// 0x7f.1), while top-level domains start with a letter.
func ValidHostName(h string) bool {
	if len(h) > maxHostName {
		return false
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > maxHostLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i] | 0x20 // lower case for letters
			if !('a' <= c && c <= 'z' || '0' <= l[i] && l[i] <= '9' || l[i] == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1][0] | 0x20
	return 'a' <= last && last <= 'z'
}

// HostAllowed reports whether a page's host is among a store's redirect
// hosts, compared without regard to case: an entry "shop.example.com"
// allows that host only, and "*.example.com" any host below example.com
// (a.example.com, a.b.example.com) but not example.com itself. The port
// plays no part.
func HostAllowed(host string, hosts []string) bool {
	h := strings.ToLower(host)
	for _, p := range hosts {
		if suffix, ok := strings.CutPrefix(p, "*"); ok {
			if len(h) > len(suffix) && strings.HasSuffix(h, suffix) {
				return true
			}
		} else if h == p {
			return true
		}
	}
	return false
}

// NormalizeRedirectHosts checks a store's redirect hosts and returns them
// in lower case without repeats, in their order ([] for none). Each entry
// is a domain name (see ValidHostName) or "*." and one of at least two
// labels, such as *.example.com: no scheme, port, path or IP address, and
// an internationalised name in its xn-- form, as the pages' URLs must
// have it. Problems are an EInvalid error naming each entry
// (redirect_hosts/N).
func NormalizeRedirectHosts(in []string) ([]string, error) {
	var v Validation
	if len(in) > MaxRedirectHosts {
		v.Add("redirect_hosts", "out_of_range", "redirect_hosts has at most %d entries", MaxRedirectHosts)
		return nil, v.Err()
	}
	out := make([]string, 0, len(in))
	for i, e := range in {
		h := strings.ToLower(e)
		name := strings.TrimPrefix(h, "*.")
		if !ValidHostName(name) {
			v.Add("redirect_hosts/"+strconv.Itoa(i), "invalid",
				"a redirect host is a domain name such as shop.example.com, or *. and one such as *.example.com for every "+
					"host below it; no scheme, port, path or IP address, and an internationalised name in its xn-- form")
			continue
		}
		if !containsString(out, h) {
			out = append(out, h)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
