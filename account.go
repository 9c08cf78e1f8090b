package promokit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"
)

// Store is one seller's shop in the marketplace. Every promotion belongs to
// one store. A store that runs under the P4 policy (PartnerPromoCodes) may
// only create promo codes within P4's limits.
type Store struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	PartnerPromoCodes bool   `json:"partner_promo_codes"`
	// MaxPromotionsPerOrder is how many promotions one order may combine
	// at checkout; 0 is no limit.
	MaxPromotionsPerOrder int64 `json:"max_promotions_per_order"`
	// RedirectHosts are the store's domains, which the marketplace's
	// admin sets: when there are any, the pages its affiliate links open
	// must be on one of them (an exact host, or "*.example.com" for the
	// hosts below example.com), when saved and when a link redirects.
	// Empty, any domain will do. See HostAllowed.
	RedirectHosts []string  `json:"redirect_hosts"`
	CreatedAt     time.Time `json:"created_at"`
}

// Validate checks the store's fields.
func (s *Store) Validate() error {
	var v Validation
	checkName(&v, "name", s.Name)
	if s.MaxPromotionsPerOrder < 0 || s.MaxPromotionsPerOrder > 100 {
		v.Add("max_promotions_per_order", "out_of_range", "max_promotions_per_order must be between 0 (no limit) and 100")
	}
	return v.Err()
}

// PartnerKind is what a partner does for the marketplace.
type PartnerKind string

// Partner kinds.
const (
	PartnerAffiliate  PartnerKind = "affiliate"
	PartnerInfluencer PartnerKind = "influencer"
	PartnerAgency     PartnerKind = "agency"
	PartnerPromoter   PartnerKind = "promoter"
)

// Partner is someone who brings sales and is paid for them.
type Partner struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Kind      PartnerKind `json:"kind"`
	CreatedAt time.Time   `json:"created_at"`
}

// Validate checks the partner's fields.
func (p *Partner) Validate() error {
	var v Validation
	checkName(&v, "name", p.Name)
	switch p.Kind {
	case PartnerAffiliate, PartnerInfluencer, PartnerAgency, PartnerPromoter:
	default:
		v.Add("kind", "invalid", "kind must be affiliate, influencer, agency or promoter")
	}
	return v.Err()
}

// Product is a store's product as far as promotions need it: its id in the
// marketplace's catalogue, a name and the page that affiliate links open
// (URL: empty, or a page URL as PageURLProblem defines it).
type Product struct {
	StoreID   string    `json:"store_id"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the product's fields.
func (p *Product) Validate() error {
	var v Validation
	if !ValidProductID(p.ID) {
		v.Add("id", "invalid", "product id must have 1 to 64 printable ASCII characters")
	}
	checkName(&v, "name", p.Name)
	if p.URL != "" {
		// The store's redirect hosts are checked where the store is read.
		CheckPageURL(&v, "url", p.URL, nil)
	}
	return v.Err()
}

// ValidProductID reports whether id is a usable product id: 1 to 64
// printable ASCII characters without spaces.
func ValidProductID(id string) bool { return asciiID(id, 64) }

// asciiID reports whether id has 1 to max printable ASCII characters
// without spaces.
func asciiID(id string, max int) bool {
	if len(id) == 0 || len(id) > max {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

func checkName(v *Validation, field, name string) {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > 200 {
		v.Add(field, "invalid", "%s must have 1 to 200 characters", field)
		return
	}
	for _, r := range name {
		if r < ' ' || r == 0x7f {
			v.Add(field, "invalid", "%s must not contain control characters", field)
			return
		}
	}
}

// Key is an API key. Its secret is shown once, at creation, and only its
// SHA-256 is stored: the secret has 256 bits of entropy, so a slow hash
// would add nothing but latency to every request.
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	StoreID   string     `json:"store_id,omitempty"`
	PartnerID string     `json:"partner_id,omitempty"`
	Prefix    string     `json:"prefix"`
	Hash      []byte     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Principal returns the principal that k authenticates.
func (k *Key) Principal() Principal {
	return Principal{KeyID: k.ID, Role: k.Role, StoreID: k.StoreID, PartnerID: k.PartnerID}
}

// Validate checks that the role and its binding agree: a seller or
// storefront key needs a store, a partner key a partner, an admin key
// neither; a checkout key may be bound to a store.
func (k *Key) Validate() error {
	var v Validation
	if k.Name != "" {
		checkName(&v, "name", k.Name)
	}
	switch k.Role {
	case RoleAdmin:
		if k.StoreID != "" || k.PartnerID != "" {
			v.Add("role", "invalid", "an admin key is bound to no store or partner")
		}
	case RoleSeller:
		if k.StoreID == "" || k.PartnerID != "" {
			v.Add("store_id", "required", "a seller key needs a store_id and no partner_id")
		}
	case RolePartner:
		if k.PartnerID == "" || k.StoreID != "" {
			v.Add("partner_id", "required", "a partner key needs a partner_id and no store_id")
		}
	case RoleCheckout:
		if k.PartnerID != "" {
			v.Add("partner_id", "invalid", "a checkout key is bound to a store or to none")
		}
	case RoleStorefront:
		if k.StoreID == "" || k.PartnerID != "" {
			v.Add("store_id", "required", "a storefront key needs a store_id and no partner_id")
		}
	default:
		v.Add("role", "invalid", "role must be admin, seller, partner, checkout or storefront")
	}
	return v.Err()
}

// NewKeySecret returns a new random key secret, "pk_" then 43 characters.
func NewKeySecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "pk_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashKey returns the stored form of a key secret.
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// KeyPrefix is the part of a secret that listings show to tell keys apart.
func KeyPrefix(secret string) string {
	if len(secret) > 10 {
		return secret[:10]
	}
	return secret
}
