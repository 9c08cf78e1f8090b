package promokit

import (
	"crypto/rand"
	"encoding/base64"
	"time"
)

// Affiliate program (DOMAIN.md section A).

// Programs that pay partners.
const (
	ProgramAffiliate = "affiliate"
)

// Membership is one period of a store in the affiliate program (A1, A2):
// from JoinedAt until ExitsAt, the 0:00 after the day the store asked to
// exit (nil while it has not asked). A store that exits and rejoins has one
// membership per period; the latest is the one in force.
type Membership struct {
	ID      string `json:"id"`
	StoreID string `json:"store_id"`
	// URL is the store's page that its store-wide links open.
	URL             string     `json:"url"`
	JoinedAt        time.Time  `json:"joined_at"`
	ExitRequestedAt *time.Time `json:"exit_requested_at,omitempty"`
	ExitsAt         *time.Time `json:"exits_at,omitempty"`
}

// ActiveAt reports whether the membership covers t: joined at or before t
// and not exited by t.
func (m *Membership) ActiveAt(t time.Time) bool {
	return m != nil && !t.Before(m.JoinedAt) && (m.ExitsAt == nil || t.Before(*m.ExitsAt))
}

// Rate is one commission rate of a store's affiliate program, in force from
// EffectiveAt until the next rate of the same product (A1, A4). ProductID
// "" is the general rate, which every product without its own rate takes;
// Removed marks the end of a product's own rate (the product takes the
// general rate again). Rates are never edited: each change is a new row, so
// the rate of any past order can be found.
type Rate struct {
	ID          int64       `json:"id"`
	StoreID     string      `json:"store_id"`
	ProductID   string      `json:"product_id"`
	Rate        BasisPoints `json:"rate_bp"`
	Removed     bool        `json:"removed,omitempty"`
	EffectiveAt time.Time   `json:"effective_at"`
}

// Link is an affiliate's link to a product of a store or to the store
// itself (ProductID ""). GET /r/{token} records a click and redirects to
// URL, the product's (or store's) page when the link was created.
type Link struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	PartnerID string    `json:"partner_id"`
	StoreID   string    `json:"store_id"`
	ProductID string    `json:"product_id"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

// Click flags: a click is always stored; a flagged one never attributes.
const (
	ClickBot   = "bot"   // the user agent is a crawler or a link preview
	ClickFlood = "flood" // the visitor opened the link too often within the hour
)

// Click is one opening of a link. No address is stored: the visitor is
// the first-party cookie's random id.
type Click struct {
	ID        int64     `json:"id"`
	LinkID    string    `json:"link_id"`
	StoreID   string    `json:"store_id"`
	PartnerID string    `json:"partner_id"`
	VisitorID string    `json:"visitor_id"`
	ClickedAt time.Time `json:"clicked_at"`
	Referrer  string    `json:"referrer"`
	UserAgent string    `json:"user_agent"`
	Flag      string    `json:"flag,omitempty"`
}

// ClickTarget is what a click needs: the link, its store's latest
// membership (nil when the store never joined) and its store's redirect
// hosts (Store.RedirectHosts), which the link's URL must still satisfy.
type ClickTarget struct {
	Link          *Link
	Membership    *Membership
	RedirectHosts []string
}

// Link tokens and visitor ids.
const (
	// tokenBytes gives 96 random bits: 16 characters.
	tokenBytes   = 12
	visitorBytes = 16
)

// NewLinkToken returns a new random link token: 16 URL-safe characters
// from 96 bits of the CSPRNG, so tokens cannot be enumerated.
func NewLinkToken() string { return randomToken(tokenBytes) }

// NewVisitorID returns a new random visitor id: 22 URL-safe characters.
func NewVisitorID() string { return randomToken(visitorBytes) }

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidLinkToken reports whether s has the form of a link token; anything
// else is answered 404 without a query.
func ValidLinkToken(s string) bool { return validToken(s, tokenBytes) }

// ValidVisitorID reports whether s has the form of a visitor id.
func ValidVisitorID(s string) bool { return validToken(s, visitorBytes) }

func validToken(s string, n int) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(n) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
