package promokit

import "context"

// Role is what a key may do.
type Role string

const (
	// RoleAdmin is the marketplace operator: everything, everywhere.
	RoleAdmin Role = "admin"
	// RoleSeller manages one store: its promotions, codes and programs.
	RoleSeller Role = "seller"
	// RolePartner is one partner account (affiliate, influencer, agency or
	// promoter): it sees only its own codes, links and earnings.
	RolePartner Role = "partner"
	// RoleCheckout is a server-to-server key of a shop's checkout, for one
	// store or, with no store, for all of them.
	RoleCheckout Role = "checkout"
	// RoleStorefront is a key of a shop's buyer-facing pages, bound to one
	// store. It may only price that store's carts with codes, and learns
	// of a code that does not apply only that it is not valid, never
	// why: a storefront key cannot tell whether a code exists.
	RoleStorefront Role = "storefront"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleSeller, RolePartner, RoleCheckout, RoleStorefront:
		return true
	}
	return false
}

// Principal is who makes a request: the role and the store or partner its
// key is bound to. KeyID identifies the key for idempotency and audit.
type Principal struct {
	KeyID     string
	Role      Role
	StoreID   string // seller, storefront, and checkout bound to one store
	PartnerID string // partner
}

// Scope restricts what a query may return: empty fields restrict nothing.
// Every read of a store or partner-owned object takes one, so that access is
// decided inside the query and a foreign object is simply not found.
type Scope struct {
	StoreID   string
	PartnerID string
}

// Scope returns the visibility of p: a seller, storefront or bound checkout
// key sees one store, a partner its own objects, admin and unbound checkout
// keys all.
func (p Principal) Scope() Scope {
	switch p.Role {
	case RoleSeller, RoleCheckout, RoleStorefront:
		return Scope{StoreID: p.StoreID}
	case RolePartner:
		return Scope{PartnerID: p.PartnerID}
	}
	return Scope{}
}

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal of ctx and whether there is one.
func PrincipalFromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
